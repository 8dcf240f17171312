"""Sign-in to Rampart through an organisation's OpenID Connect provider (Rampart as relying
party): oidc-provider-mock (written by others) for a full code + PKCE sign-in with home-realm
discovery, just-in-time provisioning and group mapping; a provider under the test's control
(oidc_upstream.py, joserfc) for a key rotation and the attacks, each refused with its
`sso.signin_failed` reason; SSO enforcement with a break-glass account."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import bearer, find_free_port, new_org, run_cli, run_cli_json, unique
from oidc_upstream import Misbehaviour, UpstreamProvider
from test_domains import WellKnownSite, site  # noqa: F401 (the site fixture)

PASSWORD = "violet tractor evening 77"


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]*)"', page).group(1)


def onward(answer: requests.Response) -> str:
    assert answer.status_code == 200, answer.text[-1500:]
    match = re.search(r'id="continue" href="([^"]*)"', answer.text)
    assert match, answer.text[-1500:]
    return html.unescape(match.group(1))


class Org:
    """An organisation on a running server, driven through its admin API."""

    def __init__(self, server, rampart_bin, store):
        created = new_org(rampart_bin, store.args, "--public-url", server.base_url)
        self.admin_id = created["adminUserId"]
        self.server = server
        self.token = created["apiToken"]
        self.slug = created["organization"]["slug"]
        self.id = created["organization"]["id"]

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.server.api}{path}", headers=bearer(self.token), timeout=15, **kwargs)

    def ok(self, method: str, path: str, **kwargs) -> dict:
        answer = self.api(method, path, **kwargs)
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.text else {}

    def verify_domain(self, site: WellKnownSite) -> str:
        domain = f"sso{uuid.uuid4().hex[:8]}.example.org"
        claim = self.ok("POST", "/domains", json={"domain": domain})
        site.answers[domain] = (200, claim["http"]["content"] + "\n", {})
        assert self.ok("POST", f"/domains/{claim['id']}/verify", json={"method": "http"})["status"] == "verified"
        return domain

    def failures(self) -> list[str]:
        events = self.ok("GET", "/audit-events?action=sso.signin_failed&limit=50")["data"]
        return [event["details"]["reason"] for event in events]

    def user(self, email: str) -> dict | None:
        found = self.ok("GET", f"/users?email={email}")["data"]
        return found[0] if found else None

    def set_password(self, user_id: str) -> None:
        link = self.ok("POST", f"/users/{user_id}/password-reset")["url"]
        browser = requests.Session()
        page = browser.get(link, timeout=10)
        done = browser.post(f"{self.server.base_url}/o/{self.slug}/reset",
                            data={"token": link.split("token=")[1], "csrf": csrf(page.text), "password": PASSWORD,
                                  "password_confirm": PASSWORD}, allow_redirects=False, timeout=30)
        assert done.status_code == 303, done.text

    def password_sign_in(self, email: str, password: str = PASSWORD) -> requests.Response:
        browser = requests.Session()
        page = browser.get(f"{self.server.base_url}/o/{self.slug}/signin", timeout=10)
        return browser.post(f"{self.server.base_url}/o/{self.slug}/signin",
                            data={"csrf": csrf(page.text), "email": email, "password": password},
                            allow_redirects=False, timeout=30)


def federated(server, start: str, at_provider) -> tuple[requests.Session, requests.Response]:
    """A browser that starts at Rampart (`start`, a path or URL), is sent to the provider
    (`at_provider(url)` returns where the provider sends it back), and returns to Rampart."""
    browser = requests.Session()
    url = start if start.startswith("http") else server.base_url + start
    to_provider = browser.get(url, allow_redirects=False, timeout=15)
    assert to_provider.status_code in (302, 303), to_provider.text[-1500:]
    location = to_provider.headers["Location"]
    callback = at_provider(location)
    return browser, browser.get(callback, allow_redirects=False, timeout=30)


# MARK: - oidc-provider-mock


@pytest.fixture
def mock_provider():
    port = find_free_port()
    process = subprocess.Popen([sys.executable, "-W", "ignore", "-m", "oidc_provider_mock", "--port", str(port),
                                "--require-nonce", "true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while True:
        try:
            if requests.get(f"{base}/.well-known/openid-configuration", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert time.time() < deadline and process.poll() is None, "oidc-provider-mock did not start"
        time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request):
    return request.getfixturevalue(request.param)


def mock_authorizes(sub: str):
    """The mock's authorization form, answered as a person picking `sub` does."""
    def at_provider(url: str) -> str:
        answer = requests.post(url, data={"sub": sub}, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text[-800:]
        return answer.headers["Location"]
    return at_provider


def test_oidc_provider_mock_signs_a_person_in_with_jit_groups_and_home_realm_discovery(
        server_factory, store, rampart_bin, mock_provider, site):
    server = server_factory(store, extra_args=["--domain-verification-http-base", site.base])
    org = Org(server, rampart_bin, store)
    domain = org.verify_domain(site)
    engineers = org.ok("POST", "/groups", json={"name": "engineers"})
    org.ok("POST", "/groups", json={"name": "auditors"})
    provider = org.ok("POST", "/identity-providers", json={
        "preset": "oidc", "name": "Mock IdP", "issuer": mock_provider, "clientId": "rampart-client",
        "clientSecret": "mock-secret", "domains": [domain], "jit": True})
    assert provider["redirectUri"] == f"{server.base_url}/o/{org.slug}/sso/oidc/{provider['id']}/callback"
    sub = f"alice-{uuid.uuid4().hex[:6]}"
    email = f"{sub}@{domain}"
    claims = {"email": email, "email_verified": True, "name": "Alice Example", "groups": ["engineers", "unknown-team"]}
    assert requests.put(f"{mock_provider}/users/{sub}", json=claims, timeout=10).status_code == 204

    # The sign-in page shows the provider; an email of its domain without a password goes there.
    page = requests.get(f"{server.base_url}/o/{org.slug}/signin", timeout=10)
    assert "Sign in with Mock IdP" in page.text
    finder = requests.Session()
    found = finder.get(f"{server.base_url}/signin", timeout=10)
    routed = onward(finder.post(f"{server.base_url}/signin", data={"csrf": csrf(found.text), "email": email},
                                allow_redirects=False, timeout=10))
    assert routed.startswith(f"/o/{org.slug}/sso/{provider['id']}/start?login_hint="), routed

    browser, answer = federated(server, routed, mock_authorizes(sub))
    target = onward(answer)
    assert target == f"/o/{org.slug}/account", target
    account = browser.get(server.base_url + target, timeout=10)
    assert account.status_code == 200 and email in account.text

    user = org.user(email)
    assert user and user["displayName"] == "Alice Example"
    members = org.ok("GET", f"/groups/{engineers['id']}/members")["data"]
    assert [m["id"] for m in members] == [user["id"]]
    actions = [e["action"] for e in org.ok("GET", "/audit-events?limit=50")["data"]]
    assert "sso.identity_linked" in actions and "user.created" in actions
    succeeded = org.ok("GET", "/audit-events?action=auth.signin_succeeded&limit=5")["data"][0]
    assert succeeded["details"]["method"] == "sso" and succeeded["details"]["provider_id"] == provider["id"]

    # A later sign-in updates the mapped name and groups: out of engineers, into auditors.
    claims.update({"name": "Alice Renamed", "groups": ["auditors"]})
    assert requests.put(f"{mock_provider}/users/{sub}", json=claims, timeout=10).status_code == 204
    _, again = federated(server, provider["signInUrl"], mock_authorizes(sub))
    assert onward(again) == f"/o/{org.slug}/account"
    assert org.user(email)["displayName"] == "Alice Renamed"
    assert org.ok("GET", f"/groups/{engineers['id']}/members")["data"] == []
    auditors = [g for g in org.ok("GET", "/groups")["data"] if g["name"] == "auditors"][0]
    assert [m["id"] for m in org.ok("GET", f"/groups/{auditors['id']}/members")["data"]] == [user["id"]]
    assert org.failures() == []


def test_without_jit_an_unknown_person_is_refused_and_a_deactivated_one_too(server_factory, sqlite, rampart_bin, mock_provider):
    server = server_factory(sqlite)
    org = Org(server, rampart_bin, sqlite)
    provider = org.ok("POST", "/identity-providers", json={
        "preset": "oidc", "name": "Mock IdP", "issuer": mock_provider, "clientId": "rampart-client", "clientSecret": "s"})
    sub = f"bob-{uuid.uuid4().hex[:6]}"
    email = f"{sub}@people.example.test"
    requests.put(f"{mock_provider}/users/{sub}", json={"email": email, "email_verified": True, "name": "Bob"}, timeout=10)
    _, refused = federated(server, provider["signInUrl"], mock_authorizes(sub))
    assert refused.status_code == 403 and "no account in this organization" in refused.text
    assert org.failures() == ["no_account"]
    assert org.user(email) is None

    # An existing account with that (verified) email is linked; deactivated, it is refused.
    user = org.ok("POST", "/users", json={"email": email, "displayName": "Bob"})
    _, linked = federated(server, provider["signInUrl"], mock_authorizes(sub))
    assert onward(linked) == f"/o/{org.slug}/account"
    org.ok("POST", f"/users/{user['id']}/deactivate")
    _, deactivated = federated(server, provider["signInUrl"], mock_authorizes(sub))
    assert deactivated.status_code == 403
    assert org.failures()[0] == "user_deactivated"


# MARK: - A provider the test controls


@pytest.fixture
def upstream():
    provider = UpstreamProvider()
    yield provider
    provider.close()


def upstream_authorizes(upstream: UpstreamProvider, sub: str):
    def at_provider(url: str) -> str:
        upstream.next_user = sub
        answer = requests.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]
    return at_provider


