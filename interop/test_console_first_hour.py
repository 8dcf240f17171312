"""What a new admin trips over in the console (issue 17), driven through Chromium: the
console's own forms, submitted by a real browser, must do what their labels say."""

from __future__ import annotations

import uuid
from urllib.parse import urlparse

import requests
from selenium.webdriver.common.by import By

from conftest import bearer, run_cli, run_cli_json
from test_console_browser import PASSWORD, Steps, fill, find, make_driver, on_signin_page, submit
from test_console_browser import console  # noqa: F401  (the fixture)


def sign_in(driver, steps: Steps, server, org, admin) -> None:
    driver.get(org["setupLink"])
    fill(driver, steps, password=PASSWORD, password_confirm=PASSWORD)
    submit(driver, steps, "submit")
    if on_signin_page(driver):
        if "/console/signin" not in urlparse(driver.current_url).path:
            driver.get(f"{server.base_url}/console/signin")
        fill(driver, steps, organization=org["organization"]["slug"], email=admin, password=PASSWORD)
        submit(driver, steps, "signin")
    assert not on_signin_page(driver), f"sign-in did not succeed\n{steps.context()}"


def test_search_with_a_space(console, tmp_path):  # noqa: F811
    server, org, admin = console
    email = f"grace-{uuid.uuid4().hex[:8]}@console.example.test"
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(f"{server.base_url}/console/users")
        fill(driver, steps, email=email, display_name="Grace Allen")
        submit(driver, steps, "create-user")

        # Defect 3: the search form sends q=Grace+Allen; '+' is a space in a form's query.
        driver.get(f"{server.base_url}/console/users")
        fill(driver, steps, q="Grace Allen")
        submit(driver, steps, "search")
        steps.shot("search")
        assert "q=Grace+Allen" in driver.current_url, driver.current_url
        assert email in find(driver, By.TAG_NAME, "body", steps).text, (
            f"searching 'Grace Allen' did not find the user\n{steps.context()}"
        )

    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()


def test_audit_filter_form_with_empty_fields(console, tmp_path):  # noqa: F811
    """Defect 1: the filter form submits every field; empty ones mean "no filter"."""
    server, org, admin = console
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(f"{server.base_url}/console/users")
        fill(driver, steps, email=f"filter-{uuid.uuid4().hex[:8]}@console.example.test", display_name="Filter Me")
        submit(driver, steps, "create-user")
        driver.get(f"{server.base_url}/console/audit")
        fill(driver, steps, action="user.")
        submit(driver, steps, "filter")
        steps.shot("audit-filter")
        assert "since=" in driver.current_url, driver.current_url
        assert not driver.find_elements(By.ID, "filter-error"), f"the filter was rejected\n{steps.context()}"
        actions = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#events td.action")]
        assert actions, f"no user. events shown\n{steps.context()}"
        assert all(a.startswith("user.") for a in actions), f"unfiltered: {actions}"
        assert "user.created" in actions, actions
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()


def test_tokens_page_header_shows_the_signed_in_roles(console, tmp_path):  # noqa: F811
    """Defect 2: the API-tokens page header printed the role options' template data."""
    server, org, admin = console
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(f"{server.base_url}/console/api-tokens")
        who = find(driver, By.CSS_SELECTOR, ".who", steps).text
        assert who == f"{admin} (org-admin)", f"header shows {who!r}\n{steps.context()}"
        options = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#role option")]
        assert sorted(options) == ["auditor", "org-admin", "user-admin"], options
    finally:
        driver.quit()


def test_audit_page_names_the_actor_kind_and_labels_details(console, sqlite, rampart_bin, tmp_path):  # noqa: F811
    """Defect 4: a token named like a person (here, the signed-in admin's email) made its
    actions look like that person's on the audit page. Every actor shows its kind; details
    are labelled values and actors and targets link to their pages. Defect 10: the CLI's
    `audit events --actor` takes an email."""
    server, org, admin = console
    slug = org["organization"]["slug"]
    created = run_cli_json(rampart_bin, "token", "create", "--org", slug, "--name", admin, "--role", "org-admin",
                           *sqlite.args, "--json")
    r = requests.post(f"{server.api}/products", headers=bearer(created["secret"]),
                      json={"name": "Payroll", "kind": "chat", "url": "https://payroll.example.test"}, timeout=10)
    assert r.status_code == 201, r.text
    email = f"by-console-{uuid.uuid4().hex[:8]}@console.example.test"
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(f"{server.base_url}/console/users")
        fill(driver, steps, email=email, display_name="By Console")
        submit(driver, steps, "create-user")

        driver.get(f"{server.base_url}/console/audit?action=product.created")
        steps.shot("audit-token-actor")
        actor = find(driver, By.CSS_SELECTOR, "#events td.actor", steps).text
        assert actor == f"API token ‘{admin}’", f"actor shown as {actor!r}\n{steps.context()}"
        labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#events dl.details dt")]
        values = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#events dl.details dd")]
        assert dict(zip(labels, values)) == {"kind": "chat", "url": "https://payroll.example.test"}, (labels, values)
        target = find(driver, By.CSS_SELECTOR, "#events td.targets a", steps)
        assert target.text == "product Payroll" and "/console/products/" in target.get_attribute("href"), target.text

        driver.get(f"{server.base_url}/console/audit?action=user.created")
        row = [tr for tr in driver.find_elements(By.CSS_SELECTOR, "#events tr.event") if email in tr.text]
        assert len(row) == 1, f"the console-created user's event is missing\n{steps.context()}"
        actor_link = row[0].find_element(By.CSS_SELECTOR, "td.actor a")
        assert actor_link.text == f"user {admin}", actor_link.text
        assert actor_link.get_attribute("href").endswith(f"/console/users/{org['adminUserId']}"), actor_link.get_attribute("href")
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()

    by_admin = run_cli(rampart_bin, "audit", "events", "--org", slug, "--actor", admin, "--action", "user.created",
                       *sqlite.args).stdout
    assert email in by_admin and f"user {admin}" in by_admin, by_admin
