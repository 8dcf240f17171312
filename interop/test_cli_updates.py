"""`rampart user|group|product update` (issue 17): the CLI edits what the console and the API
edit, from another directory, audited like them; bad values are refused and change nothing."""

from __future__ import annotations

from conftest import new_org, run_cli, run_cli_json


def test_update_users_groups_and_products(rampart_bin, sqlite):
    org = new_org(rampart_bin, sqlite.args)
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    run_cli(rampart_bin, "user", "create", "--email", "ada@example.test", "--name", "Ada", *store)
    run_cli(rampart_bin, "group", "create", "--name", "Staff", *store)
    run_cli(rampart_bin, "product", "create", "--name", "Wiki", "--kind", "wiki", "--url", "https://wiki.example.test", *store)

    user = run_cli_json(rampart_bin, "user", "update", "--user", "ada@example.test", "--name", "Ada Lovelace", *store, "--json")
    assert user["displayName"] == "Ada Lovelace" and user["email"] == "ada@example.test"
    group = run_cli_json(rampart_bin, "group", "update", "--group", "Staff", "--name", "Staff + Friends", *store, "--json")
    assert group["name"] == "Staff + Friends"
    product = run_cli_json(rampart_bin, "product", "update", "--product", "Wiki", "--url", "https://docs.example.test",
                           *store, "--json")
    assert product["url"] == "https://docs.example.test"
    actions = [e["action"] for e in run_cli_json(rampart_bin, "audit", "events", *store, "--json")["data"]]
    assert {"user.updated", "group.updated", "product.updated"} <= set(actions), actions

    before = len(actions)
    bad_url = run_cli(rampart_bin, "product", "update", "--product", "Wiki", "--url", "javascript:alert(1)", *store, check=False)
    assert bad_url.returncode == 2 and "url" in bad_url.stderr.lower(), bad_url
    nothing = run_cli(rampart_bin, "group", "update", "--group", "Staff + Friends", *store, check=False)
    assert nothing.returncode != 0 and "--name or --description" in nothing.stderr, nothing
    unknown = run_cli(rampart_bin, "user", "update", "--user", "nobody@example.test", "--name", "X", *store, check=False)
    assert unknown.returncode == 4, unknown
    assert len(run_cli_json(rampart_bin, "audit", "events", *store, "--json")["data"]) == before
