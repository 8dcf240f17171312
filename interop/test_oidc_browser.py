"""A web application signs people in through Rampart in a real browser (chromium driven by
selenium): the one-file sample app under examples/, which uses authlib, an OAuth client
written by others. The app runs on another site (localhost, Rampart on 127.0.0.1), so the
browser arrives without Rampart's Strict session cookie, as it does from a real product.
The person signs in, then the app asks for a second factor and the person steps up by
enrolling TOTP (codes from pyotp); someone without access to the product is refused."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pyotp
import requests
from selenium.webdriver.common.by import By

from conftest import find_free_port
from oidc_setup import PASSWORD, make_provider
from test_console_browser import Steps, fill, find, make_driver, submit, wait_for
from test_signin_browser import text_of

SAMPLE_APP = Path(__file__).resolve().parent.parent / "examples" / "oidc_sample_app.py"


def start_sample_app(provider, client: dict, port: int) -> subprocess.Popen:
    app = subprocess.Popen([sys.executable, str(SAMPLE_APP), "--issuer", provider.issuer, "--client-id", client["clientId"],
                            "--client-secret", client["clientSecret"], "--port", str(port),
                            "--base-url", f"http://localhost:{port}"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=1)
            return app
        except requests.ConnectionError:
            assert app.poll() is None, app.stdout.read()
            time.sleep(0.1)
    raise AssertionError("the sample app did not start")


def test_a_web_app_signs_a_person_in_and_steps_up_to_totp(rampart_bin, server_factory, sqlite, tmp_path):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    port = find_free_port()
    client = provider.add_client(redirectUris=[f"http://localhost:{port}/callback"])
    outsider_email, outsider_id = provider.add_member("Olive Outsider")
    assert provider.api("DELETE", f"/groups/{provider.group_id}/members/{outsider_id}").status_code == 204
    app = start_sample_app(provider, client, port)
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    app_url = f"http://localhost:{port}/"
    try:
        # 1. From the app to Rampart's sign-in page, and back signed in with a password.
        driver.get(app_url)
        find(driver, By.ID, "login", steps).click()
        wait_for(driver, lambda d: f"/o/{provider.slug}/signin" in d.current_url, "Rampart's sign-in page", steps)
        fill(driver, steps, email=provider.email, password=PASSWORD)
        submit(driver, steps, "signin")
        wait_for(driver, lambda d: d.current_url == app_url and text_of(d, "email"), "the app, signed in", steps)
        steps.shot("signed-in")
        assert text_of(driver, "email") == provider.email and text_of(driver, "name") == "Pat Member", steps.context()
        assert text_of(driver, "acr") == "urn:rampart:acr:pwd" and text_of(driver, "amr") == "pwd", steps.context()
        assert text_of(driver, "groups"), "the groups scope shows the person's group\n" + steps.context()

        # 2. The app asks for a second factor: the person has none, so Rampart enrols one and goes back.
        find(driver, By.ID, "step-up", steps).click()
        wait_for(driver, lambda d: "/account/mfa/enrol" in d.current_url, "the enrolment page", steps)
        totp = pyotp.TOTP(text_of(driver, "totp-secret"))
        fill(driver, steps, code=totp.now())
        submit(driver, steps, "enrol")
        find(driver, By.ID, "continue", steps).click()
        wait_for(driver, lambda d: d.current_url == app_url and text_of(d, "acr") == "urn:rampart:acr:mfa",
                 "the app, stepped up", steps)
        steps.shot("stepped-up")
        assert set(text_of(driver, "amr").split()) == {"pwd", "otp", "mfa"}, steps.context()

        # 3. Signed in already: the next sign-in to the app needs no form at all.
        driver.get(app_url + "login")
        wait_for(driver, lambda d: d.current_url == app_url and text_of(d, "email"), "the app, signed in again", steps)

        # 4. Someone whose groups do not include the product is sent back with access_denied.
        driver.delete_all_cookies()
        driver.get(f"{server.base_url}/o/{provider.slug}/signin")
        driver.delete_all_cookies()
        driver.get(app_url)
        find(driver, By.ID, "login", steps).click()
        wait_for(driver, lambda d: f"/o/{provider.slug}/signin" in d.current_url, "Rampart's sign-in page", steps)
        fill(driver, steps, email=outsider_email, password=PASSWORD)
        submit(driver, steps, "signin")
        wait_for(driver, lambda d: text_of(d, "error"), "the app's error", steps)
        assert "access_denied" in text_of(driver, "error"), steps.context()
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()
        app.terminate()
        app.wait(timeout=10)
