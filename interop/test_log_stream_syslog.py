"""The audit log streamed to a real rsyslog over TLS (RFC 5424 records, octet-counting
framing, RFC 5425), on SQLite and PostgreSQL (issue 16): every event arrives, in order,
exactly once when nothing fails; values that could split or forge a record stay inside
their own; nothing is lost when the receiver refuses connections for a while or when
Rampart is killed with SIGKILL mid-stream; a receiver whose certificate is not trusted
gets nothing."""

from __future__ import annotations

import json
import re
import signal
import time

import pytest
import requests

from conftest import bearer, new_org, run_cli, run_cli_json
from rsyslog_receiver import Rsyslog, make_pki

HEADER = re.compile(r"^<(\d+)>1 (\S+) (\S+) rampart - (\S+) \[rampart@32473((?: \w+=\"(?:[^\"\\\]]|\\.)*\")*)\] \ufeff(.*)$")
PARAM = re.compile(r" (\w+)=\"((?:[^\"\\\]]|\\.)*)\"")


def parse(line: str) -> dict:
    """One received record: header fields, structured-data parameters, and the JSON message."""
    m = HEADER.match(line)
    assert m, f"not an RFC 5424 record of Rampart's form: {line[:300]!r}"
    params = {k: re.sub(r"\\(.)", r"\1", v) for k, v in PARAM.findall(m.group(5))}
    return {"pri": int(m.group(1)), "timestamp": m.group(2), "host": m.group(3), "msgid": m.group(4),
            "sd": params, "event": json.loads(m.group(6))}


@pytest.fixture(params=["sqlite", "postgres"])
def store(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def rsyslog(tmp_path):
    receiver = Rsyslog(tmp_path / "rsyslog").start()
    yield receiver
    receiver.stop()


def api(server, token, method, path, expect, **kwargs):
    r = requests.request(method, f"{server.api}{path}", headers=bearer(token), timeout=30, **kwargs)
    assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text[:500]}"
    return r.json() if r.text else None


def all_events(server, token) -> list[dict]:
    """The organisation's whole log through the API, oldest first."""
    events, cursor = [], None
    while True:
        page = api(server, token, "GET", "/audit-events", 200, params={"limit": 200, **({"cursor": cursor} if cursor else {})})
        events += page["data"]
        cursor = page.get("nextCursor")
        if not cursor:
            return sorted(events, key=lambda e: e["sequence"])


def connections_to(port: int) -> int:
    """Established TCP connections whose far end is 127.0.0.1:PORT (from /proc/net/tcp)."""
    lines = open("/proc/net/tcp").read().splitlines()[1:]
    return sum(1 for line in lines if line.split()[2] == f"0100007F:{port:04X}" and line.split()[3] == "01")


def received_for(rsyslog, org_id: str) -> list[dict]:
    """The organisation's events rsyslog took, without the signed checkpoints sent among them."""
    return [r for r in map(parse, rsyslog.lines()) if r["sd"]["org"] == org_id and r["msgid"] != "audit.checkpoint"]


