"""What an admin does in the console, done with the `rampart` command line, on SQLite and on
PostgreSQL: users, groups, products and product access, API tokens and the audit log. Each
command is checked through another command (or the API), and bad input must change nothing."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from conftest import bearer, create_org, run_cli, run_cli_json, sqlite_store
from test_cli import audit_sequences


def cli(bin_path, store, *args):
    return run_cli_json(bin_path, *args, *store.args, "--json")


def data(bin_path, store, *args):
    return cli(bin_path, store, *args)["data"]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    return sqlite_store(tmp_path / "data") if request.param == "sqlite" else request.getfixturevalue("postgres")


@pytest.fixture
def acme(rampart_bin, store):
    slug = f"acme-{uuid.uuid4().hex[:8]}"
    org = create_org(rampart_bin, store.args, "Acme", "admin@acme.example.test", "--slug", slug)
    user = cli(rampart_bin, store, "user", "create", "--org", slug, "--email", "Ada@acme.example.test",
               "--name", "Ada Lovelace")
    return store, slug, org, user


def all_events(bin_path, store, slug, *filters, limit="3"):
    """Every event, newest first, read page by page with --cursor."""
    events, cursor = [], None
    while True:
        page = cli(bin_path, store, "audit", "events", "--org", slug, "--limit", limit, *filters,
                   *(["--cursor", cursor] if cursor else []))
        assert len(page["data"]) <= int(limit)
        events += page["data"]
        cursor = page["nextCursor"]
        if cursor is None:
            return events


def test_groups_and_product_access(rampart_bin, acme):
    store, slug, _, ada = acme
    group = cli(rampart_bin, store, "group", "create", "--org", slug, "--name", "Engineers",
                "--description", "People who build")
    assert group["name"] == "Engineers" and group["memberCount"] == 0

    # A user by email (any case) or id; a group by name (any case) or id.
    added = cli(rampart_bin, store, "group", "add-member", "--org", slug, "--group", "engineers",
                "--user", "ada@ACME.example.test")
    assert (added["group"]["id"], added["user"]["id"]) == (group["id"], ada["id"])
    cli(rampart_bin, store, "group", "add-member", "--org", slug, "--group", group["id"], "--user", ada["id"])
    members = data(rampart_bin, store, "group", "members", "--org", slug, "--group", "Engineers")
    assert [m["id"] for m in members] == [ada["id"]]
    assert [g["memberCount"] for g in data(rampart_bin, store, "group", "list", "--org", slug)] == [1]

    product = cli(rampart_bin, store, "product", "create", "--org", slug, "--name", "Wiki", "--kind", "wiki",
                  "--url", "https://wiki.acme.example.test")
    assert (product["kind"], product["url"]) == ("wiki", "https://wiki.acme.example.test")
    assert [p["id"] for p in data(rampart_bin, store, "product", "list", "--org", slug)] == [product["id"]]
    cli(rampart_bin, store, "product", "grant", "--org", slug, "--product", "wiki", "--group", "Engineers")
    access = data(rampart_bin, store, "product", "access", "--org", slug, "--product", product["id"])
    assert [g["id"] for g in access] == [group["id"]]

    cli(rampart_bin, store, "product", "revoke", "--org", slug, "--product", "Wiki", "--group", group["id"])
    assert data(rampart_bin, store, "product", "access", "--org", slug, "--product", "Wiki") == []
    cli(rampart_bin, store, "group", "remove-member", "--org", slug, "--group", "Engineers", "--user", ada["id"])
    assert data(rampart_bin, store, "group", "members", "--org", slug, "--group", "Engineers") == []

    # Each change is one audit event by the system, naming what it touched; repeating an
    # add-member changed nothing and wrote nothing.
    actions = [e["action"] for e in all_events(rampart_bin, store, slug)]
    assert actions[:7] == ["group.member_removed", "product.access_revoked", "product.access_granted",
                           "product.created", "group.member_added", "group.created", "user.created"], actions
    granted = all_events(rampart_bin, store, slug, "--action", "product.access_granted")
    assert len(granted) == 1
    assert granted[0]["actor"]["type"] == "system"
    assert {t["id"] for t in granted[0]["targets"]} == {product["id"], group["id"]}
    assert run_cli(rampart_bin, "audit", "verify", "--org", slug, *store.args).returncode == 0


def test_users_deactivate_reactivate_and_filters(rampart_bin, acme):
    store, slug, _, ada = acme
    cli(rampart_bin, store, "user", "create", "--org", slug, "--email", "grace@acme.example.test",
        "--name", "Grace Hopper")
    off = cli(rampart_bin, store, "user", "deactivate", "--org", slug, "--user", "ada@acme.example.test")
    assert off["status"] == "deactivated"
    deactivated = data(rampart_bin, store, "user", "list", "--org", slug, "--status", "deactivated")
    assert [u["id"] for u in deactivated] == [ada["id"]]

    on = cli(rampart_bin, store, "user", "reactivate", "--org", slug, "--user", ada["id"])
    assert on["status"] == "active"
    assert data(rampart_bin, store, "user", "list", "--org", slug, "--status", "deactivated") == []
    found = data(rampart_bin, store, "user", "list", "--org", slug, "--search", "hopper")
    assert [u["email"] for u in found] == ["grace@acme.example.test"]
    by_email = data(rampart_bin, store, "user", "list", "--org", slug, "--email", "ADA@acme.example.test")
    assert [u["id"] for u in by_email] == [ada["id"]]

    about_ada = all_events(rampart_bin, store, slug, "--target", ada["id"])
    assert [e["action"] for e in about_ada] == ["user.reactivated", "user.deactivated", "user.created"]


def test_audit_events_pages_and_time_filters(rampart_bin, acme):
    store, slug, _, _ = acme
    for n in range(4):
        cli(rampart_bin, store, "group", "create", "--org", slug, "--name", f"Team {n}")
    events = all_events(rampart_bin, store, slug, limit="2")
    sequences = [e["sequence"] for e in events]
    assert sequences == list(range(len(events), 0, -1)), "pages skipped or repeated events"
    if store.kind == "sqlite":  # and they are what a peer reads from the file
        assert sequences == sorted(audit_sequences(store.data_dir), reverse=True)
    for newer, older in zip(events, events[1:]):
        assert older["hash"] == newer["previousHash"]

    middle = events[len(events) // 2]["occurredAt"]
    since = all_events(rampart_bin, store, slug, "--since", middle)
    until = all_events(rampart_bin, store, slug, "--until", middle)
    assert since and until
    assert all(e["occurredAt"] >= middle for e in since)
    assert all(e["occurredAt"] < middle for e in until)
    assert len(since) + len(until) == len(events)

    plain = run_cli(rampart_bin, "audit", "events", "--org", slug, "--limit", "2", *store.args).stdout
    assert "group.created" in plain and "--cursor" in plain, plain


def test_audit_search_matches_words_over_action_actor_and_targets(rampart_bin, acme):
    store, slug, _, ada = acme
    found = cli(rampart_bin, store, "audit", "events", "--org", slug, "--search", "USER.created  ada@ACME.example.test")
    assert [e["action"] for e in found["data"]] == ["user.created"], found
    assert found["data"][0]["targets"][0]["id"] == ada["id"]
    assert found["search"]["complete"] is True and found.get("nextCursor") is None, found
    assert found["search"]["examined"] >= 4
    assert cli(rampart_bin, store, "audit", "events", "--org", slug, "--search", "ada@acme.example.test",
               "--action", "role.")["data"] == []
    # Page by page: the same events as one request, newest first.
    every = all_events(rampart_bin, store, slug, "--search", "acme.example.test", limit="1")
    assert [e["sequence"] for e in every] == sorted((e["sequence"] for e in every), reverse=True) and len(every) >= 2
    plain = run_cli(rampart_bin, "audit", "events", "--org", slug, "--search", "user.created ada", *store.args).stdout
    assert "user.created" in plain and "ada@acme.example.test" in plain.lower(), plain


def test_audit_filters_are_saved_listed_and_deleted(rampart_bin, acme):
    store, slug, _, ada = acme
    saved = cli(rampart_bin, store, "audit", "filters", "save", "--org", slug, "--name", "Ada's changes",
                "--actor", "ada@acme.example.test", "--search", "user.updated  ada")
    assert saved["name"] == "Ada's changes" and saved["actor"] == ada["id"] and saved["q"] == "user.updated ada", saved
    listed = cli(rampart_bin, store, "audit", "filters", "list", "--org", slug)["data"]
    assert [f["id"] for f in listed] == [saved["id"]]
    again = run_cli(rampart_bin, "audit", "filters", "save", "--org", slug, "--name", "ADA'S CHANGES", "--action", "user.",
                    *store.args, check=False)
    assert again.returncode != 0 and "already exists" in again.stderr + again.stdout, again.stderr
    nothing = run_cli(rampart_bin, "audit", "filters", "save", "--org", slug, "--name", "Empty", *store.args, check=False)
    assert nothing.returncode != 0 and "at least one" in nothing.stderr + nothing.stdout, nothing.stderr
    assert len(cli(rampart_bin, store, "audit", "filters", "list", "--org", slug)["data"]) == 1
    text = run_cli(rampart_bin, "audit", "filters", "list", "--org", slug, *store.args).stdout
    assert "Ada's changes" in text and "q=user.updated ada" in text, text

    deleted = cli(rampart_bin, store, "audit", "filters", "delete", "--org", slug, "--filter", "ada's CHANGES")
    assert deleted == {"id": saved["id"], "name": "Ada's changes", "deleted": True}
    assert cli(rampart_bin, store, "audit", "filters", "list", "--org", slug)["data"] == []
    gone = run_cli(rampart_bin, "audit", "filters", "delete", "--org", slug, "--filter", saved["id"], *store.args, check=False)
    assert gone.returncode == 4 and "No saved filter" in gone.stderr + gone.stdout
    actions = [e["action"] for e in cli(rampart_bin, store, "audit", "events", "--org", slug, "--action", "audit_filter.")["data"]]
    assert actions == ["audit_filter.deleted", "audit_filter.created"]


def test_audit_filters_are_renamed_and_changed(rampart_bin, acme):
    store, slug, _, ada = acme
    saved = cli(rampart_bin, store, "audit", "filters", "save", "--org", slug, "--name", "Failures",
                "--action", "auth.signin_failed", "--search", "ada", "--since", "2026-11-01T00:00:00Z")
    cli(rampart_bin, store, "audit", "filters", "save", "--org", slug, "--name", "Role changes", "--action", "role.")
    updated = cli(rampart_bin, store, "audit", "filters", "update", "--org", slug, "--filter", "failures",
                  "--name", "Ada's failures", "--actor", "ada@acme.example.test", "--clear", "search")
    assert updated["id"] == saved["id"] and updated["name"] == "Ada's failures", updated
    assert updated["actor"] == ada["id"] and updated["q"] is None and updated["action"] == "auth.signin_failed", updated
    assert updated["since"].startswith("2026-11-01T00:00:00"), updated

    refusals = [
        (["--name", "ROLE CHANGES"], "already exists"),
        (["--until", "2026-10-01T00:00:00Z"], "after since"),
        (["--clear", "action", "--clear", "actor", "--clear", "since"], "at least one"),
        (["--action", "user.", "--clear", "action"], "contradict"),
        ([], "Give --name"),
    ]
    for args, message in refusals:
        refused = run_cli(rampart_bin, "audit", "filters", "update", "--org", slug, "--filter", saved["id"], *args,
                          *store.args, check=False)
        assert refused.returncode != 0 and message in refused.stderr + refused.stdout, (args, refused.stderr)
    missing = run_cli(rampart_bin, "audit", "filters", "update", "--org", slug, "--filter", "No such view", "--name", "X",
                      *store.args, check=False)
    assert missing.returncode == 4 and "No saved filter" in missing.stderr + missing.stdout
    listed = {f["id"]: f for f in cli(rampart_bin, store, "audit", "filters", "list", "--org", slug)["data"]}
    assert listed[saved["id"]] == updated, "nothing refused changed the filter"
    text = run_cli(rampart_bin, "audit", "filters", "update", "--org", slug, "--filter", saved["id"], "--target", "t-1",
                   *store.args).stdout
    assert "Updated saved filter Ada's failures" in text, text
    events = cli(rampart_bin, store, "audit", "events", "--org", slug, "--action", "audit_filter.updated")["data"]
    assert [e["details"]["changed"] for e in events] == [["target"], ["name", "q", "actor"]], events


def test_cli_token_works_on_the_api_until_revoked(rampart_bin, acme, server_factory):
    store, slug, _, ada = acme
    created = cli(rampart_bin, store, "token", "create", "--org", slug, "--name", "reporting", "--role", "auditor",
                  "--expires-in-days", "30")
    assert created["token"]["role"] == "auditor" and created["token"]["expiresAt"] is not None
    assert created["secret"].startswith("rmp_")
    listed = data(rampart_bin, store, "token", "list", "--org", slug)
    assert created["token"]["id"] in [t["id"] for t in listed]
    assert all("secret" not in t for t in listed), "token list shows a secret"

    server = server_factory(store)
    users = requests.get(f"{server.api}/users/{ada['id']}", headers=bearer(created["secret"]), timeout=10)
    assert users.status_code == 200, users.text
    # An auditor reads; it does not write.
    denied = requests.post(f"{server.api}/users", headers=bearer(created["secret"]), timeout=10,
                           json={"email": "nope@acme.example.test", "displayName": "Nope"})
    assert denied.status_code == 403, denied.text

    revoked = cli(rampart_bin, store, "token", "revoke", "--org", slug, "--token", created["token"]["id"])
    assert revoked["revokedAt"] is not None
    # The running server refuses it on the very next request.
    after = requests.get(f"{server.api}/users/{ada['id']}", headers=bearer(created["secret"]), timeout=10)
    assert after.status_code == 401, after.text


def snapshot(bin_path, store, slug):
    return {
        "events": [e["hash"] for e in all_events(bin_path, store, slug, limit="200")],
        "groups": data(bin_path, store, "group", "list", "--org", slug),
        "products": data(bin_path, store, "product", "list", "--org", slug),
        "tokens": data(bin_path, store, "token", "list", "--org", slug),
        "users": data(bin_path, store, "user", "list", "--org", slug),
    }


@pytest.mark.parametrize("args, exit_code, says", [
    (["group", "add-member", "--group", "Nobody", "--user", "ada@acme.example.test"], 4, "No group 'Nobody'"),
    (["group", "add-member", "--group", "Engineers", "--user", "nobody@acme.example.test"], 4, "No user"),
    (["product", "grant", "--product", "Wiki", "--group", "00000000-0000-7000-8000-000000000000"], 4, "No group"),
    (["product", "create", "--name", "wiki", "--kind", "wiki", "--url", "https://x.example.test"], 2, "already exists"),
    (["product", "create", "--name", "Chat", "--kind", "fax", "--url", "https://x.example.test"], 64, "kind"),
    (["product", "create", "--name", "Chat", "--kind", "chat", "--url", "ftp://x.example.test"], 2, "url"),
    (["group", "create", "--name", "engineers"], 2, "already exists"),
    (["token", "create", "--name", "x", "--role", "root"], 64, "role"),
    (["token", "create", "--name", "x", "--role", "auditor", "--expires-in-days", "0"], 64, "--expires-in-days"),
    (["token", "revoke", "--token", "not-an-id"], 4, "not found"),
    (["user", "reactivate", "--user", "nobody@acme.example.test"], 4, "No user"),
    (["audit", "events", "--since", "yesterday"], 64, "RFC 3339"),
    (["audit", "events", "--limit", "0"], 64, "--limit"),
    (["audit", "events", "--until", "2026-13-01T00:00:00Z"], 64, "RFC 3339"),
    (["audit", "events", "--cursor", "0"], 64, "--cursor"),
    (["audit", "events", "--search", "x" * 201], 64, "at most 200 characters"),
])
def test_bad_input_is_refused_and_changes_nothing(rampart_bin, acme, args, exit_code, says):
    store, slug, _, _ = acme
    cli(rampart_bin, store, "group", "create", "--org", slug, "--name", "Engineers")
    cli(rampart_bin, store, "product", "create", "--org", slug, "--name", "Wiki", "--kind", "wiki",
        "--url", "https://wiki.acme.example.test")
    before = snapshot(rampart_bin, store, slug)

    proc = run_cli(rampart_bin, *args, "--org", slug, *store.args, check=False)
    message = proc.stderr + proc.stdout
    assert proc.returncode == exit_code, f"exit {proc.returncode}, expected {exit_code}:\n{message}"
    assert says.lower() in message.lower(), f"the error does not say what is wrong:\n{message}"
    assert "Fatal error" not in message and "Stack dump" not in message, message
    assert snapshot(rampart_bin, store, slug) == before, "a refused command changed the store"


def test_another_organisations_ids_are_not_found(rampart_bin, acme):
    store, slug, _, ada = acme
    group = cli(rampart_bin, store, "group", "create", "--org", slug, "--name", "Engineers")
    product = cli(rampart_bin, store, "product", "create", "--org", slug, "--name", "Wiki", "--kind", "wiki",
                  "--url", "https://wiki.acme.example.test")
    token = cli(rampart_bin, store, "token", "create", "--org", slug, "--name", "ci", "--role", "auditor")
    other = create_org(rampart_bin, store.args, f"Other {uuid.uuid4().hex[:8]}",
                       "admin@other.example.test")["organization"]["slug"]
    cli(rampart_bin, store, "group", "create", "--org", other, "--name", "Mine")
    before = (snapshot(rampart_bin, store, slug), snapshot(rampart_bin, store, other))

    for args in (["group", "members", "--group", group["id"]],
                 ["group", "add-member", "--group", group["id"], "--user", ada["id"]],
                 ["group", "add-member", "--group", "Mine", "--user", ada["id"]],
                 ["product", "grant", "--product", product["id"], "--group", "Mine"],
                 ["product", "access", "--product", product["id"]],
                 ["token", "revoke", "--token", token["token"]["id"]],
                 ["user", "deactivate", "--user", ada["id"]],
                 ["audit", "events", "--target", ada["id"]]):
        proc = run_cli(rampart_bin, *args, "--org", other, *store.args, "--json", check=False)
        if args[:2] == ["audit", "events"]:
            assert proc.returncode == 0 and json.loads(proc.stdout)["data"] == [], proc.stdout
        else:
            assert proc.returncode == 4, f"{args} with another organisation exited {proc.returncode}:\n{proc.stdout}"
    assert (snapshot(rampart_bin, store, slug), snapshot(rampart_bin, store, other)) == before
