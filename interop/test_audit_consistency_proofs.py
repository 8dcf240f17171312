"""Consistency proofs between signed checkpoints: a witness keeps the checkpoints a running
server appends to its witness file, and every later checkpoint is shown to extend every
earlier one by `GET /audit-proofs/consistency`, checked with Python's hashlib over RFC 9162
§2.1.4.2 and the roots the witness holds (not the copies in the answer). `rampart audit
consistency`, run from another directory, checks a saved proof and one from the store against
the checkpoint a witness kept. Once an event before a held checkpoint is rewritten in the
database and the checkpoints deleted, the server signs the rewritten log anew, and no proof
leads from the held root to its new ones."""

from __future__ import annotations

import hashlib
import json

import requests

from conftest import create_org, run_cli
from test_audit_checkpoints import add_users, check_signature, wait_for, witnessed, witnessed_server
from test_cli import tamper


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def rfc9162_consistent(first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, step by step; equal sizes need an empty path and equal roots."""
    if first == second:
        return not path and first_root == second_root
    if not 0 < first < second or not path:
        return False
    if first & (first - 1) == 0:
        path = [first_root] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def consistent(proof: dict, held: dict, newer: dict) -> bool:
    """Whether `proof` leads from the root the witness holds to the newer checkpoint's root."""
    return rfc9162_consistent(held["sequence"], newer["sequence"], bytes.fromhex(held["treeRoot"]),
                              bytes.fromhex(newer["treeRoot"]), [bytes.fromhex(h) for h in proof["consistencyPath"]])


def test_every_witnessed_checkpoint_extends_the_ones_before_and_a_rewrite_is_caught(rampart_bin, server_factory, sqlite,
                                                                                     tmp_path):
    created = create_org(rampart_bin, sqlite.args, "Consistent", "admin@consistent.example.test")
    slug, org_id, token = created["organization"]["slug"], created["organization"]["id"], created["apiToken"]
    other = create_org(rampart_bin, sqlite.args, "Aside", "admin@aside.example.test")
    witness = tmp_path / "witness.jsonl"
    server = witnessed_server(server_factory, sqlite, witness)
    auth = {"Authorization": f"Bearer {token}"}
    url = f"{server.api}/audit-proofs/consistency"
    add_users(server.base_url, token, 5, "early")
    wait_for(lambda: [c for c in witnessed(witness) if c["orgId"] == org_id and c.get("treeRoot") and c["sequence"] >= 6])
    add_users(server.base_url, token, 7, "later")
    held = wait_for(lambda: (lambda mine: mine if len(mine) >= 3 and mine[-1]["sequence"] >= 13 else None)(
        [c for c in witnessed(witness) if c["orgId"] == org_id and c.get("treeRoot")]))
    for checkpoint in held:
        check_signature(checkpoint)

    # Every held checkpoint is the start of every later one; a changed hash is caught.
    for i, older in enumerate(held):
        for newer in held[i:]:
            r = requests.get(url, params={"first": older["sequence"], "second": newer["sequence"]}, headers=auth, timeout=10)
            assert r.status_code == 200, r.text
            proof = r.json()
            assert proof["first"] == older and proof["second"] == newer
            assert consistent(proof, older, newer), (older["sequence"], newer["sequence"])
            if proof["consistencyPath"]:
                edited = dict(proof, consistencyPath=["0" * 64] + proof["consistencyPath"][1:])
                assert not consistent(edited, older, newer)
    newest = requests.get(url, params={"first": held[0]["sequence"]}, headers=auth, timeout=10).json()
    assert newest["secondSize"] >= held[-1]["sequence"], "second defaults to the newest signed tree"

    first, last = held[0]["sequence"], held[-1]["sequence"]
    for params, status in [({}, 400), ({"first": 0}, 400), ({"first": "one"}, 400), ({"first": last, "second": first}, 400),
                           ({"first": first, "second": "x"}, 400), ({"first": last + 1000}, 400),
                           ({"first": first, "second": last + 1000}, 404)]:
        r = requests.get(url, params=params, headers=auth, timeout=10)
        assert r.status_code == status and r.json()["error"]["code"] in ("invalid_parameter", "not_found"), (params, r.text)
    theirs = requests.get(url, params={"first": first, "second": last}, headers={"Authorization": f"Bearer {other['apiToken']}"},
                          timeout=10)
    assert theirs.status_code == 404 and org_id not in theirs.text, theirs.text
    assert requests.get(url, params={"first": first}, timeout=10).status_code == 401

    # Saved elsewhere, the proof is checked by the CLI with nothing but the file and the key.
    saved = tmp_path / "elsewhere" / "consistency.json"
    saved.parent.mkdir()
    saved.write_text(requests.get(url, params={"first": first, "second": last}, headers=auth, timeout=10).text)
    offline = run_cli(rampart_bin, "audit", "consistency", "--proof", str(saved), "--trust-key", held[0]["publicKey"], "--json",
                      check=False)
    assert offline.returncode == 0 and json.loads(offline.stdout)["proven"] is True, offline.stdout + offline.stderr
    forged = json.loads(saved.read_text())
    forged["consistencyPath"][0] = "ab" * 32
    (saved.parent / "forged.json").write_text(json.dumps(forged))
    refused = run_cli(rampart_bin, "audit", "consistency", "--proof", str(saved.parent / "forged.json"), check=False)
    assert refused.returncode == 1 and "not proven" in refused.stdout, refused.stdout
    garbage = saved.parent / "garbage.json"
    garbage.write_text("[]")
    bad = run_cli(rampart_bin, "audit", "consistency", "--proof", str(garbage), check=False)
    assert bad.returncode == 2 and "not a consistency proof" in bad.stderr, bad.stderr
    stored = run_cli(rampart_bin, "audit", "consistency", "--org", slug, "--first", str(first), *sqlite.args, "--json", check=False)
    assert stored.returncode == 0 and json.loads(stored.stdout)["firstRoot"] == held[0]["treeRoot"], stored.stdout + stored.stderr
    (saved.parent / "witness-line.json").write_text(json.dumps(held[1]))
    witnessing = run_cli(rampart_bin, "audit", "consistency", "--org", slug, "--held", str(saved.parent / "witness-line.json"),
                         *sqlite.args, check=False)
    assert witnessing.returncode == 0 and "proven" in witnessing.stdout, witnessing.stdout + witnessing.stderr
    mismatched = run_cli(rampart_bin, "audit", "consistency", "--org", slug, "--held", str(saved.parent / "witness-line.json"),
                         "--first", str(first), *sqlite.args, check=False)
    assert mismatched.returncode == 2 and "is not the size of the --held checkpoint" in mismatched.stderr, mismatched.stderr
    not_held = run_cli(rampart_bin, "audit", "consistency", "--org", slug, "--held", str(garbage), *sqlite.args, check=False)
    assert not_held.returncode == 2 and "is not a checkpoint" in not_held.stderr, not_held.stderr
    server.stop()

    # Event 2, before every held checkpoint, is rewritten in the database, and the checkpoints
    # and the tree are deleted: the server builds the tree again from event 1 and signs newer
    # trees, but none of them extends the root the witness holds.
    tamper(sqlite.data_dir, f"UPDATE audit_events SET hash = '{'ef' * 32}' WHERE org_id = '{org_id}' AND seq = 2",
           f"DELETE FROM audit_checkpoints WHERE org_id = '{org_id}'", f"DELETE FROM audit_tree_nodes WHERE org_id = '{org_id}'")
    server.start()
    add_users(server.base_url, token, 4, "after")
    rewritten = wait_for(lambda: next((c for c in witnessed(witness) if c["orgId"] == org_id and c.get("treeRoot")
                                       and c["sequence"] > last), None))
    check_signature(rewritten)
    r = requests.get(url, params={"first": first, "second": rewritten["sequence"]}, headers=auth, timeout=10)
    assert r.status_code == 200 and r.json()["first"] is None, "the store lost the checkpoint the witness kept"
    assert not consistent(r.json(), held[0], rewritten), r.text
    server.stop()
    kept = tmp_path / "elsewhere" / "held.json"
    kept.write_text(json.dumps(held[0]))
    failed = run_cli(rampart_bin, "audit", "consistency", "--org", slug, "--held", str(kept), "--second",
                     str(rewritten["sequence"]), *sqlite.args, check=False)
    assert failed.returncode == 1 and "does not lead" in failed.stdout, failed.stdout + failed.stderr
    # Without the kept checkpoint there is nothing to check the new root against.
    alone = run_cli(rampart_bin, "audit", "consistency", "--org", slug, "--first", str(first), *sqlite.args, check=False)
    assert alone.returncode == 1 and "check it against the one you hold" in alone.stdout, alone.stdout + alone.stderr
