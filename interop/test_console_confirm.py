"""Deactivating, removing and revoking in the console ask first (a confirmation page: the
console has no JavaScript) and end with a banner at the top of the page (issue 17).
Driven through Chromium against a real server; the data is made and checked with the CLI."""

from __future__ import annotations

import uuid

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

from conftest import run_cli, run_cli_json
from test_console_browser import Steps, find, make_driver, wait_for
from test_console_browser import console  # noqa: F401  (the fixture)
from test_console_first_hour import sign_in


def press(driver, steps: Steps, element) -> None:
    """Click a button that loads a new page, and wait until the old page is gone."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait_for(driver, lambda d: not _alive(old), "the next page", steps)


def _alive(element) -> bool:
    try:
        element.is_enabled()
        return True
    except WebDriverException:
        return False


def confirm_then_see_banner(driver, steps: Steps, button, expected_question: str) -> str:
    """Click BUTTON: a confirmation page (nothing changed yet) names the change; confirming
    lands on a page whose banner, at the top, says what was done. Returns the banner."""
    press(driver, steps, button)
    question = find(driver, By.ID, "confirm-question", steps).text
    assert expected_question in question, f"{question!r}\n{steps.context()}"
    press(driver, steps, find(driver, By.ID, "confirm", steps))
    notice = find(driver, By.ID, "notice", steps)
    assert notice.is_displayed() and notice.location["y"] < 200, f"banner at {notice.location}\n{steps.context()}"
    return notice.text


def test_changes_that_take_something_away_ask_first(console, sqlite, rampart_bin, tmp_path):  # noqa: F811
    server, org, admin = console
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    leaving = f"leaving-{uuid.uuid4().hex[:8]}@console.example.test"
    user = run_cli_json(rampart_bin, "user", "create", "--email", leaving, "--name", "Leaving", *store, "--json")
    run_cli(rampart_bin, "group", "create", "--name", "Staff", *store)
    run_cli(rampart_bin, "group", "add-member", "--group", "Staff", "--user", leaving, *store)
    product = run_cli_json(rampart_bin, "product", "create", "--name", "Wiki", "--kind", "wiki",
                           "--url", "https://wiki.example.test", *store, "--json")
    run_cli(rampart_bin, "product", "grant", "--product", "Wiki", "--group", "Staff", *store)
    run_cli(rampart_bin, "token", "create", "--name", "ci-bot", "--role", "auditor", *store)

    def status() -> str:
        return run_cli_json(rampart_bin, "user", "list", "--email", leaving, *store, "--json")["data"][0]["status"]

    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)

        # Cancelling changes nothing.
        driver.get(f"{server.base_url}/console/users/{user['id']}")
        press(driver, steps, find(driver, By.ID, "deactivate", steps))
        steps.shot("confirm-deactivate")
        assert status() == "active", "the first click deactivated without asking"
        press(driver, steps, find(driver, By.ID, "cancel", steps))
        assert driver.current_url.endswith(f"/console/users/{user['id']}"), driver.current_url
        assert status() == "active"

        banner = confirm_then_see_banner(driver, steps, find(driver, By.ID, "deactivate", steps), leaving)
        assert "deactivated" in banner.lower(), banner
        assert status() == "deactivated"
        assert find(driver, By.ID, "user-status", steps).text == "deactivated"

        driver.get(f"{server.base_url}/console/products/{product['id']}")
        revoke = driver.find_element(By.XPATH, "//form[contains(@action, '/revoke')]//button")
        assert "revoked" in confirm_then_see_banner(driver, steps, revoke, "Take Wiki away from Staff").lower()
        access = run_cli_json(rampart_bin, "product", "access", "--product", "Wiki", *store, "--json")["data"]
        assert access == [], access

        driver.get(f"{server.base_url}/console/groups")
        press(driver, steps, driver.find_element(By.LINK_TEXT, "Staff"))
        remove = driver.find_element(By.XPATH, "//form[contains(@action, '/remove')]//button")
        assert "removed" in confirm_then_see_banner(driver, steps, remove, f"Remove {leaving} from Staff").lower()
        members = run_cli_json(rampart_bin, "group", "members", "--group", "Staff", *store, "--json")["data"]
        assert members == [], members

        driver.get(f"{server.base_url}/console/api-tokens")
        row = [tr for tr in driver.find_elements(By.CSS_SELECTOR, "tr") if "ci-bot" in tr.text][0]
        banner = confirm_then_see_banner(driver, steps, row.find_element(By.TAG_NAME, "button"), "ci-bot")
        assert "revoked" in banner.lower(), banner
        steps.shot("banner-after-revoke")
        tokens = run_cli_json(rampart_bin, "token", "list", *store, "--json")["data"]
        assert [t["revokedAt"] is not None for t in tokens if t["name"] == "ci-bot"] == [True], tokens
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()