def wait_for_sequences(rsyslog, org_id: str, last: int, what: str, timeout: float = 60, first: int = 1) -> list[dict]:
    """Waits until rsyslog holds the events FIRST…LAST of the organisation; returns its records."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = received_for(rsyslog, org_id)
        if {int(r["sd"]["seq"]) for r in records} >= set(range(first, last + 1)):
            return records
        time.sleep(0.3)
    got = sorted({int(r["sd"]["seq"]) for r in received_for(rsyslog, org_id)})
    raise AssertionError(f"{what}: rsyslog has {len(got)} of {last} events (last {got[-5:]})\n{rsyslog.log_tail()}")


def test_every_event_arrives_in_order_exactly_once_and_byte_for_byte(store, server_factory, rampart_bin, rsyslog):
    server = server_factory(store)
    org = new_org(rampart_bin, store.args)
    token, org_id = org["apiToken"], org["organization"]["id"]
    # Values that would split or forge a record if they were not escaped or framed.
    user = api(server, token, "POST", "/users", 201,
               json={"email": "eve@example.com", "displayName": 'Eve "] [forged@1 x="y"] \\ <13>1 fake'})
    group = api(server, token, "POST", "/groups", 201, json={"name": "Staff"})
    api(server, token, "PATCH", f"/groups/{group['id']}", 200,
        json={"description": "line one\nline two\n<13>1 2026-01-01T00:00:00Z evil - - - [x@1 a=\"b\"] forged"})
    stream = api(server, token, "POST", "/log-streams", 201,
                 json={"name": "rsyslog", "kind": "syslog", "endpoint": rsyslog.endpoint, "caCertificate": rsyslog.ca_pem,
                       "start": "beginning"})
    assert stream["cursor"] == 0 and stream["status"] == "active"
    for i in range(120):
        api(server, token, "POST", "/users", 201, json={"email": f"u{i}@example.com", "displayName": f"User {i}"})

    events = all_events(server, token)
    records = wait_for_sequences(rsyslog, org_id, events[-1]["sequence"], "no fault")
    assert [int(r["sd"]["seq"]) for r in records] == [e["sequence"] for e in events], "every event once, in order"
    for record, event in zip(records, events):
        assert record["event"] == event, f"the message is the event as the API shows it: {record['event']} != {event}"
        assert record["msgid"] == event["action"] and record["sd"]["id"] == event["id"]
        assert record["pri"] == 13 * 8 + (4 if event["outcome"] == "failure" else 5)
        assert record["host"] == "127.0.0.1" and record["sd"]["actorType"] == event["actor"]["type"]
    assert "log_stream.created" in [r["msgid"] for r in records]
    # rsyslog's own RFC 5424 parser sees one record per event, with Rampart's fields.
    fields = [line for line in rsyslog.lines("fields.log") if f'org="{org_id}"' in line and "msgid=audit.checkpoint " not in line]
    assert len(fields) == len(events)
    assert all(" app=rampart " in line and "sd=[rampart@32473 " in line for line in fields)
    assert any(user["id"] in line for line in rsyslog.lines()), "the user's id is in the record of its creation"

    health = api(server, token, "GET", f"/log-streams/{stream['id']}", 200)
    deadline = time.monotonic() + 10
    while health["lag"] and time.monotonic() < deadline:
        time.sleep(0.3)
        health = api(server, token, "GET", f"/log-streams/{stream['id']}", 200)
    assert health["lag"] == 0 and health["cursor"] == health["headSequence"] >= events[-1]["sequence"]
    assert health["lastSuccessAt"] and health["lastError"] is None and health["failures"] == 0


def test_a_receiver_that_refuses_connections_then_returns_misses_nothing(sqlite, server_factory, rampart_bin, rsyslog):
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    token, org_id = org["apiToken"], org["organization"]["id"]
    stream = api(server, token, "POST", "/log-streams", 201,
                 json={"name": "rsyslog", "kind": "syslog", "endpoint": rsyslog.endpoint, "caCertificate": rsyslog.ca_pem})
    first = stream["cursor"] + 1  # "start": "now" (the default): from the stream's own creation event on
    api(server, token, "POST", "/groups", 201, json={"name": "Before"})
    wait_for_sequences(rsyslog, org_id, all_events(server, token)[-1]["sequence"], "before the outage", first=first)

    rsyslog.stop()
    for i in range(30):
        api(server, token, "POST", "/groups", 201, json={"name": f"During {i}"})
    deadline = time.monotonic() + 20
    health = api(server, token, "GET", f"/log-streams/{stream['id']}", 200)
    while not health["failures"] and time.monotonic() < deadline:
        time.sleep(0.3)
        health = api(server, token, "GET", f"/log-streams/{stream['id']}", 200)
    assert health["failures"] >= 1 and health["lastError"] and health["lag"] >= 30, health
    assert health["nextAttemptAt"], "a failed stream says when it tries again"

    rsyslog.start()
    events = all_events(server, token)
    records = wait_for_sequences(rsyslog, org_id, events[-1]["sequence"], "after the outage", timeout=120, first=first)
    first_seen = []
    for seq in (int(r["sd"]["seq"]) for r in records):
        if seq not in first_seen:
            first_seen.append(seq)
    assert first_seen == list(range(first, events[-1]["sequence"] + 1)), "every event, in order"
    health = api(server, token, "GET", f"/log-streams/{stream['id']}", 200)
    assert health["failures"] == 0 or health["lag"] == 0


def test_rampart_killed_mid_stream_resumes_from_its_cursor(sqlite, server_factory, rampart_bin, rsyslog):
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    token, org_id = org["apiToken"], org["organization"]["id"]
    slug = org["organization"]["slug"]
    # A backlog written by the CLI while the stream is set to start from the beginning.
    for i in range(40):
        run_cli(rampart_bin, "group", "create", "--org", slug, "--name", f"Backlog {i}", *sqlite.args)
    api(server, token, "POST", "/log-streams", 201,
        json={"name": "rsyslog", "kind": "syslog", "endpoint": rsyslog.endpoint, "caCertificate": rsyslog.ca_pem,
              "start": "beginning"})
    for i in range(200):
        api(server, token, "POST", "/users", 201, json={"email": f"k{i}@example.com", "displayName": f"K {i}"})
        if i == 100:
            server.kill(signal.SIGKILL)
            server.start()
    events = all_events(server, token)
    records = wait_for_sequences(rsyslog, org_id, events[-1]["sequence"], "after SIGKILL", timeout=120)
    by_seq = {}
    for record in records:
        by_seq.setdefault(int(record["sd"]["seq"]), record)
        assert record["event"] == next(e for e in events if e["sequence"] == int(record["sd"]["seq"])), \
            "a record sent again is the same record"
    assert sorted(by_seq) == [e["sequence"] for e in events]


def test_an_untrusted_receiver_gets_nothing_and_the_test_button_says_why(sqlite, server_factory, rampart_bin, rsyslog,
                                                                          tmp_path):
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    token, org_id = org["apiToken"], org["organization"]["id"]
    other_ca = (make_pki(tmp_path / "other", "Some other CA") / "ca.crt").read_text()
    wrong = api(server, token, "POST", "/log-streams", 201,
                json={"name": "wrong CA", "kind": "syslog", "endpoint": rsyslog.endpoint, "caCertificate": other_ca})
    system = api(server, token, "POST", "/log-streams", 201,
                 json={"name": "system roots", "kind": "syslog", "endpoint": rsyslog.endpoint})
    for stream in (wrong, system):
        refused = api(server, token, "POST", f"/log-streams/{stream['id']}/test", 502)
        assert refused["error"]["code"] == "receiver_unreachable", refused
        assert "certificate" in refused["error"]["message"].lower() or "handshake" in refused["error"]["message"].lower()
    time.sleep(3)
    assert not received_for(rsyslog, org_id), "nothing goes to a receiver whose certificate is not trusted"
    health = api(server, token, "GET", f"/log-streams/{wrong['id']}", 200)
    assert health["failures"] >= 1 and health["cursor"] == wrong["cursor"], "the cursor stays"

    # Trusting the right CA: the test record arrives, outside the log (sequence 0).
    api(server, token, "PATCH", f"/log-streams/{wrong['id']}", 200, json={"caCertificate": rsyslog.ca_pem})
    assert api(server, token, "POST", f"/log-streams/{wrong['id']}/test", 200) == {"delivered": True}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(r["msgid"] == "log_stream.test" for r in received_for(rsyslog, org_id)):
        time.sleep(0.2)
    test_record = next(r for r in received_for(rsyslog, org_id) if r["msgid"] == "log_stream.test")
    assert test_record["sd"]["seq"] == "0" and test_record["event"]["actor"]["type"] == "api_token"


def test_bad_settings_are_refused_and_change_nothing(sqlite, server_factory, rampart_bin):
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    token = org["apiToken"]
    before = len(all_events(server, token))
    base = {"name": "s", "kind": "syslog", "endpoint": "siem.example.com:6514"}
    for change, field in [({"endpoint": "https://siem.example.com"}, "endpoint"), ({"endpoint": "siem:0"}, "endpoint"),
                          ({"endpoint": "a b:514"}, "endpoint"), ({"caCertificate": "not a certificate"}, "caCertificate"),
                          ({"start": "yesterday"}, "start"), ({"name": ""}, "name")]:
        refused = api(server, token, "POST", "/log-streams", 400, json={**base, **change})
        assert refused["error"]["code"] == "invalid_field" and field in refused["error"]["message"], refused
    refused = api(server, token, "POST", "/log-streams", 400, json={**base, "kind": "carrier-pigeon"})
    assert refused["error"]["code"] in ("invalid_field", "invalid_json")
    refused = api(server, token, "POST", "/log-streams", 400, json={**base, "password": "x"})
    assert refused["error"]["code"] == "unknown_field"
    assert len(all_events(server, token)) == before, "refused settings write nothing"
    api(server, token, "POST", "/log-streams", 201, json=base)
    taken = api(server, token, "POST", "/log-streams", 409, json={**base, "name": "S"})
    assert taken["error"]["code"] == "conflict"
    # An auditor reads streams but cannot make one.
    auditor = run_cli_json(rampart_bin, "token", "create", "--org", org["organization"]["slug"], "--name", "aud",
                           "--role", "auditor", *sqlite.args, "--json")["secret"]
    assert len(api(server, auditor, "GET", "/log-streams", 200)["data"]) == 1
    api(server, auditor, "POST", "/log-streams", 403, json={**base, "name": "other"})


def test_the_cli_manages_streams_from_another_directory(sqlite, server_factory, rampart_bin, rsyslog, tmp_path):
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    slug, org_id = org["organization"]["slug"], org["organization"]["id"]
    ca_file = tmp_path / "siem-ca.pem"
    ca_file.write_text(rsyslog.ca_pem)
    store = ["--org", slug, *sqlite.args]
    created = run_cli_json(rampart_bin, "log-stream", "create", "--name", "Collector", "--endpoint", rsyslog.endpoint,
                           "--ca-file", str(ca_file), "--start", "beginning", *store, "--json")
    assert created["cursor"] == 0 and created["caCertificate"] == rsyslog.ca_pem
    tested = run_cli_json(rampart_bin, "log-stream", "test", "--stream", "collector", *store, "--json")
    assert tested == {"delivered": True}
    # The server finds a stream the CLI made (within its 15-second discovery) and sends the log.
    last = all_events(server, org["apiToken"])[-1]["sequence"]
    wait_for_sequences(rsyslog, org_id, last, "a stream made by the CLI", timeout=60)
    paused = run_cli_json(rampart_bin, "log-stream", "pause", "--stream", created["id"], *store, "--json")
    assert paused["status"] == "paused"
    # A paused stream keeps no connection open (the server looks within its 15-second discovery).
    deadline = time.monotonic() + 30
    while connections_to(rsyslog.port) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert connections_to(rsyslog.port) == 0, "the paused stream's connection stays open"
    listed = run_cli_json(rampart_bin, "log-stream", "list", *store, "--json")["data"]
    assert [s["name"] for s in listed] == ["Collector"] and listed[0]["status"] == "paused"
    refused = run_cli(rampart_bin, "log-stream", "update", "--stream", "Collector", "--endpoint", "no-port", *store, check=False)
    assert refused.returncode != 0 and "host:port" in refused.stderr
    run_cli(rampart_bin, "log-stream", "delete", "--stream", "Collector", *store)
    assert run_cli_json(rampart_bin, "log-stream", "list", *store, "--json")["data"] == []
