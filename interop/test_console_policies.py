"""Authentication policies in the console (issue 12): the editor shows the what-if simulation
before Save, refuses a change that would lock every org-admin out unless confirmed, shows
field errors beside their field with the form refilled, and assigns a policy to a group after a
preview; the API sees every change."""

from __future__ import annotations

import uuid

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import bearer, run_cli, run_cli_json
from test_console_browser import Steps, find, make_driver
from test_console_browser import console  # noqa: F401  (the fixture)
from test_console_confirm import press
from test_console_first_hour import sign_in


def default_policy(server, org) -> dict:
    r = requests.get(f"{server.api}/authentication-policies/default", headers=bearer(org["apiToken"]), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def set_text(driver, steps, element_id: str, text: str) -> None:
    element = find(driver, By.ID, element_id, steps)
    element.clear()
    element.send_keys(text)


def test_policy_editor_previews_refuses_a_lockout_and_saves(console, tmp_path):  # noqa: F811
    server, org, admin = console
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(f"{server.base_url}/console/policies")
        press(driver, steps, find(driver, By.LINK_TEXT, "Default", steps))

        # An allowlist the admin's own address is not on: the preview says no org-admin could
        # sign in, and Save without the confirmation changes nothing.
        set_text(driver, steps, "ip_allowlist", "192.0.2.0/24")
        press(driver, steps, find(driver, By.ID, "preview", steps))
        assert find(driver, By.ID, "sim-lockout", steps).is_displayed(), steps.context()
        assert admin in find(driver, By.ID, "sim-admins", steps).text, steps.context()
        assert find(driver, By.ID, "ip_allowlist", steps).get_attribute("value") == "192.0.2.0/24", "form refilled"
        press(driver, steps, find(driver, By.ID, "save", steps))
        assert "no org-admin" in find(driver, By.ID, "policy-error", steps).text, steps.context()
        assert "ipAllowlist" not in default_policy(server, org)["settings"] or \
            default_policy(server, org)["settings"]["ipAllowlist"] is None

        # A bad number is shown beside its field, with everything typed kept.
        set_text(driver, steps, "ip_allowlist", "127.0.0.0/8")
        set_text(driver, steps, "idle_timeout_minutes", "soon")
        press(driver, steps, find(driver, By.ID, "preview", steps))
        assert find(driver, By.ID, "idle_timeout_minutes-error", steps).text, steps.context()
        assert find(driver, By.ID, "idle_timeout_minutes", steps).get_attribute("value") == "soon"
        assert find(driver, By.ID, "ip_allowlist", steps).get_attribute("value") == "127.0.0.0/8"
        assert not driver.find_elements(By.ID, "save"), "no Save before a preview of valid settings"

        # Loopback includes the admin: the preview shows no lockout and Save applies it.
        set_text(driver, steps, "idle_timeout_minutes", "20")
        find(driver, By.ID, "mfa_required", steps).click()
        press(driver, steps, find(driver, By.ID, "preview", steps))
        assert not driver.find_elements(By.ID, "sim-lockout"), steps.context()
        assert admin in find(driver, By.ID, "sim-without-mfa", steps).text, steps.context()
        press(driver, steps, find(driver, By.ID, "save", steps))
        assert "saved" in find(driver, By.ID, "notice", steps).text.lower(), steps.context()
        settings = default_policy(server, org)["settings"]
        assert settings["ipAllowlist"] == ["127.0.0.0/8"], settings
        assert settings["idleTimeoutSeconds"] == 20 * 60, settings
        assert settings["mfaRequired"] is True, settings
        # The admin's own session is from loopback, so it survived the save.
        driver.get(f"{server.base_url}/console/policies")
        assert "/console/policies" in driver.current_url, steps.context()
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()


def test_a_policy_is_assigned_to_a_group_after_a_preview_and_removed_after_a_confirmation(
        console, sqlite, rampart_bin, tmp_path):  # noqa: F811
    server, org, admin = console
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    group = f"Vendors {uuid.uuid4().hex[:6]}"
    member = f"vendor-{uuid.uuid4().hex[:6]}@console.example.test"
    run_cli(rampart_bin, "user", "create", "--email", member, "--name", "Vendor", *store)
    group_id = run_cli_json(rampart_bin, "group", "create", "--name", group, *store, "--json")["id"]
    run_cli(rampart_bin, "group", "add-member", "--group", group_id, "--user", member, *store)
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(f"{server.base_url}/console/policies")
        set_text(driver, steps, "name", "Contractors")
        press(driver, steps, find(driver, By.ID, "create-policy", steps))
        assert find(driver, By.TAG_NAME, "h1", steps).text == "Contractors", steps.context()
        policy_url = driver.current_url
        policy_id = policy_url.rstrip("/").split("/")[-1]
        assert find(driver, By.ID, "no-assignments", steps)
        # The same settings as the default would change nobody's sign-in: require MFA first.
        find(driver, By.ID, "mfa_required", steps).click()
        press(driver, steps, find(driver, By.ID, "preview", steps))
        assert find(driver, By.ID, "sim-nothing", steps), "a policy assigned to nobody affects nobody"
        press(driver, steps, find(driver, By.ID, "save", steps))

        Select(find(driver, By.ID, "kind", steps)).select_by_value("group")
        set_text(driver, steps, "who", group)
        press(driver, steps, find(driver, By.ID, "preview-assign", steps))
        assert find(driver, By.ID, "sim-affected", steps).text.startswith("The rules change for 1 "), steps.context()
        assert member in find(driver, By.ID, "sim-without-mfa", steps).text, steps.context()
        assert not driver.find_elements(By.ID, "assignments"), "nothing assigned by a preview"
        press(driver, steps, find(driver, By.ID, "confirm-assign", steps))
        assert "assigned" in find(driver, By.ID, "notice", steps).text.lower(), steps.context()
        assert group in find(driver, By.ID, "assignments", steps).text

        r = requests.get(f"{server.api}/authentication-policies/{policy_id}", headers=bearer(org["apiToken"]), timeout=10)
        assert r.json()["assignments"] == [{"type": "group", "id": group_id, "name": group}], r.text

        # Removing asks first; Cancel keeps the assignment.
        press(driver, steps, find(driver, By.CSS_SELECTOR, "#assignments button", steps))
        assert "Contractors" in find(driver, By.ID, "confirm-question", steps).text, steps.context()
        press(driver, steps, find(driver, By.LINK_TEXT, "Cancel", steps))
        assert group in find(driver, By.ID, "assignments", steps).text
        press(driver, steps, find(driver, By.CSS_SELECTOR, "#assignments button", steps))
        press(driver, steps, find(driver, By.ID, "confirm", steps))
        assert "removed" in find(driver, By.ID, "notice", steps).text.lower(), steps.context()
        assert find(driver, By.ID, "no-assignments", steps)

        # An unknown group is refused with a message beside the form, and nothing is assigned.
        set_text(driver, steps, "who", "No such group")
        press(driver, steps, find(driver, By.ID, "preview-assign", steps))
        assert "group" in find(driver, By.ID, "policy-error", steps).text, steps.context()
        r = requests.get(f"{server.api}/authentication-policies/{policy_id}", headers=bearer(org["apiToken"]), timeout=10)
        assert r.json()["assignments"] == [], r.text
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()