@pytest.fixture
def controlled(server_factory, sqlite, rampart_bin, upstream):
    server = server_factory(sqlite)
    org = Org(server, rampart_bin, sqlite)
    provider = org.ok("POST", "/identity-providers", json={
        "preset": "oidc", "name": "Upstream", "issuer": upstream.issuer, "clientId": upstream.client_id,
        "clientSecret": upstream.client_secret, "jit": True})
    sub = f"carol-{uuid.uuid4().hex[:6]}"
    upstream.users[sub] = {"email": f"{sub}@corp.example.test", "email_verified": True, "name": "Carol"}
    return server, org, provider, sub


def test_a_key_rotation_at_the_provider_is_followed(controlled, upstream):
    server, org, provider, sub = controlled
    _, first = federated(server, provider["signInUrl"], upstream_authorizes(upstream, sub))
    assert onward(first) == f"/o/{org.slug}/account"
    # The verifier reached the provider and matched the challenge (PKCE S256), and the secret went as Basic.
    assert upstream.token_requests[-1]["code_verifier"] and "client_secret" not in upstream.token_requests[-1]
    fetches = upstream.jwks_fetches
    new_kid = upstream.rotate()
    time.sleep(5.2)  # Rampart refetches a key set for an unknown kid at most every 5 seconds
    _, second = federated(server, provider["signInUrl"], upstream_authorizes(upstream, sub))
    assert onward(second) == f"/o/{org.slug}/account", new_kid
    assert upstream.jwks_fetches == fetches + 1
    assert org.failures() == []


