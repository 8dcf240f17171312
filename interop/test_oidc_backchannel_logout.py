"""OpenID Connect Back-Channel Logout 1.0 against products written with others' libraries: the
one-file sample app under examples/ (authlib for sign-in, joserfc to check the logout token
against the JWKS) is signed into through Rampart, and when the person's Rampart session ends
(an admin deactivates them, they sign out everywhere else, they sign out) Rampart POSTs it a
logout token and the app's session ends. A product whose endpoint answers 500 is retried and
then given up on, audited, while the good one still gets its token; a client without a
back-channel URI and a client of another organisation get nothing; bad URIs are refused."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pyotp
import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from conftest import create_org, find_free_port, run_cli, run_cli_json, unique
from oidc_setup import csrf, make_provider, onward
from test_oidc_provider import client_session, code_flow

SAMPLE_APP = Path(__file__).resolve().parent.parent / "examples" / "oidc_sample_app.py"
EVENT = "http://schemas.openid.net/event/backchannel-logout"


class Receiver:
    """A product's back-channel logout endpoint that records what it is sent and answers
    `status` (200 for a product that took it, 500 for a broken one)."""

    def __init__(self, status: int):
        self.status = status
        self.received: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                with receiver.lock:
                    receiver.received.append({"path": self.path, "contentType": self.headers.get("Content-Type"),
                                              "form": parse_qs(body)})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def tokens(self) -> list[str]:
        with self.lock:
            return [r["form"]["logout_token"][0] for r in self.received]

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(status: int) -> Receiver:
        made.append(Receiver(status))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


class SampleApp:
    """examples/oidc_sample_app.py as a running product, and a person's browser on it."""

    def __init__(self, provider, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.client = provider.add_client(redirectUris=[f"{self.base}/callback"],
                                          backchannelLogoutUri=f"{self.base}/backchannel-logout",
                                          backchannelLogoutSessionRequired=True)
        assert self.client["backchannelLogoutUri"] == f"{self.base}/backchannel-logout"
        self.process = subprocess.Popen([sys.executable, str(SAMPLE_APP), "--issuer", provider.issuer,
                                         "--client-id", self.client["clientId"], "--client-secret", self.client["clientSecret"],
                                         "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                requests.get(self.base + "/", timeout=1)
                return
            except requests.ConnectionError:
                assert self.process.poll() is None, self.process.stdout.read()
                time.sleep(0.1)
        raise AssertionError("the sample app did not start")

    def sign_in(self, provider, browser: requests.Session, email: str | None = None) -> None:
        """The person follows the app's sign-in link through Rampart (signing in there when
        asked) and back."""
        to_rampart = browser.get(self.base + "/login", allow_redirects=False, timeout=10)
        assert to_rampart.status_code == 302, to_rampart.text
        back = browser.get(to_rampart.headers["Location"], allow_redirects=False, timeout=15)
        if back.status_code == 303 and back.headers["Location"] == f"/o/{provider.slug}/signin":
            next_url = onward(provider.sign_in(browser, email))
            back = browser.get(provider.server.base_url + next_url, allow_redirects=False, timeout=15)
        assert back.status_code == 303 and back.headers["Location"].startswith(self.base + "/callback?"), back.text[-800:]
        landed = browser.get(back.headers["Location"], allow_redirects=False, timeout=15)
        assert landed.status_code == 302, landed.text
        assert self.signed_in(browser), "the app shows the person signed in"

    def signed_in(self, browser: requests.Session) -> bool:
        page = browser.get(self.base + "/", timeout=10).text
        return 'id="email"' in page

    def wait_signed_out(self, browser: requests.Session, within: float = 20) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if not self.signed_in(browser):
                return
            time.sleep(0.2)
        raise AssertionError("the app's session did not end")

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            self.output, _ = self.process.communicate(timeout=10)
        return self.output


@pytest.fixture
def sample_apps():
    apps: list[SampleApp] = []

    def make(provider) -> SampleApp:
        apps.append(SampleApp(provider, find_free_port()))
        return apps[-1]

    yield make
    for app in apps:
        app.stop()


def audit(provider, action: str) -> list[dict]:
    return provider.api("GET", "/audit-events", params={"action": action, "limit": 200}).json()["data"]


def wait_for_audit(provider, action: str, client_id: str, within: float = 20) -> dict:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for event in audit(provider, action):
            if any(t["id"] == client_id for t in event["targets"]):
                return event
        time.sleep(0.3)
    raise AssertionError(f"no {action} for {client_id}")


def checked_logout_token(provider, token: str, client_id: str) -> dict:
    """The logout token as a product checks it: header, signature against the JWKS, claims."""
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["typ"] == "logout+jwt" and header["alg"] == "ES256" and header["kid"], header
    keys = KeySet.import_key_set(requests.get(provider.endpoint("jwks"), timeout=10).json())
    claims = jwt.decode(token, keys, algorithms=["ES256"]).claims
    assert claims["iss"] == provider.issuer and claims["aud"] == client_id, claims
    assert claims["events"] == {EVENT: {}} and "nonce" not in claims, claims
    assert 0 < claims["exp"] - claims["iat"] <= 120 and claims["jti"], claims
    assert abs(claims["iat"] - time.time()) < 60, claims
    return claims


def test_discovery_advertises_back_channel_logout(rampart_bin, server_factory, sqlite):
    provider = make_provider(rampart_bin, sqlite, server_factory(sqlite))
    config = requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=10).json()
    assert config["backchannel_logout_supported"] is True
    assert config["backchannel_logout_session_supported"] is True
    assert "sid" in config["claims_supported"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_deactivating_a_person_ends_their_session_in_the_sample_app(backend, rampart_bin, server_factory, sample_apps,
                                                                    request):
    store = request.getfixturevalue(backend)
    provider = make_provider(rampart_bin, store, server_factory(store))
    app = sample_apps(provider)
    browser = requests.Session()
    app.sign_in(provider, browser)
    bystander = requests.Session()
    other_email, _ = provider.add_member("Robin Other")
    app.sign_in(provider, bystander, other_email)

    deactivated = provider.api("POST", f"/users/{provider.user_id}/deactivate")
    assert deactivated.status_code == 200, deactivated.text
    app.wait_signed_out(browser)
    event = wait_for_audit(provider, "oauth.backchannel_logout_delivered", app.client["clientId"])
    assert event["actor"]["type"] == "system" and event["details"]["status"] == 200, event
    assert provider.user_id not in json.dumps(event), "the event names the product, not the person"
    assert app.signed_in(bystander), "someone else's session in the app stays"


def test_signing_out_everywhere_else_and_signing_out_end_the_app_sessions(rampart_bin, server_factory, sqlite, sample_apps):
    provider = make_provider(rampart_bin, sqlite, server_factory(sqlite))
    app = sample_apps(provider)
    laptop, phone = requests.Session(), requests.Session()
    app.sign_in(provider, laptop)
    app.sign_in(provider, phone)

    # From the phone's account page: sign out everywhere else. The laptop's app session ends,
    # the phone's (whose Rampart session stays) does not.
    account = phone.get(f"{provider.server.base_url}/o/{provider.slug}/account", timeout=10)
    assert account.status_code == 200, account.text[-500:]
    ended = phone.post(f"{provider.server.base_url}/o/{provider.slug}/account/sessions/end-others",
                       data={"csrf": csrf(account.text)}, allow_redirects=False, timeout=10)
    assert ended.status_code == 303, ended.text
    app.wait_signed_out(laptop)
    time.sleep(2)
    assert app.signed_in(phone), "the session that asked stays signed in, and so does the app's session it made"

    # The phone signs out of Rampart: the app session it made ends too.
    page = phone.get(f"{provider.server.base_url}/o/{provider.slug}/account", timeout=10)
    out = phone.post(f"{provider.server.base_url}/o/{provider.slug}/signout", data={"csrf": csrf(page.text)},
                     allow_redirects=False, timeout=10)
    assert out.status_code in (302, 303), out.text
    app.wait_signed_out(phone)
    delivered = [e for e in audit(provider, "oauth.backchannel_logout_delivered")
                 if any(t["id"] == app.client["clientId"] for t in e["targets"])]
    assert len(delivered) == 2, delivered
    assert "back-channel logout: 1 session(s) ended" in app.stop()


def test_a_step_up_keeps_the_sign_in_the_app_knows(rampart_bin, server_factory, sqlite, sample_apps):
    """Enrolling TOTP replaces the session's secret (against fixation), but it is the same
    sign-in to the app: signing out afterwards still names the sid the app was given."""
    provider = make_provider(rampart_bin, sqlite, server_factory(sqlite))
    app = sample_apps(provider)
    browser = requests.Session()
    app.sign_in(provider, browser)
    base, slug = provider.server.base_url, provider.slug
    cookie_before = browser.cookies.get_dict()

    enrol = browser.get(f"{base}/o/{slug}/account/mfa/enrol", timeout=10)
    secret = re.search(r'id="totp-secret"[^>]*>([^<]*)<', enrol.text).group(1).strip()
    enrolled = browser.post(f"{base}/o/{slug}/account/mfa/enrol",
                            data={"csrf": csrf(enrol.text), "code": pyotp.TOTP(secret).now()}, timeout=30)
    assert enrolled.status_code == 200 and "recovery" in enrolled.text.lower(), enrolled.text[-800:]
    assert browser.cookies.get_dict() != cookie_before, "the step-up gave the browser a new session secret"
    assert app.signed_in(browser)

    page = browser.get(f"{base}/o/{slug}/account", timeout=10)
    out = browser.post(f"{base}/o/{slug}/signout", data={"csrf": csrf(page.text)}, allow_redirects=False, timeout=10)
    assert out.status_code in (302, 303), out.text
    app.wait_signed_out(browser)
    assert "back-channel logout: 1 session(s) ended" in app.stop()


def test_rp_initiated_logout_and_an_admin_ending_sessions_tell_the_app(rampart_bin, server_factory, sqlite, sample_apps):
    provider = make_provider(rampart_bin, sqlite, server_factory(sqlite))
    app = sample_apps(provider)
    browser = requests.Session()
    app.sign_in(provider, browser)
    # Another product of the organisation (without a back-channel URI) signs the person out
    # through RP-initiated logout: the sample app, signed into from the same session, is told.
    token, _, _ = code_flow(provider, client_session(provider), browser)
    out = browser.get(provider.endpoint("logout"), params={"id_token_hint": token["id_token"]}, allow_redirects=False,
                      timeout=10)
    assert out.status_code == 200 and "Signed out" in out.text, out.text[-500:]
    app.wait_signed_out(browser)

    # An admin ends every session of the person through the API.
    again = requests.Session()
    app.sign_in(provider, again)
    ended = provider.api("DELETE", f"/users/{provider.user_id}/sessions")
    assert ended.status_code == 200 and ended.json()["ended"] >= 1, ended.text
    app.wait_signed_out(again)
    delivered = [e for e in audit(provider, "oauth.backchannel_logout_delivered")
                 if any(t["id"] == app.client["clientId"] for t in e["targets"])]
    assert len(delivered) == 2, delivered


def test_a_failing_product_is_retried_then_given_up_while_others_get_theirs(rampart_bin, server_factory, sqlite, receivers,
                                                                            sample_apps):
    provider = make_provider(rampart_bin, sqlite, server_factory(sqlite))
    app = sample_apps(provider)
    broken, good = receivers(500), receivers(200)
    broken_client = provider.add_client(backchannelLogoutUri=broken.url)
    good_client = provider.add_client(backchannelLogoutUri=good.url, backchannelLogoutSessionRequired=True)
    silent_client = provider.add_client()
    assert silent_client["backchannelLogoutUri"] is None and silent_client["backchannelLogoutSessionRequired"] is False

    # A client of another organisation, its endpoint open for anything.
    elsewhere = make_provider(rampart_bin, sqlite, provider.server)
    foreign = receivers(200)
    elsewhere.add_client(backchannelLogoutUri=foreign.url)

    browser = requests.Session()
    app.sign_in(provider, browser)
    sids = {}
    for client in (broken_client, good_client, silent_client):
        token, _, _ = code_flow(provider, client_session(provider, client), browser)
        claims = jwt.decode(token["id_token"], KeySet.import_key_set(requests.get(provider.endpoint("jwks"), timeout=10).json()),
                            algorithms=["ES256"]).claims
        sids[client["clientId"]] = claims["sid"]
    assert len(set(sids.values())) == 1, "one Rampart session, one sid, whichever product asks"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", next(iter(sids.values())))

    deactivated = provider.api("POST", f"/users/{provider.user_id}/deactivate")
    assert deactivated.status_code == 200, deactivated.text
    app.wait_signed_out(browser)
    wait_for_audit(provider, "oauth.backchannel_logout_delivered", good_client["clientId"])
    [good_token] = good.tokens()
    claims = checked_logout_token(provider, good_token, good_client["clientId"])
    assert claims["sub"] == provider.user_id and claims["sid"] == sids[good_client["clientId"]]
    assert good.received[0]["contentType"] == "application/x-www-form-urlencoded"

    failed = wait_for_audit(provider, "oauth.backchannel_logout_failed", broken_client["clientId"], within=60)
    assert failed["outcome"] == "failure" and failed["details"]["attempts"] == 6, failed
    assert failed["details"]["error"] == "HTTP 500", failed
    attempts = broken.tokens()
    assert len(attempts) == 6, "tried six times, then given up"
    jtis = {checked_logout_token(provider, t, broken_client["clientId"])["jti"] for t in attempts}
    assert len(jtis) == 1, "every attempt is the same logout, re-signed"

    assert not audit(provider, "oauth.backchannel_logout_failed")[1:], "only the broken product failed"
    for action in ("oauth.backchannel_logout_delivered", "oauth.backchannel_logout_failed"):
        for event in audit(provider, action):
            assert all(t["id"] != silent_client["clientId"] for t in event["targets"]), "no URI, nothing sent"
    assert foreign.tokens() == [], "another organisation's product hears nothing of this one's people"
    assert audit(elsewhere, "oauth.backchannel_logout_delivered") == []


@pytest.mark.parametrize("uri", ["https://wiki.example.test/logout#frag", "http://wiki.example.test/logout",
                                 "https://user@wiki.example.test/logout", "not a url"])
def test_bad_back_channel_uris_are_refused_and_change_nothing(uri, rampart_bin, server_factory, sqlite):
    provider = make_provider(rampart_bin, sqlite, server_factory(sqlite))
    before = provider.api("GET", "/oauth-clients").json()["data"]
    refused = provider.api("POST", "/oauth-clients", json={"name": "Bad", "productId": provider.product_id,
                                                           "redirectUris": ["https://wiki.example.test/cb"],
                                                           "backchannelLogoutUri": uri})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "invalid_field" and "backchannelLogoutUri" in refused.json()["error"]["message"]
    assert provider.api("GET", "/oauth-clients").json()["data"] == before

    client_id = provider.client["clientId"]
    good = provider.api("PATCH", f"/oauth-clients/{client_id}", json={"backchannelLogoutUri": "https://wiki.example.test/bc"})
    assert good.status_code == 200 and good.json()["backchannelLogoutUri"] == "https://wiki.example.test/bc", good.text
    patched = provider.api("PATCH", f"/oauth-clients/{client_id}", json={"backchannelLogoutUri": uri})
    assert patched.status_code == 400 and "backchannelLogoutUri" in patched.json()["error"]["message"], patched.text
    assert provider.api("GET", f"/oauth-clients/{client_id}").json()["backchannelLogoutUri"] == "https://wiki.example.test/bc"
    removed = provider.api("PATCH", f"/oauth-clients/{client_id}", json={"backchannelLogoutUri": ""})
    assert removed.status_code == 200 and removed.json()["backchannelLogoutUri"] is None, removed.text


def test_the_cli_sets_shows_and_removes_the_back_channel_uri(rampart_bin, sqlite):
    org = create_org(rampart_bin, sqlite.args, unique("CLI Logout"), f"admin-{unique('a')}@cli.example.test")
    slug = org["organization"]["slug"]
    scope = ["--org", slug, *sqlite.args]
    run_cli(rampart_bin, "product", "create", "--name", "Wiki", "--kind", "wiki", "--url", "https://wiki.example.test", *scope)
    created = run_cli_json(rampart_bin, "oauth-client", "create", "--product", "Wiki",
                           "--redirect-uri", "https://wiki.example.test/cb",
                           "--backchannel-logout-uri", "https://wiki.example.test/logout",
                           "--backchannel-logout-session-required", *scope, "--json")
    assert created["backchannelLogoutUri"] == "https://wiki.example.test/logout"
    assert created["backchannelLogoutSessionRequired"] is True
    shown = run_cli(rampart_bin, "oauth-client", "show", "--client", created["clientId"], *scope).stdout
    assert "back-channel logout URI: https://wiki.example.test/logout (needs sid)" in shown

    refused = run_cli(rampart_bin, "oauth-client", "update", "--client", created["clientId"],
                      "--backchannel-logout-uri", "http://wiki.example.test/logout", *scope, check=False)
    assert refused.returncode != 0 and "backchannelLogoutUri" in refused.stderr + refused.stdout
    unchanged = run_cli_json(rampart_bin, "oauth-client", "show", "--client", created["clientId"], *scope, "--json")
    assert unchanged["backchannelLogoutUri"] == "https://wiki.example.test/logout"

    updated = run_cli_json(rampart_bin, "oauth-client", "update", "--client", created["clientId"],
                           "--backchannel-logout-session-required", "no", *scope, "--json")
    assert updated["backchannelLogoutUri"] == "https://wiki.example.test/logout"
    assert updated["backchannelLogoutSessionRequired"] is False
    removed = run_cli_json(rampart_bin, "oauth-client", "update", "--client", created["clientId"],
                           "--backchannel-logout-uri", "", *scope, "--json")
    assert removed["backchannelLogoutUri"] is None
