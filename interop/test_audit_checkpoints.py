"""Signed audit checkpoints, witnessed outside the database: a running server signs each
organisation's head and appends it to a witness file or POSTs it to a webhook; the
checkpoints verify with Python's `cryptography` (Ed25519, written by others) over the bytes
the security model documents; and cutting the log's tail and rewriting its head to match,
which the chain alone cannot show, fails `audit verify --checkpoints`."""

from __future__ import annotations

import base64
import csv
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from conftest import create_org, find_free_port, run_cli, run_cli_json
from test_cli import audit_sequences, tamper


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_signature(checkpoint: dict) -> None:
    """Raises unless the checkpoint is signed as docs/security-model.md says: version 2 when it
    has a tree root, version 1 (as signed before the tree existed) when not."""
    fields = [checkpoint["orgId"], checkpoint["sequence"], checkpoint["headHash"]]
    if checkpoint.get("treeRoot") is None:
        fields = ["rampart-audit-checkpoint/1", *fields]
    else:
        fields = ["rampart-audit-checkpoint/2", *fields, checkpoint["treeRoot"]]
    message = "".join(f"{part}\n" for part in [*fields, checkpoint["signedAt"], checkpoint["keyId"]])
    Ed25519PublicKey.from_public_bytes(b64url(checkpoint["publicKey"])).verify(b64url(checkpoint["signature"]),
                                                                               message.encode())


