"""Readable data in the console (issue 17): deactivated users look deactivated, a user's page
shows the products they may use and through which groups, a group's page shows its products.
Driven through Chromium against a real server; the data is made with the CLI."""

from __future__ import annotations

import uuid

import requests
from selenium.webdriver.common.by import By

from conftest import bearer, new_org, run_cli, run_cli_json
from test_console_browser import Steps, find, make_driver
from test_console_browser import console  # noqa: F401  (the fixture)
from test_console_confirm import press
from test_console_first_hour import sign_in


def test_access_and_status_are_readable(console, sqlite, rampart_bin, tmp_path):  # noqa: F811
    server, org, admin = console
    slug = org["organization"]["slug"]
    store = ["--org", slug, *sqlite.args]
    member = f"member-{uuid.uuid4().hex[:8]}@console.example.test"
    gone = f"gone-{uuid.uuid4().hex[:8]}@console.example.test"
    for email in (member, gone):
        run_cli(rampart_bin, "user", "create", "--email", email, "--name", "Someone", *store)
    run_cli(rampart_bin, "user", "deactivate", "--user", gone, *store)
    for group in ("Staff", "Writers"):
        run_cli(rampart_bin, "group", "create", "--name", group, *store)
        run_cli(rampart_bin, "group", "add-member", "--group", group, "--user", member, *store)
    run_cli(rampart_bin, "group", "create", "--name", "Empty", *store)
    run_cli(rampart_bin, "product", "create", "--name", "Wiki", "--kind", "wiki", "--url", "https://wiki.example.test",
            *store)
    for group in ("Staff", "Writers"):
        run_cli(rampart_bin, "product", "grant", "--product", "Wiki", "--group", group, *store)

    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(f"{server.base_url}/console/users")
        rows = {tr.find_element(By.CSS_SELECTOR, "td a").text: tr
                for tr in driver.find_elements(By.CSS_SELECTOR, "#users tbody tr")}
        assert "user-deactivated" in rows[gone].get_attribute("class"), steps.context()
        assert "user-deactivated" not in rows[member].get_attribute("class"), steps.context()
        assert rows[gone].value_of_css_property("color") != rows[member].value_of_css_property("color"), (
            "a deactivated user's row looks like an active one")

        press(driver, steps, rows[member].find_element(By.CSS_SELECTOR, "td a"))
        steps.shot("user-access")
        access = find(driver, By.ID, "access", steps)
        product_row = access.find_element(By.CSS_SELECTOR, "tbody tr")
        assert product_row.find_element(By.CSS_SELECTOR, "td a").text == "Wiki", access.text
        via = [a.text for a in product_row.find_elements(By.CSS_SELECTOR, "td.via a")]
        assert via == ["Staff", "Writers"], via

        press(driver, steps, product_row.find_element(By.CSS_SELECTOR, "td.via a"))
        products = [a.text for a in find(driver, By.ID, "products", steps).find_elements(By.TAG_NAME, "a")]
        assert products == ["Wiki"], products

        driver.get(f"{server.base_url}/console/groups")
        press(driver, steps, driver.find_element(By.LINK_TEXT, "Empty"))
        assert find(driver, By.ID, "no-products", steps).is_displayed(), steps.context()
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()


def test_effective_access_in_the_api_and_the_cli(rampart_bin, server_factory, sqlite):
    """The console's "Product access" has its API (`GET /users/{id}/access`) and CLI
    (`rampart user access`) twins, answering the same products through the same groups."""
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    user = run_cli_json(rampart_bin, "user", "create", "--email", "ada@example.test", "--name", "Ada", *store, "--json")
    for group in ("Staff", "Writers"):
        run_cli(rampart_bin, "group", "create", "--name", group, *store)
        run_cli(rampart_bin, "group", "add-member", "--group", group, "--user", "ada@example.test", *store)
        run_cli(rampart_bin, "product", "create", "--name", f"{group} wiki", "--kind", "wiki",
                "--url", "https://wiki.example.test", *store)
        run_cli(rampart_bin, "product", "grant", "--product", "Staff wiki", "--group", group, *store)

    cli = run_cli_json(rampart_bin, "user", "access", "--user", "ada@example.test", *store, "--json")["data"]
    r = requests.get(f"{server.api}/users/{user['id']}/access", headers=bearer(org["apiToken"]), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == cli, (r.json(), cli)
    assert [(g["product"]["name"], [v["name"] for v in g["via"]]) for g in cli] == [("Staff wiki", ["Staff", "Writers"])]

    text = run_cli(rampart_bin, "user", "access", "--user", org["adminUserId"], *store).stdout
    assert "may use no product" in text, text
    missing = requests.get(f"{server.api}/users/00000000-0000-7000-8000-000000000000/access",
                           headers=bearer(org["apiToken"]), timeout=10)
    assert missing.status_code == 404, missing.text
