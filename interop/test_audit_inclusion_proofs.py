"""Inclusion proofs of audit events: a running server signs each organisation's Merkle tree root
(checkpoint version 2), answers `GET /audit-proofs/inclusion`, and the proof checks out with
Python's hashlib and `cryptography` (Ed25519), written by others, over the bytes and the
algorithm docs/design.md and RFC 9162 give; `rampart audit prove`, run from another directory,
proves it from a saved file and from the store, and no longer does once the event's stored hash
or the checkpoint's tree root is edited in the database."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests
from cryptography.exceptions import InvalidSignature

from conftest import create_org, run_cli
from test_audit_checkpoints import add_users, check_signature, wait_for, witnessed, witnessed_server
from test_cli import tamper


def rfc9162_root_from_path(leaf_index: int, tree_size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2, step by step; None where the algorithm fails the proof."""
    if leaf_index >= tree_size:
        return None
    fn, sn = leaf_index, tree_size - 1
    r = hashlib.sha256(b"\x00" + leaf).digest()
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def proves(proof: dict) -> bool:
    root = rfc9162_root_from_path(proof["leafIndex"], proof["treeSize"], bytes.fromhex(proof["eventHash"]),
                                  [bytes.fromhex(h) for h in proof["auditPath"]])
    return root is not None and root.hex() == proof["checkpoint"]["treeRoot"]


