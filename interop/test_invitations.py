"""Invitations (issue 17, "People get in"): an admin invites a person without a password from the
console, which shows the link once and mails it through msmtp to aiosmtpd; the person sets
their password with it; the CLI invites from another directory and refuses a person who has a
password already."""

from __future__ import annotations

import re
import uuid

import requests
from selenium.webdriver.common.by import By

from conftest import create_org, run_cli, run_cli_json, unique
from test_console_browser import Steps, find, make_driver
from test_console_confirm import press
from test_console_first_hour import sign_in
from test_password_reset_mail import mail_args, smtp  # noqa: F401  (the fixture)

NEW_PASSWORD = "harbour violet thirteen owls"


def test_an_admin_invites_from_the_console_and_the_link_is_mailed(rampart_bin, server_factory, sqlite, smtp, tmp_path):  # noqa: F811
    port, inbox, _ = smtp
    server = server_factory(sqlite, extra_args=mail_args(port))
    admin = f"admin-{uuid.uuid4().hex[:6]}@example.test"
    org = create_org(rampart_bin, sqlite.args, unique("Invite Org"), admin, "--public-url", server.base_url)
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    invitee = f"new-{uuid.uuid4().hex[:6]}@example.test"
    user = run_cli_json(rampart_bin, "user", "create", "--email", invitee, "--name", "New Person", *store, "--json")

    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(f"{server.base_url}/console/users/{user['id']}")
        assert "Not invited yet" in find(driver, By.ID, "invitation-state", steps).text, steps.context()
        find(driver, By.ID, "send-invitation", steps).click()
        press(driver, steps, find(driver, By.ID, "invite", steps))
        link = find(driver, By.ID, "invitation-link", steps).text
        assert "/console/setup?token=" in link and "mailed" in find(driver, By.ID, "notice", steps).text, steps.context()
        press(driver, steps, find(driver, By.ID, "back-to-user", steps))
        assert "Invited; the link works until" in find(driver, By.ID, "invitation-state", steps).text, steps.context()
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()

    messages = inbox.wait(1)
    assert [m["To"] for m in messages] == [invitee], messages
    assert link in messages[0].get_payload(decode=True).decode()

    # The person sets their password with the link; then an invitation is refused.
    person = requests.Session()
    page = person.get(link, timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    token = link.split("token=")[1]
    done = person.post(f"{server.base_url}/console/setup", timeout=10, allow_redirects=False,
                       data={"token": token, "csrf": csrf, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 303, done.text[:300]
    refused = run_cli(rampart_bin, "user", "invite", "--user", invitee, *store, check=False)
    assert refused.returncode == 2 and "has set a password already" in refused.stderr, refused


def test_the_cli_invites_and_reissues(rampart_bin, sqlite):
    org = create_org(rampart_bin, sqlite.args, unique("CLI Invite"), f"admin-{uuid.uuid4().hex[:6]}@example.test")
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    run_cli(rampart_bin, "user", "create", "--email", "ada@example.test", "--name", "Ada", *store)
    first = run_cli_json(rampart_bin, "user", "invite", "--user", "ada@example.test", "--days", "2",
                         "--public-url", "https://rampart.example.test", *store, "--json")
    assert first["url"].startswith("https://rampart.example.test/console/setup?token=") and first["reissued"] is False
    second = run_cli(rampart_bin, "user", "invite", "--user", "ada@example.test", *store).stdout
    assert "the earlier invitation no longer works" in second and "setup link:" in second, second
    bad = run_cli(rampart_bin, "user", "invite", "--user", "ada@example.test", "--days", "90", *store, check=False)
    assert bad.returncode == 2 and "expiresInDays" in bad.stderr, bad
    events = run_cli_json(rampart_bin, "audit", "events", "--action", "user.invited", *store, "--json")["data"]
    assert len(events) == 2 and events[0]["details"]["reissued"] is True, events
