"""Deleting users, groups and products from the console (issue 17): the Delete button asks
first on a confirmation page, and the list that follows says what was done in a banner."""

from __future__ import annotations

import uuid

from selenium.webdriver.common.by import By

from conftest import run_cli, run_cli_json
from test_console_browser import Steps, find, make_driver
from test_console_browser import console  # noqa: F401  (the fixture)
from test_console_confirm import press
from test_console_first_hour import sign_in


def test_delete_asks_first_then_deletes(console, sqlite, rampart_bin, tmp_path):  # noqa: F811
    server, org, admin = console
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    email = f"temp-{uuid.uuid4().hex[:8]}@console.example.test"
    things = {
        "users": (run_cli_json(rampart_bin, "user", "create", "--email", email, "--name", "Temp", *store, "--json"), email),
        "groups": (run_cli_json(rampart_bin, "group", "create", "--name", "Old team", *store, "--json"), "Old team"),
        "products": (run_cli_json(rampart_bin, "product", "create", "--name", "Old wiki", "--kind", "wiki",
                                  "--url", "https://old.example.test", *store, "--json"), "Old wiki"),
    }

    def listed(kind: str) -> str:
        return run_cli(rampart_bin, kind.rstrip("s"), "list", *store).stdout

    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        for kind, (created, name) in things.items():
            driver.get(f"{server.base_url}/console/{kind}/{created['id']}")
            press(driver, steps, find(driver, By.ID, "delete", steps))
            assert find(driver, By.ID, "confirm-question", steps).text == f"Delete {name}?", steps.context()
            assert name in listed(kind), f"{kind}: deleted before confirming"
            press(driver, steps, find(driver, By.ID, "confirm", steps))
            assert find(driver, By.ID, "notice", steps).text == "Deleted.", steps.context()
            assert driver.current_url.split("?")[0].endswith(f"/console/{kind}"), driver.current_url
            assert name not in listed(kind), f"{kind}: {name} is still listed"
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()
