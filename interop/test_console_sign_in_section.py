"""The Sign-in section of a user's console page in a real browser (Debian's chromium driven by
selenium): the sessions a real sign-in made (device, IP, signed in, last seen) ended one by one
or all at once, the factors a TOTP enrolment with pyotp made and the recovery codes left reset,
and a forced password reset whose one-time link is shown once and works. Every change asks
first, and Cancel changes nothing; an auditor sees the section without its buttons and is
refused the changes."""

from __future__ import annotations

import re
import uuid

import pyotp
import requests
from selenium.webdriver.common.by import By

from conftest import run_cli, run_cli_json
from test_console_browser import PASSWORD, Steps, fill, find, make_driver, on_signin_page, submit
from test_console_browser import console  # noqa: F401  (the fixture)
from test_console_confirm import press
from test_console_first_hour import sign_in

MEMBER_PASSWORD = "violet tractor evening 77"


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]*)"', html).group(1)


def set_password(base: str, slug: str, link: str, password: str) -> None:
    browser = requests.Session()
    page = browser.get(link, timeout=10)
    done = browser.post(f"{base}/o/{slug}/reset", data={"token": link.split("token=")[1], "csrf": csrf(page.text),
                                                       "password": password, "password_confirm": password},
                        allow_redirects=False, timeout=30)
    assert done.status_code == 303, done.text


def member_session(base: str, slug: str, email: str, device: str) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = device
    page = session.get(f"{base}/o/{slug}/signin", timeout=10)
    signed = session.post(f"{base}/o/{slug}/signin", data={"csrf": csrf(page.text), "email": email, "password": MEMBER_PASSWORD},
                          allow_redirects=False, timeout=30)
    assert signed.headers.get("Location") == f"/o/{slug}/account", signed.status_code
    return session


def signed_in(session: requests.Session, base: str, slug: str) -> bool:
    return session.get(f"{base}/o/{slug}/account", allow_redirects=False, timeout=10).status_code == 200


def test_sessions_factors_and_password_reset_from_the_console(console, sqlite, rampart_bin, tmp_path):  # noqa: F811
    server, org, admin = console
    base = server.base_url
    slug = org["organization"]["slug"]
    store = ["--org", slug, *sqlite.args]

    def cli(*args):
        return run_cli_json(rampart_bin, *args, *store, "--json")

    email = f"mia-{uuid.uuid4().hex[:8]}@console.example.test"
    mia = cli("user", "create", "--email", email, "--name", "Mia Member")
    set_password(base, slug, cli("user", "force-password-reset", "--user", email, "--public-url", base)["url"], MEMBER_PASSWORD)
    laptop = member_session(base, slug, email, "Interop Laptop/1.0")
    phone = member_session(base, slug, email, "Interop Phone/2.0")
    enrol = laptop.get(f"{base}/o/{slug}/account/mfa/enrol", timeout=10)
    secret = re.search(r'id="totp-secret"[^>]*>([^<]*)<', enrol.text).group(1).strip()
    enrolled = laptop.post(f"{base}/o/{slug}/account/mfa/enrol",
                           data={"csrf": csrf(enrol.text), "code": pyotp.TOTP(secret).now()}, timeout=30)
    assert enrolled.status_code == 200, enrolled.text[-2000:]

    def sessions():
        return cli("user", "sessions", "--user", email)["data"]

    def factors():
        return cli("user", "factors", "--user", email)

    assert len(sessions()) == 2 and len(factors()["data"]) == 1
    user_page = f"{base}/console/users/{mia['id']}"
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(user_page)
        section = find(driver, By.ID, "sign-in", steps).text
        assert "Interop Phone/2.0" in section and "Interop Laptop/1.0" in section and "127.0.0.1" in section, section
        assert "totp" in find(driver, By.ID, "factors", steps).text
        assert find(driver, By.ID, "recovery-codes-left", steps).text == "10"
        phone_id = next(s["id"] for s in sessions() if s["userAgent"] == "Interop Phone/2.0")

        # End one session: the confirmation first; Cancel changes nothing.
        press(driver, steps, find(driver, By.ID, f"end-session-{phone_id}", steps))
        assert email in find(driver, By.ID, "confirm-question", steps).text
        press(driver, steps, find(driver, By.ID, "cancel", steps))
        assert len(sessions()) == 2 and signed_in(phone, base, slug), "Cancel ended a session"
        press(driver, steps, find(driver, By.ID, f"end-session-{phone_id}", steps))
        press(driver, steps, find(driver, By.ID, "confirm", steps))
        assert "session ended" in find(driver, By.ID, "notice", steps).text.lower(), steps.context()
        assert [s["userAgent"] for s in sessions()] == ["Interop Laptop/1.0"]
        assert not signed_in(phone, base, slug) and signed_in(laptop, base, slug)

        # Reset MFA, after a Cancel that changes nothing.
        press(driver, steps, find(driver, By.ID, "reset-mfa", steps))
        press(driver, steps, find(driver, By.ID, "cancel", steps))
        assert factors()["unusedRecoveryCodes"] == 10, "Cancel reset MFA"
        press(driver, steps, find(driver, By.ID, "reset-mfa", steps))
        press(driver, steps, find(driver, By.ID, "confirm", steps))
        assert "mfa reset" in find(driver, By.ID, "notice", steps).text.lower(), steps.context()
        assert factors() == {"data": [], "unusedRecoveryCodes": 0}
        assert find(driver, By.ID, "no-factors", steps) and find(driver, By.ID, "recovery-codes-left", steps).text == "0"
        assert not driver.find_elements(By.ID, "reset-mfa"), "nothing left to reset"

        # End all sessions.
        press(driver, steps, find(driver, By.ID, "end-all-sessions", steps))
        press(driver, steps, find(driver, By.ID, "cancel", steps))
        assert len(sessions()) == 1
        press(driver, steps, find(driver, By.ID, "end-all-sessions", steps))
        press(driver, steps, find(driver, By.ID, "confirm", steps))
        assert "sessions ended" in find(driver, By.ID, "notice", steps).text.lower(), steps.context()
        assert sessions() == [] and not signed_in(laptop, base, slug)
        assert find(driver, By.ID, "no-sessions", steps)

        # Force a password reset: Cancel keeps the password working; then the link shows once and works.
        press(driver, steps, find(driver, By.ID, "force-password-reset", steps))
        press(driver, steps, find(driver, By.ID, "cancel", steps))
        member_session(base, slug, email, "Interop Laptop/1.0")
        press(driver, steps, find(driver, By.ID, "force-password-reset", steps))
        press(driver, steps, find(driver, By.ID, "confirm", steps))
        link = find(driver, By.ID, "reset-link", steps).text
        assert link.startswith(f"{base}/o/{slug}/reset?token="), link
        assert "1 session" in find(driver, By.ID, "notice", steps).text, steps.context()
        assert sessions() == []
        driver.get(user_page)
        assert link.split("token=")[1] not in driver.page_source, "the link is shown once only"
        set_password(base, slug, link, "a different long password 9")
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()

    about_mia = run_cli_json(rampart_bin, "audit", "events", "--target", mia["id"], "--limit", "100", *store, "--json")["data"]
    admin_actions = {"auth.password_reset_forced", "auth.sessions_ended", "mfa.reset"}
    by_admin = [e["action"] for e in about_mia if e["actor"]["type"] == "user" and e["action"] in admin_actions]
    assert sorted(by_admin) == ["auth.password_reset_forced", "auth.sessions_ended", "auth.sessions_ended", "mfa.reset"], about_mia
    assert run_cli(rampart_bin, "audit", "verify", *store).returncode == 0


