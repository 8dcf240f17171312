"""Editing a user, a group and a product in the console, driven through Chromium: the Edit
link, the form filled as it stands, a refused value beside its field with what was typed
kept, 'Changes saved.' at the top after, and the CLI sees the change (issue 17)."""

from __future__ import annotations

import uuid

from selenium.webdriver.common.by import By

from conftest import run_cli_json
from test_console_browser import Steps, fill, find, make_driver, submit
from test_console_browser import console  # noqa: F401  (the fixture)
from test_console_first_hour import sign_in


def listed(rampart_bin, kind: str, store: list[str], id: str) -> dict:
    """The record as `rampart KIND list --json` shows it."""
    return next(r for r in run_cli_json(rampart_bin, kind, "list", *store, "--json")["data"] if r["id"] == id)


def test_edit_user_group_and_product_in_the_browser(console, sqlite, rampart_bin, tmp_path):  # noqa: F811
    server, org, admin = console
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    tag = uuid.uuid4().hex[:8]
    user = run_cli_json(rampart_bin, "user", "create", "--email", f"ada-{tag}@edit.example.test", "--name", "Ada",
                        *store, "--json")
    group = run_cli_json(rampart_bin, "group", "create", "--name", f"Staff {tag}", *store, "--json")
    product = run_cli_json(rampart_bin, "product", "create", "--name", f"Wiki {tag}", "--kind", "wiki",
                           "--url", "https://wiki.example.test", *store, "--json")
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)

        # A user: the form shows today's values; an email already taken is refused beside it.
        driver.get(f"{server.base_url}/console/users/{user['id']}")
        submit(driver, steps, "edit")
        assert find(driver, By.ID, "email", steps).get_attribute("value") == user["email"], steps.context()
        fill(driver, steps, email=admin, display_name="Ada Lovelace")
        submit(driver, steps, "save")
        assert "already exists" in find(driver, By.ID, "email-error", steps).text, steps.context()
        assert find(driver, By.ID, "display_name", steps).get_attribute("value") == "Ada Lovelace", steps.context()
        fill(driver, steps, email=f"ada.l-{tag}@edit.example.test")
        submit(driver, steps, "save")
        assert find(driver, By.ID, "notice", steps).text == "Changes saved.", steps.context()
        shown = listed(rampart_bin, "user", store, user["id"])
        assert (shown["email"], shown["displayName"]) == (f"ada.l-{tag}@edit.example.test", "Ada Lovelace")

        # A group, with a '+' in its new name; Cancel leaves it as it is.
        driver.get(f"{server.base_url}/console/groups/{group['id']}/edit")
        submit(driver, steps, "cancel")
        assert driver.current_url.endswith(f"/console/groups/{group['id']}"), steps.context()
        submit(driver, steps, "edit")
        fill(driver, steps, name=f"Staff + Friends {tag}", description="Everyone who works here")
        submit(driver, steps, "save")
        assert find(driver, By.ID, "notice", steps).text == "Changes saved.", steps.context()
        assert f"Staff + Friends {tag}" in find(driver, By.TAG_NAME, "h1", steps).text, steps.context()

        # A product: a URL that is not http(s) is refused beside the URL field.
        driver.get(f"{server.base_url}/console/products/{product['id']}/edit")
        driver.execute_script("document.getElementById('url').type = 'text'")  # past the browser's own URL check
        fill(driver, steps, url="javascript:alert(1)")
        submit(driver, steps, "save")
        assert find(driver, By.ID, "url-error", steps).text, steps.context()
        fill(driver, steps, url="https://docs.example.test")
        submit(driver, steps, "save")
        assert find(driver, By.ID, "notice", steps).text == "Changes saved.", steps.context()
        shown = listed(rampart_bin, "product", store, product["id"])
        assert shown["url"] == "https://docs.example.test"
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()
