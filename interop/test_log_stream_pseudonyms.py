"""Pseudonymous log streams (issue 16): a stream whose `personalData` is `pseudonymous` sends
each actor as the organisation's pseudonym for them, without email, name, IP address or user
agent, in every format (JSON, CEF, LEEF and OCSF to the local webhook receiver, and RFC 5424
with its structured data to a real rsyslog). The test posts product events whose actors carry
an email, an IP address and a user agent, and reads the raw bytes the receivers got: none of
it is there, each person's pseudonym is the same in every event and every stream of the
organisation, and two people have two pseudonyms."""

from __future__ import annotations

import datetime
import json
import re
import time
import uuid

import requests

import http_receivers as rx
from conftest import new_org
from rsyslog_receiver import Rsyslog
from test_log_stream_http import store, stream_body  # noqa: F401 (fixture)
from test_log_stream_syslog import all_events, api, wait_for_sequences

PEOPLE = [("p-ada", "ada.lovelace@example.test", "198.51.100.7", "AdaBrowser/1.0"),
          ("p-bob", "bob.builder@example.test", "203.0.113.42", "BobBrowser/2.0")]
PSEUDONYM = re.compile(rb"psn_[0-9a-f]{32}")


def product_events(server, token) -> None:
    product = api(server, token, "POST", "/products", 201,
                  json={"name": f"Wiki {uuid.uuid4().hex[:6]}", "kind": "wiki", "url": "https://wiki.example.test"})
    key = api(server, token, "POST", "/ingestion-keys", 201, json={"productId": product["id"], "name": "wiki"})["key"]
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = {"events": [{
        "idempotencyKey": uuid.uuid4().hex, "action": "product.content_viewed", "occurredAt": now,
        "actor": {"id": person[0], "email": person[1], "ip": person[2], "userAgent": person[3]},
        "targets": [{"type": "page", "id": f"page-{i}", "name": f"Page {i}"}],
    } for i, person in enumerate(PEOPLE * 3)]}
    answer = requests.post(f"{server.api}/events", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert answer.status_code == 200 and answer.json()["accepted"] == 6, answer.text


def test_pseudonymous_streams_carry_no_personal_data_in_any_format(store, server_factory, rampart_bin, tmp_path):
    receivers = rx.Receivers(tmp_path / "receivers").start()
    rsyslog = Rsyslog(tmp_path / "rsyslog").start()
    try:
        server = server_factory(store)
        org = new_org(rampart_bin, store.args)
        token, org_id = org["apiToken"], org["organization"]["id"]
        product_events(server, token)
        logged = all_events(server, token)
        viewed = [e for e in logged if e["action"] == "product.content_viewed"]
        assert {e["actor"]["name"] for e in viewed} == {p[1] for p in PEOPLE}, "the log itself holds the people"
        assert {e["actor"]["ip"] for e in viewed} == {p[2] for p in PEOPLE}

        for fmt in ("json", "cef", "leef", "ocsf"):
            stream = api(server, token, "POST", "/log-streams", 201,
                         json=stream_body("webhook", receivers, name=f"hook {fmt}", format=fmt, personalData="pseudonymous"))
            assert stream["personalData"] == "pseudonymous"
        api(server, token, "POST", "/log-streams", 201,
            json={"name": "rsyslog", "kind": "syslog", "endpoint": rsyslog.endpoint, "caCertificate": rsyslog.ca_pem,
                  "start": "beginning", "personalData": "pseudonymous"})
        last = viewed[-1]["sequence"]
        records = wait_for_sequences(rsyslog, org_id, last, "pseudonymous syslog")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(receivers.raw_bodies) < 4:
            time.sleep(0.2)
        time.sleep(1)

        raw = b"".join(receivers.raw_bodies) + "\n".join(rsyslog.lines()).encode()
        for _, email, ip, agent in PEOPLE:
            for value in (email, ip, agent, email.split("@")[0]):
                assert value.encode() not in raw, f"{value} reached a pseudonymous stream"

        # Each person is one pseudonym, the same in every event, every format and every stream.
        by_sequence = {e["sequence"]: e["actor"]["id"] for e in viewed}
        syslog_pseudonyms: dict[str, set[str]] = {}
        for record in records:
            seq = int(record["sd"]["seq"])
            if seq in by_sequence:
                assert record["sd"]["actorId"] == record["event"]["actor"]["id"] == record["event"]["actor"]["name"]
                assert record["event"]["actor"]["ip"] is None and record["event"]["actor"]["userAgent"] is None
                syslog_pseudonyms.setdefault(by_sequence[seq], set()).add(record["sd"]["actorId"])
        assert set(syslog_pseudonyms) == {p[0] for p in PEOPLE}
        assert all(len(names) == 1 for names in syslog_pseudonyms.values()), syslog_pseudonyms
        ada, bob = (next(iter(syslog_pseudonyms[p[0]])) for p in PEOPLE)
        assert ada != bob and re.fullmatch(r"psn_[0-9a-f]{32}", ada)
        json_events = [e for body in receivers.raw_bodies if body.startswith(b"[{\"action\"") for e in json.loads(body)]
        assert {e["actor"]["id"] for e in json_events if e["action"] == "product.content_viewed"} == {ada, bob}
        for body in receivers.raw_bodies:
            if b"product.content_viewed" in body:
                assert ada.encode() in body and bob.encode() in body, body[:300]
    finally:
        rsyslog.stop()
        receivers.stop()


def test_pseudonyms_differ_between_organisations(sqlite, server_factory, rampart_bin, tmp_path):
    server = server_factory(sqlite)
    pseudonyms = []
    for n in range(2):
        # A receiver per organisation: a JSON record does not name its organisation.
        receivers = rx.Receivers(tmp_path / f"receivers{n}").start()
        try:
            token = new_org(rampart_bin, sqlite.args)["apiToken"]
            product_events(server, token)
            api(server, token, "POST", "/log-streams", 201, json=stream_body("webhook", receivers, personalData="pseudonymous"))
            deadline = time.monotonic() + 30
            viewed = []
            while time.monotonic() < deadline and not viewed:
                viewed = [e for e in receivers.events("webhook") if e["action"] == "product.content_viewed"]
                time.sleep(0.2)
            assert viewed, "no product event reached the receiver"
            pseudonyms.append(viewed[0]["actor"]["id"])
        finally:
            receivers.stop()
    assert pseudonyms[0] != pseudonyms[1], "the same person is another pseudonym in another organisation"
