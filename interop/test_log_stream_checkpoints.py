"""Signed audit checkpoints sent with every log stream (issue 16), on SQLite and PostgreSQL:
with the checkpointer signing every 3 events, the local webhook and Splunk HEC receivers get
each checkpoint as a record of its own, after the event it covers; the JSON records,
written one a line to a file, are a file `rampart audit verify --checkpoints` accepts, and the
same file with one head hash altered is refused."""

from __future__ import annotations

import json
import time


import http_receivers as rx
from conftest import new_org, run_cli
from test_log_stream_http import event_of, store, stream_body  # noqa: F401 (fixture)
from test_log_stream_syslog import api


def test_every_stream_delivers_the_checkpoints_in_order_and_they_verify(store, server_factory, rampart_bin, tmp_path):
    receivers = rx.Receivers(tmp_path / "receivers").start()
    try:
        server = server_factory(store, extra_args=["--audit-checkpoint-events", "3", "--audit-checkpoint-seconds", "1"])
        org = new_org(rampart_bin, store.args)
        token, slug = org["apiToken"], org["organization"]["slug"]
        api(server, token, "POST", "/log-streams", 201, json=stream_body("webhook", receivers))
        api(server, token, "POST", "/log-streams", 201, json=stream_body("hec", receivers))
        # Three rounds of events, each waiting for the checkpointer to sign the head it reached.
        for round in range(3):
            for i in range(3):
                api(server, token, "POST", "/users", 201, json={"email": f"u{round}-{i}@example.com", "displayName": "User"})
            head = api(server, token, "GET", "/audit-events", 200, params={"limit": 1})["data"][0]["sequence"]
            deadline = time.monotonic() + 30
            while api(server, token, "GET", "/audit-checkpoints", 200)["data"][0:1] == [] or \
                    api(server, token, "GET", "/audit-checkpoints", 200)["data"][0]["sequence"] < head:
                assert time.monotonic() < deadline, "the checkpointer signed no checkpoint of the head"
                time.sleep(0.3)
        signed = sorted(c["sequence"] for c in api(server, token, "GET", "/audit-checkpoints", 200)["data"])
        assert len(signed) >= 3

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = [[event_of(kind, r)["sequence"] for r in receivers.checkpoints(kind)] for kind in ("webhook", "hec")]
            if all(set(signed) <= set(c) for c in got):
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"checkpoints signed: {signed}; received: {got}; refused: {receivers.refused[-3:]}")

        listed = {c["sequence"]: c for c in api(server, token, "GET", "/audit-checkpoints", 200)["data"]}
        for kind in ("webhook", "hec"):
            records = [event_of(kind, r) for r in receivers.records(kind)]
            first_seen = {}
            for index, record in enumerate(records):
                first_seen.setdefault((record["action"], record["sequence"]), index)
            checkpoints = [r for r in records if r["action"] == "audit.checkpoint"]
            assert [c["sequence"] for c in checkpoints] == sorted({c["sequence"] for c in checkpoints}), "each once, in order"
            for checkpoint in checkpoints:
                covered = [i for (action, seq), i in first_seen.items() if seq == checkpoint["sequence"] and action != "audit.checkpoint"]
                assert covered and covered[0] < first_seen[("audit.checkpoint", checkpoint["sequence"])], \
                    f"{kind}: the checkpoint of {checkpoint['sequence']} came before its event"
                signed = listed[checkpoint["sequence"]]
                assert {k: checkpoint[k] for k in signed} == signed, "the record is the checkpoint as Rampart signed it"

            witness = tmp_path / f"{kind}.jsonl"
            witness.write_text("".join(json.dumps(c) + "\n" for c in checkpoints))
            verified = run_cli(rampart_bin, "audit", "verify", "--org", slug, "--checkpoints", str(witness), *store.args,
                               check=False)
            assert verified.returncode == 0, verified.stdout + verified.stderr

        forged = [dict(c) for c in (event_of("webhook", r) for r in receivers.checkpoints("webhook"))]
        forged[0]["headHash"] = "0" * len(forged[0]["headHash"])
        witness = tmp_path / "forged.jsonl"
        witness.write_text("".join(json.dumps(c) + "\n" for c in forged))
        refused = run_cli(rampart_bin, "audit", "verify", "--org", slug, "--checkpoints", str(witness), *store.args, check=False)
        assert refused.returncode != 0, "a checkpoint record altered on its way is refused"
    finally:
        receivers.stop()