def test_an_auditor_sees_the_section_but_cannot_change_it(console, sqlite, rampart_bin, tmp_path):  # noqa: F811
    server, org, _ = console
    base = server.base_url
    slug = org["organization"]["slug"]
    store = ["--org", slug, *sqlite.args]

    def cli(*args):
        return run_cli_json(rampart_bin, *args, *store, "--json")

    member = f"mia-{uuid.uuid4().hex[:8]}@console.example.test"
    mia = cli("user", "create", "--email", member, "--name", "Mia Member")
    set_password(base, slug, cli("user", "force-password-reset", "--user", member, "--public-url", base)["url"], MEMBER_PASSWORD)
    member_session(base, slug, member, "Interop Phone/2.0")
    auditor = f"audrey-{uuid.uuid4().hex[:8]}@console.example.test"
    cli("user", "create", "--email", auditor, "--name", "Audrey Auditor")
    cli("user", "grant-role", "--user", auditor, "--role", "auditor")
    set_password(base, slug, cli("user", "force-password-reset", "--user", auditor, "--public-url", base)["url"], PASSWORD)

    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        driver.get(f"{base}/console/signin")
        fill(driver, steps, organization=slug, email=auditor, password=PASSWORD)
        submit(driver, steps, "signin")
        assert not on_signin_page(driver), steps.context()
        driver.get(f"{base}/console/users/{mia['id']}")
        assert "Interop Phone/2.0" in find(driver, By.ID, "sessions", steps).text
        for button in ("end-all-sessions", "reset-mfa", "force-password-reset"):
            assert not driver.find_elements(By.ID, button), f"an auditor sees {button}"
        assert not driver.find_elements(By.CSS_SELECTOR, "[id^=end-session-]")
        for path in ("sessions/end", "mfa/reset", "password-reset"):
            driver.get(f"{base}/console/users/{mia['id']}/{path}")
            assert not driver.find_elements(By.ID, "confirm"), f"an auditor was asked to confirm {path}"
        page_csrf = csrf(driver.page_source) if 'name="csrf"' in driver.page_source else ""
        cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()

    # The POST routes refuse the auditor even with their own valid session and form token.
    origin = {"Origin": base}
    for path in ("sessions/end", "mfa/reset", "password-reset"):
        r = requests.post(f"{base}/console/users/{mia['id']}/{path}", data={"csrf": page_csrf}, cookies=cookies,
                          headers=origin, allow_redirects=False, timeout=10)
        assert r.status_code == 403, (path, r.status_code)
        assert "reset?token=" not in r.text
    assert len(cli("user", "sessions", "--user", member)["data"]) == 1
    actions = [e["action"] for e in cli("audit", "events", "--target", mia["id"], "--limit", "100")["data"]]
    assert "auth.sessions_ended" not in actions and actions.count("auth.password_reset_forced") == 1, actions
