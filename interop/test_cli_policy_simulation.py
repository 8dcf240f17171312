"""`rampart policy simulate` and the lockout guard from the CLI (issue 12): the simulation names
the org-admin a proposed allowlist would lock out, the save is refused without --override and
changes nothing, and goes through with it."""

from __future__ import annotations

import json

from conftest import new_org, run_cli, run_cli_json

# bcrypt (cost 4) of "correct horse battery staple", made by Python's bcrypt: an admin with a
# password but no sign-in from any address yet.
BCRYPT = "$2b$04$RJsku3K5L7TJCT1eAeHvievVqjbW2paqa9nvsR3ZrDQhnQA0rkiIW"
ALLOWLIST = '{"ipAllowlist": ["192.0.2.0/24"]}'


def test_simulate_then_refuse_a_lockout_until_override(rampart_bin, sqlite):
    org = new_org(rampart_bin, sqlite.args)
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    admin = org["adminUserId"]
    run_cli(rampart_bin, "user", "import-hash", "--user", admin, "--hash", BCRYPT, *store)

    report = run_cli_json(rampart_bin, "policy", "simulate", "--policy", "default", "--settings", ALLOWLIST, *store, "--json")
    assert report["leavesNoOrgAdminAbleToSignIn"] is True, report
    assert [entry["user"]["id"] for entry in report["adminsLosingAccess"]] == [admin], report
    human = run_cli(rampart_bin, "policy", "simulate", "--policy", "default", "--settings", ALLOWLIST, *store).stdout
    assert "NO ORG-ADMIN COULD SIGN IN" in human and "--override" in human, human

    refused = run_cli(rampart_bin, "policy", "update", "--policy", "default", "--settings", ALLOWLIST, *store, check=False)
    assert refused.returncode == 2, refused
    assert "no org-admin able to sign in" in refused.stderr, refused.stderr
    shown = run_cli_json(rampart_bin, "policy", "show", "--policy", "default", *store, "--json")
    assert shown["settings"].get("ipAllowlist") is None, shown

    run_cli(rampart_bin, "policy", "update", "--policy", "default", "--settings", ALLOWLIST, "--override", *store)
    shown = run_cli_json(rampart_bin, "policy", "show", "--policy", "default", *store, "--json")
    assert shown["settings"]["ipAllowlist"] == ["192.0.2.0/24"], shown
    events = run_cli_json(rampart_bin, "audit", "events", "--action", "auth_policy.updated", *store, "--json")["data"]
    assert events[0]["details"]["override"] is True, json.dumps(events[0])


def test_simulate_a_new_policy_for_a_group_and_refuse_nothing_to_simulate(rampart_bin, sqlite):
    org = new_org(rampart_bin, sqlite.args)
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    run_cli(rampart_bin, "user", "create", "--email", "ada@example.test", "--name", "Ada", *store)
    run_cli(rampart_bin, "group", "create", "--name", "Staff", *store)
    run_cli(rampart_bin, "group", "add-member", "--group", "Staff", "--user", "ada@example.test", *store)

    report = run_cli_json(rampart_bin, "policy", "simulate", "--settings", '{"mfaRequired": true}',
                          "--assign-group", "Staff", *store, "--json")
    assert [person["email"] for person in report["affectedUsers"]] == ["ada@example.test"], report
    assert [entry["user"]["email"] for entry in report["usersWithoutMfa"]] == ["ada@example.test"], report
    listed = run_cli_json(rampart_bin, "policy", "list", *store, "--json")["data"]
    assert len(listed) == 1, "a simulated policy is not stored"

    nothing = run_cli(rampart_bin, "policy", "simulate", *store, check=False)
    assert nothing.returncode == 2 and "Nothing to simulate" in nothing.stderr, nothing
    unknown = run_cli(rampart_bin, "policy", "simulate", "--settings", "{}", "--assign-group", "Nobody", *store, check=False)
    assert unknown.returncode == 4, unknown