ATTACKS = [
    ("state mismatch", Misbehaviour(state="forged-state"), "unknown_state"),
    ("nonce mismatch", Misbehaviour(nonce="another-nonce"), "nonce_mismatch"),
    ("wrong issuer", Misbehaviour(issuer="https://evil.example"), "wrong_issuer"),
    ("wrong audience", Misbehaviour(audience="another-client"), "wrong_audience"),
    ("alg none", Misbehaviour(alg="none"), "alg_not_allowed"),
    ("HS256 keyed with the RSA public key", Misbehaviour(alg="HS256-public"), "alg_not_allowed"),
    ("expired token", Misbehaviour(expired=True), "token_expired"),
    ("unknown kid", Misbehaviour(kid="not-published"), "unknown_kid"),
]


@pytest.mark.parametrize("name,misbehaviour,reason", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_each_oidc_attack_is_refused_with_its_reason(controlled, upstream, name, misbehaviour, reason):
    server, org, provider, sub = controlled
    upstream.misbehave = misbehaviour
    browser, answer = federated(server, provider["signInUrl"], upstream_authorizes(upstream, sub))
    assert answer.status_code == 403, answer.text[-800:]
    assert "rampart_session=" not in answer.headers.get("Set-Cookie", "").replace("rampart_session=;", "")
    assert org.failures() == [reason]
    assert org.user(upstream.users[sub]["email"]) is None
    failures = org.ok("GET", f"/identity-providers/{provider['id']}")["recentFailures"]
    assert [f["reason"] for f in failures] == [reason]


def test_an_unverified_email_never_links_an_existing_account(controlled, upstream):
    server, org, provider, sub = controlled
    victim = org.ok("POST", "/users", json={"email": "victim@corp.example.test", "displayName": "Victim"})
    upstream.users[sub] = {"email": "victim@corp.example.test", "email_verified": False, "name": "Attacker"}
    _, answer = federated(server, provider["signInUrl"], upstream_authorizes(upstream, sub))
    assert answer.status_code == 403
    assert org.failures() == ["email_not_verified"]
    assert org.user("victim@corp.example.test")["displayName"] == "Victim"
    events = org.ok("GET", "/audit-events?action=sso.identity_linked")["data"]
    assert all(victim["id"] not in str(e) for e in events)


def test_a_replayed_code_or_callback_is_refused(controlled, upstream):
    server, org, provider, sub = controlled
    captured: list[str] = []

    def capture(url: str) -> str:
        callback = upstream_authorizes(upstream, sub)(url)
        captured.append(callback)
        return callback

    browser, answer = federated(server, provider["signInUrl"], capture)
    assert onward(answer) == f"/o/{org.slug}/account"
    # The same callback again (its state is used up).
    replay = browser.get(captured[0], allow_redirects=False, timeout=15)
    assert replay.status_code == 403
    assert org.failures() == ["attempt_replayed"]
    # The used code inside a fresh sign-in of the same browser: the provider refuses it.
    code = re.search(r"code=([^&]+)", captured[0]).group(1)
    fresh = browser.get(provider["signInUrl"], allow_redirects=False, timeout=15)
    state = re.search(r"state=([^&]+)", fresh.headers["Location"]).group(1)
    injected = browser.get(f"{server.base_url}/o/{org.slug}/sso/oidc/{provider['id']}/callback?code={code}&state={state}",
                           allow_redirects=False, timeout=15)
    assert injected.status_code == 403
    assert org.failures()[0] == "token_exchange_failed"
    # A callback carried to another browser than the one that started the sign-in.
    other = requests.Session()
    _, stolen = federated(server, provider["signInUrl"], lambda url: upstream_authorizes(upstream, sub)(url))
    assert stolen.status_code == 200
    start = requests.get(provider["signInUrl"], allow_redirects=False, timeout=15)
    callback = upstream_authorizes(upstream, sub)(start.headers["Location"])
    elsewhere = other.get(callback, allow_redirects=False, timeout=15)
    assert elsewhere.status_code == 403
    assert org.failures()[0] == "browser_mismatch"


def test_sso_required_refuses_passwords_except_break_glass(controlled, upstream):
    server, org, provider, sub = controlled
    member = org.ok("POST", "/users", json={"email": f"member-{uuid.uuid4().hex[:6]}@corp.example.test", "displayName": "M"})
    glass = org.ok("POST", "/users", json={"email": f"glass-{uuid.uuid4().hex[:6]}@corp.example.test", "displayName": "G"})
    for user in (member, glass):
        org.set_password(user["id"])
    policy = org.ok("POST", "/authentication-policies", json={
        "name": unique("SSO only"), "settings": {"ssoRequired": True, "breakGlassUserIDs": [glass["id"]]}})
    for user in (member, glass):
        assert org.api("PUT", f"/authentication-policies/{policy['id']}/users/{user['id']}").status_code == 204
    refused = org.password_sign_in(member["email"])
    assert refused.status_code == 403, refused.text[-800:]
    assert "identity provider" in refused.text and "Sign in with Upstream" in refused.text
    allowed = org.password_sign_in(glass["email"])
    assert allowed.status_code in (302, 303), allowed.text[-800:]
    # The member gets in through the provider.
    upstream.users[sub] = {"email": member["email"], "email_verified": True, "name": "M"}
    _, answer = federated(server, provider["signInUrl"], upstream_authorizes(upstream, sub))
    assert onward(answer) == f"/o/{org.slug}/account"
    # With the provider disabled, SSO required no longer locks people out.
    org.ok("PATCH", f"/identity-providers/{provider['id']}", json={"enabled": False})
    assert org.password_sign_in(member["email"]).status_code in (302, 303)


# MARK: - Test connection, the CLI, and a real browser


def test_test_connection_reads_the_claims_and_signs_nobody_in(server_factory, sqlite, rampart_bin, mock_provider):
    server = server_factory(sqlite)
    org = Org(server, rampart_bin, sqlite)
    provider = org.ok("POST", "/identity-providers", json={
        "preset": "oidc", "name": "Mock IdP", "issuer": mock_provider, "clientId": "rampart-client", "clientSecret": "s",
        "jit": True, "enabled": False})
    assert org.ok("GET", f"/identity-providers/{provider['id']}/test") == {"result": None}
    sub = f"tess-{uuid.uuid4().hex[:6]}"
    email = f"{sub}@people.example.test"
    requests.put(f"{mock_provider}/users/{sub}", json={"email": email, "email_verified": True, "groups": ["g1"]}, timeout=10)
    link = org.ok("POST", f"/identity-providers/{provider['id']}/test")["signInUrl"]
    assert "?test=" in link
    # Without the test token, the disabled provider starts nothing; a forged token neither.
    assert requests.get(provider["signInUrl"], allow_redirects=False, timeout=10).status_code == 403
    assert requests.get(link[:-4] + "AAAA", allow_redirects=False, timeout=10).status_code == 400
    browser, answer = federated(server, link, mock_authorizes(sub))
    assert answer.status_code == 200 and "Test finished" in answer.text
    assert "rampart_session" not in browser.cookies
    result = org.ok("GET", f"/identity-providers/{provider['id']}/test")["result"]
    assert result["ok"] is True and result["email"] == email and result["groups"] == ["g1"]
    assert result["received"]["sub"] == sub and result["emailVerified"] is True
    assert org.user(email) is None, "a test creates no account even with JIT on"
    assert "sso.test_completed" in [e["action"] for e in org.ok("GET", "/audit-events?limit=20")["data"]]


def test_the_cli_manages_identity_providers(sqlite, rampart_bin):
    org = new_org(rampart_bin, sqlite.args)
    tenant = ["--org", org["organization"]["slug"], *sqlite.args]
    created = run_cli_json(rampart_bin, "idp", "create", *tenant, "--preset", "google", "--name", "Workspace",
                           "--issuer", "https://accounts.google.com", "--client-id", "cid", "--hosted-domain", "Example.COM",
                           "--public-url", "https://rampart.example", "--json")
    assert created["oidc"]["hostedDomain"] == "example.com"
    assert created["redirectUri"] == f"https://rampart.example/o/{org['organization']['slug']}/sso/oidc/{created['id']}/callback"
    listed = run_cli_json(rampart_bin, "idp", "list", *tenant, "--json")
    assert [p["id"] for p in listed["data"]] == [created["id"]]
    updated = run_cli_json(rampart_bin, "idp", "update", *tenant, "--id", created["id"], "--jit", "true", "--json")
    assert updated["jit"] is True
    shown = run_cli(rampart_bin, "idp", "show", *tenant, "--id", created["id"]).stdout
    assert "Redirect URI (paste into the provider)" in shown
    bad = run_cli(rampart_bin, "idp", "create", *tenant, "--preset", "oidc", "--name", "Bad", "--issuer", "http://idp.example",
                  "--client-id", "c", check=False)
    assert bad.returncode != 0 and "issuer" in bad.stderr
    assert len(run_cli_json(rampart_bin, "idp", "list", *tenant, "--json")["data"]) == 1
    run_cli(rampart_bin, "idp", "delete", *tenant, "--id", created["id"])
    assert run_cli_json(rampart_bin, "idp", "list", *tenant, "--json")["data"] == []


def console_shows_provider(driver, steps, email: str, provider_id: str, field: str, value: str) -> None:
    """After a federated sign-in in Chromium: the console for `email`, then the provider's page, whose
    copy field `field` holds `value`."""
    from selenium.webdriver.common.by import By
    from test_console_browser import find, wait_for

    wait_for(driver, lambda d: d.current_url.rstrip("/").endswith("/console"), "the console", steps)
    steps.shot("console")
    assert email in driver.page_source, steps.context()
    find(driver, By.LINK_TEXT, "Identity providers", steps).click()
    wait_for(driver, lambda d: d.find_elements(By.ID, f"idp-{provider_id}"), "the providers list", steps)
    find(driver, By.ID, f"idp-{provider_id}", steps).click()
    wait_for(driver, lambda d: d.find_elements(By.ID, field), "the provider's page", steps)
    assert find(driver, By.ID, field, steps).get_attribute("value") == value


def test_an_admin_signs_into_the_console_through_the_provider_in_chromium(server_factory, sqlite, rampart_bin, mock_provider,
                                                                        tmp_path):
    from selenium.webdriver.common.by import By
    from test_console_browser import Steps, find, make_driver, wait_for

    server = server_factory(sqlite)
    org = Org(server, rampart_bin, sqlite)
    admin = org.ok("GET", f"/users/{org.admin_id}")
    provider = org.ok("POST", "/identity-providers", json={
        "preset": "oidc", "name": "Mock IdP", "issuer": mock_provider, "clientId": "rampart-console", "clientSecret": "s"})
    sub = f"admin-{uuid.uuid4().hex[:6]}"
    requests.put(f"{mock_provider}/users/{sub}", json={"email": admin["email"], "email_verified": True, "name": "The Admin"},
                 timeout=10)
    driver = make_driver()
    steps = Steps(driver, tmp_path / "shots")
    try:
        driver.get(f"{server.base_url}/o/{org.slug}/signin")
        find(driver, By.ID, f"sso-{provider['id']}", steps).click()
        wait_for(driver, lambda d: d.find_elements(By.NAME, "sub"), "the provider's sign-in form", steps)
        find(driver, By.NAME, "sub", steps).send_keys(sub)
        find(driver, By.XPATH, "//button[contains(., 'Authorize')]", steps).click()
        console_shows_provider(driver, steps, admin["email"], provider["id"], "redirect-uri", provider["redirectUri"])
    finally:
        driver.quit()
    succeeded = org.ok("GET", "/audit-events?action=auth.signin_succeeded&limit=5")["data"][0]
    assert succeeded["details"]["method"] == "sso"
