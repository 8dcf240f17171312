"""Sign-in for every person, in a real browser (chromium driven by selenium), with TOTP codes
computed by pyotp, a library written by others: a member (not an admin) sets a password from a
reset link, enrols an authenticator app, signs in with a code and with a recovery code, meets
the lockout, and finds that used links and codes stay used."""

from __future__ import annotations

import time
import uuid

import pyotp
import pytest
import requests
from selenium.webdriver.common.by import By

from conftest import bearer, create_org, unique
from test_console_browser import Steps, fill, find, make_driver, submit

PASSWORD = "violet tractor evening 77"


def reset_link(server, token: str, user_id: str) -> str:
    """An admin issues a one-time reset link for the person (the API answers it once)."""
    r = requests.post(f"{server.api}/users/{user_id}/password-reset", headers=bearer(token), timeout=10)
    assert r.status_code in (200, 201), r.text
    link = r.json()["url"]
    assert link.startswith(server.base_url + "/o/"), link
    return link


def text_of(driver, element_id: str) -> str:
    found = driver.find_elements(By.ID, element_id)
    return found[0].get_attribute("textContent").strip() if found else ""


def sign_in(driver, steps, base: str, slug: str, email: str, password: str) -> None:
    driver.get(f"{base}/o/{slug}/signin")
    fill(driver, steps, email=email, password=password)
    submit(driver, steps, "signin")


def sign_out(driver, steps) -> None:
    submit(driver, steps, "account-signout")


@pytest.fixture
def member(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    org = create_org(rampart_bin, sqlite.args, unique("Sign-in Org"), f"admin-{uuid.uuid4().hex[:8]}@signin.example.test",
                     "--public-url", server.base_url)
    email = f"member-{uuid.uuid4().hex[:8]}@signin.example.test"
    r = requests.post(f"{server.api}/users", headers=bearer(org["apiToken"]),
                      json={"email": email, "displayName": "Mia Member"}, timeout=10)
    assert r.status_code == 201, r.text
    return server, org, email, r.json()["id"]


def test_member_signs_in_with_totp_and_recovery_code_and_meets_the_lockout(member, tmp_path):
    server, org, email, user_id = member
    slug = org["organization"]["slug"]
    base = server.base_url
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        # 1. A reset link from the admin: a blocklisted password is refused with the reason.
        link = reset_link(server, org["apiToken"], user_id)
        driver.get(link)
        fill(driver, steps, password="password1", password_confirm="password1")
        submit(driver, steps, "submit")
        assert "too common" in text_of(driver, "password-error"), steps.context()
        fill(driver, steps, password=PASSWORD, password_confirm=PASSWORD)
        submit(driver, steps, "submit")
        assert f"/o/{slug}/signin" in driver.current_url, steps.context()
        driver.get(link)
        assert "expired" in find(driver, By.TAG_NAME, "body", steps).text, "a reset link works once\n" + steps.context()

        # 2. A member lands in My account, not the console.
        sign_in(driver, steps, base, slug, email, PASSWORD)
        assert driver.current_url.endswith(f"/o/{slug}/account"), steps.context()
        assert text_of(driver, "account-email").startswith(email)
        driver.get(f"{base}/console/users")
        assert driver.current_url.endswith(f"/o/{slug}/account"), "a member has no console\n" + steps.context()

        # 3. Enrolment: the key from the page into pyotp, one code, ten recovery codes shown once.
        find(driver, By.ID, "set-up-totp", steps).click()
        assert driver.find_elements(By.CSS_SELECTOR, "#qr svg"), steps.context()
        totp = pyotp.TOTP(text_of(driver, "totp-secret"))
        assert text_of(driver, "otpauth-uri").startswith("otpauth://totp/")
        fill(driver, steps, code=totp.now())
        submit(driver, steps, "enrol")
        steps.shot("recovery-codes")
        codes = [li.get_attribute("textContent").strip() for li in driver.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
        assert len(codes) == 10, steps.context()
        find(driver, By.ID, "continue", steps).click()
        sign_out(driver, steps)

        # 4. The back button after signing out shows no account page.
        driver.back()
        assert "/account" not in driver.current_url or not driver.find_elements(By.ID, "account-email"), steps.context()

        # 5. Password, then a code of the next step (this step's code was spent at enrolment).
        sign_in(driver, steps, base, slug, email, PASSWORD)
        assert driver.current_url.endswith(f"/o/{slug}/signin/mfa"), steps.context()
        fill(driver, steps, code="000000")
        submit(driver, steps, "verify")
        assert text_of(driver, "mfa-error"), "a wrong code is refused\n" + steps.context()
        fill(driver, steps, code=totp.at(time.time() + 30))
        submit(driver, steps, "verify")
        assert driver.current_url.endswith(f"/o/{slug}/account"), steps.context()
        sign_out(driver, steps)

        # 6. A recovery code works once.
        for attempt in range(2):
            sign_in(driver, steps, base, slug, email, PASSWORD)
            find(driver, By.CSS_SELECTOR, "details summary", steps).click()
            fill(driver, steps, recovery_code=codes[0])
            submit(driver, steps, "use-recovery-code")
            if attempt == 0:
                assert driver.current_url.endswith(f"/o/{slug}/account"), steps.context()
                assert text_of(driver, "recovery-codes-left") == "9"
                sign_out(driver, steps)
            else:
                assert text_of(driver, "mfa-error"), "a used recovery code is refused\n" + steps.context()

        # 7. Repeated wrong passwords: the lockout message says until when.
        message = ""
        for _ in range(5):
            sign_in(driver, steps, base, slug, email, "not the password at all")
            message = text_of(driver, "signin-error")
        steps.shot("lockout")
        assert "Try again after" in message and "UTC" in message, steps.context()
        sign_in(driver, steps, base, slug, email, PASSWORD)
        assert "Try again after" in text_of(driver, "signin-error"), "the right password waits too\n" + steps.context()
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()


def test_lockout_answers_429_with_retry_after_and_hides_whether_the_account_exists(member):
    server, org, email, _ = member
    slug = org["organization"]["slug"]
    answers = {}
    for who in (email, f"nobody-{uuid.uuid4().hex[:6]}@signin.example.test"):
        session = requests.Session()
        statuses = []
        for _ in range(5):
            page = session.get(f"{server.base_url}/o/{slug}/signin", timeout=10)
            csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
            r = session.post(f"{server.base_url}/o/{slug}/signin", data={"csrf": csrf, "email": who, "password": "wrong one"},
                             allow_redirects=False, timeout=30)
            statuses.append(r.status_code)
        assert statuses == [401, 401, 401, 401, 429], (who, statuses)
        assert int(r.headers["Retry-After"]) > 0
        answers[who] = r.text.split('id="signin-error"')[1].split("</p>")[0].split("after")[0]
    first, second = answers.values()
    assert first == second, "a lockout reads the same for an account that does not exist"