def test_an_event_is_proven_by_others_code_and_not_once_edited(rampart_bin, server_factory, sqlite, tmp_path):
    created = create_org(rampart_bin, sqlite.args, "Proven", "admin@proven.example.test")
    slug, org_id, token = created["organization"]["slug"], created["organization"]["id"], created["apiToken"]
    other = create_org(rampart_bin, sqlite.args, "Elsewhere", "admin@elsewhere.example.test")
    witness = tmp_path / "witness.jsonl"
    server = witnessed_server(server_factory, sqlite, witness)
    auth = {"Authorization": f"Bearer {token}"}
    add_users(server.base_url, token, 9, "proven")
    checkpoint = wait_for(lambda: next((c for c in requests.get(f"{server.api}/audit-checkpoints", headers=auth, timeout=10)
                                        .json()["data"] if c["treeRoot"] and c["sequence"] >= 10), None))
    check_signature(checkpoint)
    mine = wait_for(lambda: [c for c in witnessed(witness) if c["orgId"] == org_id and c.get("treeRoot")])
    for line in mine:
        check_signature(line)
    with pytest.raises(InvalidSignature):
        check_signature(dict(checkpoint, treeRoot=None))  # read as version 1, it was never signed

    # Every event up to the checkpoint is proven against its root, by hashlib over RFC 9162's algorithm.
    size = checkpoint["sequence"]
    for seq in range(1, size + 1):
        r = requests.get(f"{server.api}/audit-proofs/inclusion", params={"seq": seq, "treeSize": size}, headers=auth, timeout=10)
        assert r.status_code == 200, r.text
        proof = r.json()
        assert proof["sequence"] == seq and proof["leafIndex"] == seq - 1 and proof["checkpoint"] == checkpoint
        assert proves(proof), f"event {seq}"
        edited = dict(proof, auditPath=[("0" * 64)] + proof["auditPath"][1:]) if proof["auditPath"] else None
        assert edited is None or not proves(edited)

    r = requests.get(f"{server.api}/audit-proofs/inclusion", params={"seq": 4}, headers=auth, timeout=10)
    assert r.status_code == 200 and r.json()["treeSize"] >= size, "treeSize defaults to the newest signed tree"
    for params, status in [({"seq": "four"}, 400), ({}, 400), ({"seq": 0}, 400), ({"seq": 10**9, "treeSize": size}, 400),
                           ({"seq": 2, "treeSize": 2}, 404), ({"seq": 2, "treeSize": "x"}, 400)]:
        r = requests.get(f"{server.api}/audit-proofs/inclusion", params=params, headers=auth, timeout=10)
        assert r.status_code == status and r.json()["error"]["code"] in ("invalid_parameter", "not_found"), (params, r.text)
    theirs = requests.get(f"{server.api}/audit-proofs/inclusion", params={"seq": 3, "treeSize": size},
                          headers={"Authorization": f"Bearer {other['apiToken']}"}, timeout=10)
    assert theirs.status_code == 404 and org_id not in theirs.text, theirs.text
    assert requests.get(f"{server.api}/audit-proofs/inclusion", params={"seq": 3}, timeout=10).status_code == 401

    # Saved to a file elsewhere, the proof is checked by the CLI with nothing but the file and the key.
    saved = tmp_path / "elsewhere" / "proof-3.json"
    saved.parent.mkdir()
    saved.write_text(requests.get(f"{server.api}/audit-proofs/inclusion", params={"seq": 3, "treeSize": size},
                                  headers=auth, timeout=10).text)
    offline = run_cli(rampart_bin, "audit", "prove", "--proof", str(saved), "--trust-key", checkpoint["publicKey"], "--json",
                      check=False)
    assert offline.returncode == 0 and json.loads(offline.stdout)["proven"] is True, offline.stdout + offline.stderr
    untrusted = run_cli(rampart_bin, "audit", "prove", "--proof", str(saved), "--trust-key", "-" + "A" * 42, check=False)
    assert untrusted.returncode == 1 and "not trusted" in untrusted.stdout, untrusted.stdout
    forged = json.loads(saved.read_text())
    forged["eventHash"] = "0" * 64
    (saved.parent / "forged.json").write_text(json.dumps(forged))
    refused = run_cli(rampart_bin, "audit", "prove", "--proof", str(saved.parent / "forged.json"), check=False)
    assert refused.returncode == 1 and "not proven" in refused.stdout, refused.stdout
    garbage = saved.parent / "garbage.json"
    garbage.write_text("{}")
    bad = run_cli(rampart_bin, "audit", "prove", "--proof", str(garbage), check=False)
    assert bad.returncode == 2 and "not an inclusion proof" in bad.stderr, bad.stderr

    # From the store, with the server running: the organisation's own keys are the trusted ones.
    stored = run_cli(rampart_bin, "audit", "prove", "--org", slug, "--seq", "3", "--tree-size", str(size), *sqlite.args,
                     "--json", check=False)
    assert stored.returncode == 0 and json.loads(stored.stdout)["treeRoot"] == checkpoint["treeRoot"], stored.stdout + stored.stderr
    server.stop()

    # Event 3's stored hash edited: its proof fails, from the store and from the restarted server.
    tamper(sqlite.data_dir, f"UPDATE audit_events SET hash = '{'ab' * 32}' WHERE org_id = '{org_id}' AND seq = 3")
    failed = run_cli(rampart_bin, "audit", "prove", "--org", slug, "--seq", "3", "--tree-size", str(size), *sqlite.args,
                     check=False)
    assert failed.returncode == 1 and "does not lead" in failed.stdout, failed.stdout + failed.stderr
    server.start()
    after = requests.get(f"{server.api}/audit-proofs/inclusion", params={"seq": 3, "treeSize": size}, headers=auth, timeout=10)
    assert after.status_code == 200 and not proves(after.json())
    server.stop()

    # A tree root edited in the database no longer carries the organisation's signature.
    tamper(sqlite.data_dir, f"UPDATE audit_checkpoints SET tree_root = '{'cd' * 32}' WHERE org_id = '{org_id}' AND seq = {size}")
    forged_root = run_cli(rampart_bin, "audit", "prove", "--org", slug, "--seq", "5", "--tree-size", str(size), *sqlite.args,
                          check=False)
    assert forged_root.returncode == 1 and "signature does not verify" in forged_root.stdout, forged_root.stdout
