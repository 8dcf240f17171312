"""The audit log streamed to Splunk HEC, Microsoft Sentinel (Logs Ingestion API, with its
client credentials token) and a signed webhook, each a local HTTPS receiver with a test CA
(`http_receivers.py`), on SQLite and PostgreSQL (issue 16): every event arrives in order,
exactly once without faults, the webhook's signature checks out with Python's hmac, and the
"send test event" reaches each kind. With faults (500, 429 with Retry-After, a connection
dropped mid-request, a receiver that hangs) and a SIGKILL of Rampart in the middle, nothing
is lost: at-least-once duplicates only, each with its event id, and no secret in an answer,
the stream's last error or the server's log."""

from __future__ import annotations

import json
import signal
import time

import pytest

import http_receivers as rx
from conftest import new_org, run_cli_json
from test_log_stream_syslog import all_events, api

FORMATS = {"hec": "json", "sentinel": "json", "webhook": "json"}


@pytest.fixture(params=["sqlite", "postgres"])
def store(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def receivers(tmp_path):
    receiver = rx.Receivers(tmp_path / "receivers").start()
    yield receiver
    receiver.stop()


def stream_body(kind: str, receivers: rx.Receivers, **extra) -> dict:
    body = {"name": f"{kind} stream", "caCertificate": receivers.ca_pem, "start": "beginning", **extra}
    if kind == "hec":
        return {**body, "kind": "splunk-hec", "endpoint": receivers.base, "token": rx.HEC_TOKEN}
    if kind == "webhook":
        return {**body, "kind": "webhook", "endpoint": f"{receivers.base}/hook", "secret": rx.WEBHOOK_SECRET}
    return {**body, "kind": "sentinel", "endpoint": receivers.base, "tenantId": rx.TENANT, "clientId": rx.CLIENT_ID,
            "clientSecret": rx.CLIENT_SECRET, "dcrImmutableId": rx.DCR, "streamName": rx.STREAM,
            "tokenUrl": f"{receivers.base}/{rx.TENANT}/oauth2/v2.0/token"}


def event_of(kind: str, record) -> dict:
    """The Rampart event inside what a receiver took (HEC wraps it; Sentinel adds TimeGenerated)."""
    if kind == "hec":
        return record["event"]
    if kind == "sentinel":
        return {k: v for k, v in record.items() if k != "TimeGenerated"}
    return record


def wait_for(receivers, kind: str, last: int, what: str, timeout: float = 60) -> list[dict]:
    """Waits until the receiver holds every event 1…LAST (the log's, not test records); returns them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = [event_of(kind, r) for r in receivers.events(kind)]
        if {e["sequence"] for e in events} >= set(range(1, last + 1)):
            return events
        time.sleep(0.2)
    got = sorted({event_of(kind, r)["sequence"] for r in receivers.events(kind)})
    raise AssertionError(f"{what}: {kind} has {len(got)} of {last} events (last {got[-5:]}); refused: {receivers.refused[-5:]}")


SECRETS = (rx.HEC_TOKEN, rx.WEBHOOK_SECRET, rx.CLIENT_SECRET)


@pytest.mark.parametrize("kind", ["hec", "sentinel", "webhook"])
def test_every_event_arrives_in_order_exactly_once(kind, store, server_factory, rampart_bin, receivers):
    server = server_factory(store)
    org = new_org(rampart_bin, store.args)
    token = org["apiToken"]
    stream = api(server, token, "POST", "/log-streams", 201, json=stream_body(kind, receivers))
    assert stream["cursor"] == 0 and stream["hasSecret"] is True and "secret" not in stream
    for i in range(60):
        api(server, token, "POST", "/users", 201, json={"email": f"u{i}@example.com", "displayName": f"User \"{i}\" |=\\\n"})
    events = all_events(server, token)
    received = wait_for(receivers, kind, events[-1]["sequence"], "no fault")
    assert [e["sequence"] for e in received] == [e["sequence"] for e in events], "every event once, in order"
    assert received == events, "each event exactly as the API shows it"
    if kind == "hec":
        first = receivers.events("hec")[0]
        assert first["host"] == "127.0.0.1" and first["source"] == "rampart" and first["sourcetype"] == "rampart:audit"
    assert not receivers.refused, receivers.refused

    assert api(server, token, "POST", f"/log-streams/{stream['id']}/test", 200) == {"delivered": True}
    test_record = [event_of(kind, r) for r in receivers.events(kind)][-1]
    assert test_record["action"] == "log_stream.test" and test_record["sequence"] == 0
    health = api(server, token, "GET", f"/log-streams/{stream['id']}", 200)
    deadline = time.monotonic() + 10
    while health["lag"] and time.monotonic() < deadline:
        time.sleep(0.2)
        health = api(server, token, "GET", f"/log-streams/{stream['id']}", 200)
    assert health["lag"] == 0 and health["lastSuccessAt"] and health["lastError"] is None
    listed = json.dumps(api(server, token, "GET", "/log-streams", 200))
    assert not any(secret in listed for secret in SECRETS)


FAULTS = {
    "hec": ("500", "429"),
    "webhook": ("drop", "429"),
    "sentinel": ("hang",),
}


def assert_every_event_in_order(received: list[dict], events: list[dict]) -> None:
    """At least once: repeats allowed, each the same event with its id; first arrivals in log order."""
    first_seen: list[int] = []
    by_seq = {e["sequence"]: e for e in events}
    for event in received:
        assert event == by_seq[event["sequence"]], "a batch sent again holds the same events, ids included"
        if event["sequence"] not in first_seen:
            first_seen.append(event["sequence"])
    assert first_seen == [e["sequence"] for e in events], "every event, in order"


@pytest.mark.parametrize("kind", ["hec", "sentinel", "webhook"])
def test_faults_lose_nothing(kind, sqlite, server_factory, rampart_bin, receivers):
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    token = org["apiToken"]
    receivers.fail_next(kind, *FAULTS[kind])
    if kind == "sentinel":
        receivers.fail_next("token", "500")
    stream = api(server, token, "POST", "/log-streams", 201, json=stream_body(kind, receivers))
    # The first attempts fail: the stream says why and when it tries again, and keeps its cursor.
    deadline = time.monotonic() + 20
    health = api(server, token, "GET", f"/log-streams/{stream['id']}", 200)
    while not health["failures"] and time.monotonic() < deadline:
        time.sleep(0.2)
        health = api(server, token, "GET", f"/log-streams/{stream['id']}", 200)
    assert health["failures"] >= 1 and health["lastError"] and health["cursor"] == 0, health
    assert not any(secret in health["lastError"] for secret in SECRETS)

    for i in range(40):
        api(server, token, "POST", "/users", 201, json={"email": f"k{i}@example.com", "displayName": f"K {i}"})
    events = all_events(server, token)
    assert_every_event_in_order(wait_for(receivers, kind, events[-1]["sequence"], "after faults"), events)
    assert not receivers.faults[kind], "every fault was met"
    assert not receivers.refused, receivers.refused
    logs = "".join(p.read_text(errors="replace") for p in server.log_dir.glob("server-*"))
    assert not any(secret in logs for secret in SECRETS), "a secret reached the server's log"
    assert "log_stream.failed" in logs


def test_sigkill_mid_stream_resumes_from_the_cursor(sqlite, server_factory, rampart_bin, receivers):
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    token = org["apiToken"]
    stream = api(server, token, "POST", "/log-streams", 201, json=stream_body("webhook", receivers))
    for i in range(60):
        api(server, token, "POST", "/users", 201, json={"email": f"k{i}@example.com", "displayName": f"K {i}"})
    # Killed once the stream holds its lease and has moved its cursor, while events keep coming.
    cursor = 0
    deadline = time.monotonic() + 20
    while cursor < 30 and time.monotonic() < deadline:
        time.sleep(0.2)
        cursor = api(server, token, "GET", f"/log-streams/{stream['id']}", 200)["cursor"]
    assert cursor >= 30
    for i in range(60, 120):
        api(server, token, "POST", "/users", 201, json={"email": f"k{i}@example.com", "displayName": f"K {i}"})
        if i == 70:
            server.kill(signal.SIGKILL)
            server.start()
    events = all_events(server, token)
    # The killed process's 30-second lease runs out before the new one sends.
    received = wait_for(receivers, "webhook", events[-1]["sequence"], "after SIGKILL", timeout=90)
    assert_every_event_in_order(received, events)
    sent_twice = [e["sequence"] for e in received if [r["sequence"] for r in received].count(e["sequence"]) > 1]
    assert not [seq for seq in sent_twice if seq <= cursor], "events the cursor had passed are not sent again"
    assert not receivers.refused, receivers.refused


def test_webhook_cef_and_a_generated_secret_shown_once(sqlite, server_factory, rampart_bin, receivers):
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    token = org["apiToken"]
    body = stream_body("webhook", receivers, format="cef")
    del body["secret"]
    created = api(server, token, "POST", "/log-streams", 201, json=body)
    generated = created["secret"]
    assert generated.startswith("whsec_")
    assert "secret" not in api(server, token, "GET", f"/log-streams/{created['id']}", 200)
    # The receiver knows another secret: every batch is refused, and nothing moves the cursor.
    time.sleep(2)
    assert not receivers.events("webhook") and "bad signature" in receivers.refused
    health = api(server, token, "GET", f"/log-streams/{created['id']}", 200)
    assert health["cursor"] == 0 and "HTTP 401" in health["lastError"] and generated not in health["lastError"]

    # Given the receiver's secret, the log arrives as CEF lines, one per event.
    api(server, token, "PATCH", f"/log-streams/{created['id']}", 200, json={"secret": rx.WEBHOOK_SECRET})
    receivers.refused.clear()
    last = all_events(server, token)[-1]["sequence"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(receivers.events("webhook")) < last:
        time.sleep(0.2)
    lines = receivers.events("webhook")
    assert all(line.startswith("CEF:0|Rampart|Rampart|1|") for line in lines), lines[:2]
    assert [int(line.split(" cn1=")[1].split(" ")[0]) for line in lines][:last] == list(range(1, last + 1))


def test_the_cli_creates_every_kind(sqlite, server_factory, rampart_bin, receivers, tmp_path):
    server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    store = ["--org", org["organization"]["slug"], *sqlite.args]
    ca = tmp_path / "ca.pem"
    ca.write_text(receivers.ca_pem)
    secret = tmp_path / "secret"
    secret.write_text(rx.CLIENT_SECRET + "\n")
    created = run_cli_json(rampart_bin, "log-stream", "create", "--kind", "sentinel", "--name", "Sentinel",
                           "--endpoint", receivers.base, "--tenant-id", rx.TENANT, "--client-id", rx.CLIENT_ID,
                           "--secret-file", str(secret), "--dcr-immutable-id", rx.DCR, "--stream-name", rx.STREAM,
                           "--token-url", f"{receivers.base}/{rx.TENANT}/oauth2/v2.0/token", "--format", "ocsf",
                           "--ca-file", str(ca), *store, "--json")
    assert created["kind"] == "sentinel" and created["format"] == "ocsf" and created["hasSecret"] is True
    assert rx.CLIENT_SECRET not in json.dumps(created)
    assert run_cli_json(rampart_bin, "log-stream", "test", "--stream", "Sentinel", *store, "--json") == {"delivered": True}
    record = receivers.events("sentinel")[-1]
    assert record["class_uid"] == 0 and record["metadata"]["event_code"] == "log_stream.test" and record["TimeGenerated"]
    hook = run_cli_json(rampart_bin, "log-stream", "create", "--kind", "webhook", "--name", "Hook",
                        "--endpoint", f"{receivers.base}/hook", "--ca-file", str(ca), *store, "--json")
    assert hook["secret"].startswith("whsec_")
    secret.write_text(rx.HEC_TOKEN)
    hec = run_cli_json(rampart_bin, "log-stream", "create", "--kind", "splunk-hec", "--name", "Splunk",
                       "--endpoint", receivers.base, "--secret-file", str(secret), "--ca-file", str(ca), *store, "--json")
    assert run_cli_json(rampart_bin, "log-stream", "test", "--stream", hec["id"], *store, "--json") == {"delivered": True}
    assert receivers.events("hec")[-1]["event"]["action"] == "log_stream.test"


def test_an_untrusted_https_receiver_gets_nothing_and_the_test_says_why(sqlite, server_factory, rampart_bin, receivers):
    server = server_factory(sqlite)
    token = new_org(rampart_bin, sqlite.args)["apiToken"]
    body = stream_body("hec", receivers)
    del body["caCertificate"]  # the system's roots, which do not hold the test CA
    stream = api(server, token, "POST", "/log-streams", 201, json=body)
    refused = api(server, token, "POST", f"/log-streams/{stream['id']}/test", 502)
    assert refused["error"]["code"] == "receiver_unreachable"
    assert "certificate" in refused["error"]["message"].lower(), refused
    assert rx.HEC_TOKEN not in refused["error"]["message"]
    time.sleep(2)
    assert not receivers.events("hec") and not receivers.refused, "nothing reaches a receiver whose certificate is not trusted"
    health = api(server, token, "GET", f"/log-streams/{stream['id']}", 200)
    assert health["failures"] >= 1 and health["cursor"] == 0 and "certificate" in health["lastError"].lower(), health