def wait_for(condition, within: float = 20.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def witnessed(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def witnessed_server(server_factory, store, witness: Path):
    """A server that signs a checkpoint every 3 events or every second and appends each to `witness`."""
    return server_factory(store, extra_args=["--audit-witness", str(witness), "--audit-checkpoint-events", "3",
                                             "--audit-checkpoint-seconds", "1"])


def add_users(base: str, token: str, count: int, prefix: str) -> None:
    for i in range(count):
        r = requests.post(f"{base}/api/v1/users", headers={"Authorization": f"Bearer {token}"},
                          json={"email": f"{prefix}{i}@witness.example.test", "displayName": f"Person {i}"}, timeout=10)
        assert r.status_code == 201, r.text


def test_a_cut_tail_is_caught_by_the_witness_file(rampart_bin, server_factory, sqlite, tmp_path):
    created = create_org(rampart_bin, sqlite.args, "Witnessed", "admin@witness.example.test")
    slug, token = created["organization"]["slug"], created["apiToken"]
    other = create_org(rampart_bin, sqlite.args, "Bystander", "admin@bystander.example.test")
    witness = tmp_path / "witness.jsonl"
    server = witnessed_server(server_factory, sqlite, witness)
    add_users(server.base_url, token, 6, "early")
    org_id = created["organization"]["id"]
    mine = wait_for(lambda: [c for c in witnessed(witness) if c["orgId"] == org_id and c["sequence"] >= 10])
    assert any(c["orgId"] == other["organization"]["id"] for c in witnessed(witness)), "every organisation is checkpointed"
    for checkpoint in witnessed(witness):
        check_signature(checkpoint)
    listed = requests.get(f"{server.base_url}/api/v1/audit-checkpoints", headers={"Authorization": f"Bearer {token}"},
                          timeout=10).json()["data"]
    assert listed and all(c["orgId"] == org_id for c in listed), "an organisation's token lists only its own"
    assert listed[0]["sequence"] >= mine[-1]["sequence"] and listed == sorted(listed, key=lambda c: -c["sequence"])
    server.stop()

    verified = run_cli(rampart_bin, "audit", "verify", "--checkpoints", str(witness), *sqlite.args, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    cli_listed = run_cli_json(rampart_bin, "audit", "checkpoints", "--org", slug, *sqlite.args, "--json")["data"]
    assert [c["sequence"] for c in cli_listed] == [c["sequence"] for c in listed]

    # A bundle carries the events and the checkpoints; it verifies with no store at all,
    # pinned to the organisation's key, and not once a line is changed.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    bundle = elsewhere / "bundle.jsonl"
    run_cli(rampart_bin, "audit", "export", "--org", slug, "--format", "bundle", "--output", str(bundle), *sqlite.args)
    checked = run_cli(rampart_bin, "audit", "verify", "--bundle", str(bundle), "--trust-key", listed[0]["publicKey"],
                      "--json", check=False)
    assert checked.stdout.startswith("{"), f"exit {checked.returncode}: {checked.stdout}{checked.stderr}"
    report = json.loads(checked.stdout)
    assert checked.returncode == 0 and report["intact"] and report["signedThrough"] == listed[0]["sequence"], checked.stdout
    assert report["events"] == max(audit_sequences_of(sqlite.data_dir, org_id)), report
    # A base64url key may start with '-' (one in 64 do): it is still the option's value.
    untrusted = run_cli(rampart_bin, "audit", "verify", "--bundle", str(bundle), "--trust-key", "-" + "A" * 42, check=False)
    assert untrusted.returncode == 1 and "not trusted" in untrusted.stdout, untrusted.stdout
    edited = elsewhere / "edited.jsonl"
    edited.write_text(bundle.read_text().replace('"action":"user.created"', '"action":"user.deleted"', 1))
    broken = run_cli(rampart_bin, "audit", "verify", "--bundle", str(edited), check=False)
    assert broken.returncode == 1 and "content does not match its hash" in broken.stdout, broken.stdout

    # Cut the tail back to event 5 and rewrite the head to match: the chain alone verifies.
    sequences = audit_sequences(sqlite.data_dir)
    assert max(sequences) >= 10
    tamper(sqlite.data_dir,
           f"DELETE FROM audit_event_targets WHERE org_id = '{org_id}' AND seq > 5",
           f"DELETE FROM audit_events WHERE org_id = '{org_id}' AND seq > 5",
           f"UPDATE audit_heads SET last_seq = 5, last_hash = (SELECT hash FROM audit_events WHERE org_id = '{org_id}' AND seq = 5) "
           f"WHERE org_id = '{org_id}'")
    alone = run_cli(rampart_bin, "audit", "verify", "--org", slug, *sqlite.args, check=False)
    assert alone.returncode == 0, "the documented limit: a cut tail with a rewritten head passes the chain check"
    caught = run_cli(rampart_bin, "audit", "verify", "--org", slug, "--checkpoints", str(witness), *sqlite.args, check=False)
    assert caught.returncode == 1 and "tail was cut" in caught.stdout, caught.stdout + caught.stderr

    # A witness line altered afterwards does not verify, and is named as such.
    lines = witness.read_text().splitlines()
    forged = json.loads(lines[0])
    forged["sequence"] = 2
    altered = tmp_path / "altered.jsonl"
    altered.write_text(json.dumps(forged) + "\n")
    refused = run_cli(rampart_bin, "audit", "verify", "--org", forged_slug(rampart_bin, sqlite, forged["orgId"]),
                      "--checkpoints", str(altered), *sqlite.args, check=False)
    assert refused.returncode == 1 and "signature does not verify" in refused.stdout, refused.stdout + refused.stderr
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("not a checkpoint\n")
    bad = run_cli(rampart_bin, "audit", "verify", "--checkpoints", str(garbage), *sqlite.args, check=False)
    assert bad.returncode != 0 and "Line 1" in bad.stderr, bad.stdout + bad.stderr


def audit_sequences_of(data_dir: Path, org_id: str) -> list[int]:
    import sqlite3
    db = sqlite3.connect(next(data_dir.glob("*.sqlite")))
    try:
        return [row[0] for row in db.execute("SELECT seq FROM audit_events WHERE org_id = ? ORDER BY seq", (org_id,))]
    finally:
        db.close()


def test_exports_in_every_format_read_back_with_others_parsers(rampart_bin, sqlite, tmp_path):
    created = create_org(rampart_bin, sqlite.args, "Exported", "admin@export.example.test")
    slug = created["organization"]["slug"]
    run_cli(rampart_bin, "user", "create", "--org", slug, "--email", "formula@export.example.test",
            "--name", '=HYPERLINK("http://evil.example"), "quoted"', *sqlite.args)
    rows = list(csv.DictReader(io.StringIO(run_cli(rampart_bin, "audit", "export", "--org", slug, "--format", "csv",
                                                   *sqlite.args).stdout)))
    assert [int(r["sequence"]) for r in rows] == audit_sequences_of(sqlite.data_dir, created["organization"]["id"])
    created_user = next(r for r in rows if "formula@" in r["targets"])
    assert json.loads(created_user["details"])["displayName"].startswith("=HYPERLINK"), "details keep the value as JSON"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values()), "no cell is a formula"

    lines = run_cli(rampart_bin, "audit", "export", "--org", slug, "--action", "user.", *sqlite.args).stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert events and all(e["action"].startswith("user.") for e in events)
    assert [e["sequence"] for e in events] == sorted(e["sequence"] for e in events), "oldest first"
    cef = run_cli(rampart_bin, "audit", "export", "--org", slug, "--format", "cef", *sqlite.args).stdout.splitlines()
    assert len(cef) == len(rows) and all(line.startswith("CEF:0|Rampart|Rampart|1|") for line in cef)

    out = tmp_path / "log.ocsf"
    done = run_cli(rampart_bin, "audit", "export", "--org", slug, "--format", "ocsf", "--output", str(out), *sqlite.args)
    assert f"Exported {len(rows)} events" in done.stderr
    assert all("class_uid" in json.loads(line) for line in out.read_text().splitlines())
    refused = run_cli(rampart_bin, "audit", "export", "--org", slug, "--format", "bundle", "--action", "user.",
                      *sqlite.args, check=False)
    assert refused.returncode == 64 and "whole log" in refused.stderr, refused.stderr


def forged_slug(rampart_bin: str, store, org_id: str) -> str:
    orgs = run_cli_json(rampart_bin, "org", "list", *store.args, "--json")["data"]
    return next(o["slug"] for o in orgs if o["id"] == org_id)


class Collector(BaseHTTPRequestHandler):
    received: list[dict] = []
    refuse_first = 0

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Collector.refuse_first > 0:
            Collector.refuse_first -= 1
            self.send_response(503)
        else:
            Collector.received.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_webhook_witness_gets_every_checkpoint_in_order_after_refusing(rampart_bin, server_factory, sqlite):
    Collector.received, Collector.refuse_first = [], 3
    port = find_free_port()
    receiver = ThreadingHTTPServer(("127.0.0.1", port), Collector)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        created = create_org(rampart_bin, sqlite.args, "Hooked", "admin@hooked.example.test")
        org_id, token = created["organization"]["id"], created["apiToken"]
        server = server_factory(sqlite, extra_args=["--audit-witness", f"http://127.0.0.1:{port}/checkpoints",
                                                    "--audit-checkpoint-events", "2", "--audit-checkpoint-seconds", "1"])
        add_users(server.base_url, token, 4, "hook")
        wait_for(lambda: [c for c in Collector.received if c["orgId"] == org_id and c["sequence"] >= 8])
        assert Collector.refuse_first == 0, "the refusals were retried"
        sequences = [c["sequence"] for c in Collector.received if c["orgId"] == org_id]
        assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences), sequences
        for checkpoint in Collector.received:
            check_signature(checkpoint)
    finally:
        receiver.shutdown()


def test_a_bad_witness_is_refused_at_start(rampart_bin, sqlite):
    for witness in ["http://witness.example.test/hook", "ftp://witness.example.test/x"]:
        proc = run_cli(rampart_bin, "serve", "--audit-witness", witness, *sqlite.args, check=False, timeout=20)
        assert proc.returncode != 0 and "--audit-witness" in proc.stderr, proc.stderr
