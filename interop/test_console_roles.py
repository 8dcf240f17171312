"""Giving and taking roles (issue 17: "today only the first admin can ever sign in"): from the
console (taking asks first), the CLI (which says when nothing changed) and the API, all
through the same role assignments."""

from __future__ import annotations

import uuid

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import bearer, new_org, run_cli, run_cli_json
from test_console_browser import Steps, find, make_driver
from test_console_browser import console  # noqa: F401  (the fixture)
from test_console_confirm import press
from test_console_first_hour import sign_in


def roles_of(rampart_bin, store, email) -> list[str]:
    return run_cli_json(rampart_bin, "user", "list", "--email", email, *store, "--json")["data"][0]["roles"]


def test_give_and_take_a_role_in_the_console(console, sqlite, rampart_bin, tmp_path):  # noqa: F811
    server, org, admin = console
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    email = f"helper-{uuid.uuid4().hex[:8]}@console.example.test"
    user = run_cli_json(rampart_bin, "user", "create", "--email", email, "--name", "Helper", *store, "--json")
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(f"{server.base_url}/console/users/{user['id']}")
        Select(find(driver, By.ID, "role", steps)).select_by_value("user-admin")
        press(driver, steps, find(driver, By.ID, "give-role", steps))
        assert "given" in find(driver, By.ID, "notice", steps).text.lower(), steps.context()
        assert roles_of(rampart_bin, store, email) == ["user-admin"]

        press(driver, steps, find(driver, By.ID, "take-user-admin", steps))
        assert "user-admin" in find(driver, By.ID, "confirm-question", steps).text
        assert roles_of(rampart_bin, store, email) == ["user-admin"], "taking a role did not ask first"
        press(driver, steps, find(driver, By.ID, "confirm", steps))
        assert "taken" in find(driver, By.ID, "notice", steps).text.lower(), steps.context()
        assert roles_of(rampart_bin, store, email) == []
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()


def test_give_and_take_a_role_with_the_cli_and_the_api(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    run_cli(rampart_bin, "user", "create", "--email", "ada@example.test", "--name", "Ada", *store)
    role = ["--user", "ada@example.test", "--role", "auditor", *store]

    assert "now has the role auditor" in run_cli(rampart_bin, "user", "grant-role", *role).stdout
    assert "nothing changed" in run_cli(rampart_bin, "user", "grant-role", *role).stdout
    assert roles_of(rampart_bin, store, "ada@example.test") == ["auditor"]
    assert "no longer has the role auditor" in run_cli(rampart_bin, "user", "revoke-role", *role).stdout
    assert "nothing changed" in run_cli(rampart_bin, "user", "revoke-role", *role).stdout

    user_id = run_cli_json(rampart_bin, "user", "list", "--email", "ada@example.test", *store, "--json")["data"][0]["id"]
    r = requests.put(f"{server.api}/users/{user_id}/roles/user-admin", headers=bearer(org["apiToken"]), timeout=10)
    assert r.status_code in (200, 204), r.text
    roles = roles_of(rampart_bin, store, "ada@example.test")
    assert roles == ["user-admin"], roles
    events = run_cli_json(rampart_bin, "audit", "events", "--action", "role.", *store, "--json")["data"]
    assert sorted(e["action"] for e in events if e["targets"][0]["id"] == user_id) == [
        "role.assigned", "role.assigned", "role.revoked"], events
