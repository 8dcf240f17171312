"""TOTP enrolment and sign-in over plain HTTP with codes from oathtool (GNU oath-toolkit) and
pyotp, two implementations written by others, on SQLite and PostgreSQL; and the refusals that
must read the same whichever way a code is wrong."""

from __future__ import annotations

import re
import subprocess
import time
import uuid

import pyotp
import pytest
import requests

from conftest import bearer, create_org, unique

PASSWORD = "violet tractor evening 77"


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]*)"', html).group(1)


def element_text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    return match.group(1).strip() if match else ""


def oathtool(secret: str, at: float) -> str:
    out = subprocess.run(["oathtool", "--totp", "-b", "-N", f"@{int(at)}", secret], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def sign_in(session: requests.Session, base: str, slug: str, email: str, password: str) -> requests.Response:
    page = session.get(f"{base}/o/{slug}/signin", timeout=10)
    return session.post(f"{base}/o/{slug}/signin", data={"csrf": csrf(page.text), "email": email, "password": password},
                        allow_redirects=False, timeout=30)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_codes_from_oathtool_and_pyotp_enrol_and_sign_in_once_each(backend, rampart_bin, server_factory, request):
    store = request.getfixturevalue(backend)
    server = server_factory(store)
    base = server.base_url
    org = create_org(rampart_bin, store.args, unique("TOTP Org"), f"admin-{uuid.uuid4().hex[:8]}@totp.example.test",
                     "--public-url", base)
    slug = org["organization"]["slug"]
    email = f"member-{uuid.uuid4().hex[:8]}@totp.example.test"
    created = requests.post(f"{server.api}/users", headers=bearer(org["apiToken"]),
                            json={"email": email, "displayName": "Tom Member"}, timeout=10)
    assert created.status_code == 201, created.text
    link = requests.post(f"{server.api}/users/{created.json()['id']}/password-reset", headers=bearer(org["apiToken"]),
                         timeout=10).json()["url"]

    browser = requests.Session()
    page = browser.get(link, timeout=10)
    token = link.split("token=")[1]
    done = browser.post(f"{base}/o/{slug}/reset", data={"token": token, "csrf": csrf(page.text), "password": PASSWORD,
                                                       "password_confirm": PASSWORD}, allow_redirects=False, timeout=30)
    assert done.status_code == 303, done.text
    assert sign_in(browser, base, slug, email, PASSWORD).headers["Location"] == f"/o/{slug}/account"

    # Enrolment with oathtool's code for the key the page shows.
    enrol = browser.get(f"{base}/o/{slug}/account/mfa/enrol", timeout=10)
    secret = element_text(enrol.text, "totp-secret")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    uri = element_text(enrol.text, "otpauth-uri")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and "algorithm=SHA1" in uri, uri
    assert pyotp.parse_uri(uri.replace("&amp;", "&")).secret == secret, "pyotp reads the URI Rampart shows"
    now = time.time()
    answer = browser.post(f"{base}/o/{slug}/account/mfa/enrol", data={"csrf": csrf(enrol.text), "code": oathtool(secret, now)},
                          timeout=30)
    assert answer.status_code == 200 and len(re.findall(r"<li><code>", answer.text)) == 10, answer.text[-2000:]

    # Sign-in with pyotp's code for the next step; then the same code again is refused.
    totp = pyotp.TOTP(secret)
    fresh = requests.Session()
    assert sign_in(fresh, base, slug, email, PASSWORD).headers["Location"] == f"/o/{slug}/signin/mfa"
    mfa = fresh.get(f"{base}/o/{slug}/signin/mfa", timeout=10)
    next_code = totp.at(now + 30)
    assert next_code == oathtool(secret, now + 30), "the two peers agree"
    passed = fresh.post(f"{base}/o/{slug}/signin/mfa", data={"csrf": csrf(mfa.text), "code": next_code},
                        allow_redirects=False, timeout=30)
    assert passed.status_code == 303 and passed.headers["Location"] == f"/o/{slug}/account", passed.text

    again = requests.Session()
    sign_in(again, base, slug, email, PASSWORD)
    mfa = again.get(f"{base}/o/{slug}/signin/mfa", timeout=10)
    refusals = {}
    for label, code in (("replayed", next_code), ("earlier step", totp.at(now)), ("wrong", "123456"), ("malformed", "12ab")):
        r = again.post(f"{base}/o/{slug}/signin/mfa", data={"csrf": csrf(mfa.text), "code": code}, allow_redirects=False, timeout=30)
        assert r.status_code == 401, (label, r.status_code)
        refusals[label] = element_text(r.text, "mfa-error")
    assert len(set(refusals.values())) == 1, f"every refused code reads the same: {refusals}"

    events = requests.get(f"{server.api}/audit-events", params={"action": "auth.signin_failed"},
                          headers=bearer(org["apiToken"]), timeout=10).json()["data"]
    reasons = {e["details"].get("reason") for e in events}
    assert {"replayed_code", "wrong_code", "malformed_code"} <= reasons, reasons
