"""The `rampart` command line against a SQLite data dir, no server running: the admin round
trip, `audit verify` on an intact chain, and on chains tampered with through Python's own
sqlite3 module (a peer that knows nothing about Rampart's hashes)."""

from __future__ import annotations

import re
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest

from conftest import create_org, run_cli, run_cli_json, sqlite_store


def find_database(data_dir: Path) -> Path:
    """The SQLite file under the data dir that holds audit_events (its name is Rampart's
    business, the table is the contract)."""
    candidates = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file():
            continue
        with open(path, "rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                continue
        with sqlite3.connect(path) as db:
            if db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='audit_events'").fetchone():
                candidates.append(path)
    assert len(candidates) == 1, f"expected one SQLite file with audit_events under {data_dir}, found {candidates}"
    return candidates[0]


def tamper(data_dir: Path, *statements: str) -> None:
    db = sqlite3.connect(find_database(data_dir))
    try:
        with db:
            for statement in statements:
                db.execute(statement)
    finally:
        db.close()


def audit_sequences(data_dir: Path) -> list[int]:
    db = sqlite3.connect(find_database(data_dir))
    try:
        return [row[0] for row in db.execute("SELECT seq FROM audit_events ORDER BY seq")]
    finally:
        db.close()


def org_list(bin_path: str, store_args: list[str]) -> list[dict]:
    return run_cli_json(bin_path, "org", "list", *store_args, "--json")["data"]


@pytest.fixture
def populated(rampart_bin, tmp_path):
    """A data dir with one organisation, one extra user created and deactivated by the CLI:
    at least five audit events (org, admin, token, user created, user deactivated)."""
    store = sqlite_store(tmp_path / "data")
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    org = create_org(rampart_bin, store.args, "CLI Org", "admin@cli.example.test", "--slug", slug)
    run_cli_json(rampart_bin, "user", "create", "--org", slug, "--email", "ada@cli.example.test",
                 "--name", "Ada Lovelace", *store.args, "--json")
    run_cli_json(rampart_bin, "user", "deactivate", "--org", slug, "--user", "ada@cli.example.test",
                 *store.args, "--json")
    return store, org


def copy_store(store, dest: Path):
    shutil.copytree(store.data_dir, dest)
    return sqlite_store(dest)


def test_org_and_user_round_trip(rampart_bin, tmp_path):
    store = sqlite_store(tmp_path / "data")
    slug = f"round-{uuid.uuid4().hex[:8]}"
    created = create_org(rampart_bin, store.args, "Round Trip Ltd", "boss@round.example.test", "--slug", slug)
    org = created["organization"]
    assert org["name"] == "Round Trip Ltd"
    assert org["slug"] == slug
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", org["id"]), org["id"]
    assert re.fullmatch(r"rmp_[0-9a-f]{32}_[A-Za-z0-9_-]{43}", created["apiToken"]), created["apiToken"]
    assert created["apiToken"].split("_")[1] == org["id"].replace("-", "")
    assert "/console/setup?token=" in created["setupLink"]

    orgs = org_list(rampart_bin, store.args)
    assert [o["id"] for o in orgs] == [org["id"]]
    assert orgs[0]["slug"] == slug

    user = run_cli_json(rampart_bin, "user", "create", "--org", slug, "--email", "grace@round.example.test",
                        "--name", "Grace Hopper", *store.args, "--json")
    assert user["email"] == "grace@round.example.test"
    assert user["displayName"] == "Grace Hopper"
    assert user["status"] == "active"

    users = run_cli_json(rampart_bin, "user", "list", "--org", slug, *store.args, "--json")["data"]
    by_email = {u["email"]: u for u in users}
    assert set(by_email) == {"boss@round.example.test", "grace@round.example.test"}, users
    assert by_email["boss@round.example.test"]["id"] == created["adminUserId"]
    assert "org-admin" in by_email["boss@round.example.test"]["roles"]

    # Human output (no --json) must name the user too.
    plain = run_cli(rampart_bin, "user", "list", "--org", slug, *store.args)
    assert "grace@round.example.test" in plain.stdout

    # The org id works where the slug does; the user id where the email does.
    deactivated = run_cli_json(rampart_bin, "user", "deactivate", "--org", org["id"], "--user", user["id"],
                               *store.args, "--json")
    assert deactivated["id"] == user["id"]
    assert deactivated["status"] == "deactivated"
    users = run_cli_json(rampart_bin, "user", "list", "--org", slug, *store.args, "--json")["data"]
    assert {u["email"]: u["status"] for u in users}["grace@round.example.test"] == "deactivated"

    verify = run_cli(rampart_bin, "audit", "verify", *store.args, check=False)
    assert verify.returncode == 0, f"audit verify failed on an untouched chain:\n{verify.stdout}\n{verify.stderr}"
    assert re.search(rf"audit chain intact: {re.escape(slug)} \d+ events", verify.stdout), verify.stdout


def test_duplicate_user_is_rejected(rampart_bin, populated):
    store, org = populated
    slug = org["organization"]["slug"]
    proc = run_cli(rampart_bin, "user", "create", "--org", slug, "--email", "ada@cli.example.test",
                   "--name", "Ada Again", *store.args, check=False)
    assert proc.returncode != 0, "a second user with the same email was accepted"
    users = run_cli_json(rampart_bin, "user", "list", "--org", slug, *store.args, "--json")["data"]
    assert sum(u["email"].lower() == "ada@cli.example.test" for u in users) == 1


def test_audit_verify_intact(rampart_bin, populated):
    store, org = populated
    slug = org["organization"]["slug"]
    assert len(audit_sequences(store.data_dir)) >= 4
    proc = run_cli(rampart_bin, "audit", "verify", "--org", slug, *store.args, check=False)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    assert f"audit chain intact: {slug}" in proc.stdout


def verify_broken(bin_path: str, store, slug: str) -> str:
    proc = run_cli(bin_path, "audit", "verify", *store.args, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, f"audit verify exited {proc.returncode} on a tampered chain:\n{output}"
    assert "audit chain broken" in output, output
    assert f"organization {slug}" in output, output
    return output


def test_audit_verify_detects_edited_event(rampart_bin, populated, tmp_path):
    store, org = populated
    slug = org["organization"]["slug"]
    copy = copy_store(store, tmp_path / "edited")
    tamper(copy.data_dir, "UPDATE audit_events SET action='user.deleted' WHERE seq=2")
    output = verify_broken(rampart_bin, copy, slug)
    assert re.search(r"at sequence 2\b", output), f"verify does not name sequence 2:\n{output}"


def test_audit_verify_detects_edited_details(rampart_bin, populated, tmp_path):
    store, org = populated
    slug = org["organization"]["slug"]
    copy = copy_store(store, tmp_path / "details")
    last = max(audit_sequences(copy.data_dir))
    tamper(copy.data_dir, f"""UPDATE audit_events SET details='{{"tampered":true}}' WHERE seq={last}""")
    output = verify_broken(rampart_bin, copy, slug)
    assert re.search(rf"at sequence {last}\b", output), f"verify does not name sequence {last}:\n{output}"


def test_audit_verify_detects_deleted_event(rampart_bin, populated, tmp_path):
    store, org = populated
    slug = org["organization"]["slug"]
    copy = copy_store(store, tmp_path / "deleted")
    tamper(copy.data_dir, "DELETE FROM audit_events WHERE seq=3")
    output = verify_broken(rampart_bin, copy, slug)
    # The gap is at 3; a verifier that walks the hash links first meets it at 4, whose
    # previousHash no longer matches. Either names the place of the deletion.
    assert re.search(r"at sequence [34]\b", output), f"verify does not name sequence 3 or 4:\n{output}"


def test_audit_verify_detects_swapped_events(rampart_bin, populated, tmp_path):
    store, org = populated
    slug = org["organization"]["slug"]
    copy = copy_store(store, tmp_path / "swapped")
    # Swap the sequence numbers of rows 2 and 3 (through -1, as (org_id, seq) is the key).
    tamper(
        copy.data_dir,
        "UPDATE audit_events SET seq=-1 WHERE seq=2",
        "UPDATE audit_events SET seq=2 WHERE seq=3",
        "UPDATE audit_events SET seq=3 WHERE seq=-1",
    )
    output = verify_broken(rampart_bin, copy, slug)
    assert re.search(r"at sequence 2\b", output), f"verify does not name sequence 2:\n{output}"


@pytest.mark.parametrize("email", ["not-an-email", "", "two@@example.test", "spaces in@example.test"])
def test_org_create_rejects_invalid_email(rampart_bin, tmp_path, email):
    store = sqlite_store(tmp_path / "data")
    create_org(rampart_bin, store.args, "Existing Org", "admin@existing.example.test")
    before = org_list(rampart_bin, store.args)

    proc = run_cli(rampart_bin, "org", "create", "--name", "Bad Email Org", "--admin-email", email,
                   *store.args, "--json", check=False)
    assert proc.returncode != 0, f"org create accepted admin email {email!r}:\n{proc.stdout}"
    message = proc.stderr + proc.stdout
    assert "email" in message.lower(), f"the error does not say what is wrong with the input:\n{message}"
    assert "Fatal error" not in message and "Stack dump" not in message, f"the CLI crashed:\n{message}"

    assert org_list(rampart_bin, store.args) == before, "a rejected org create left an organisation behind"
