"""Crypto-shredding (issue 16, item 7): a person's email, name, IP address and user agent in
the audit log are sealed under a key of their own, and `POST /api/v1/users/{id}/erase`
destroys it. The test makes a user, has a product report events about them (by Rampart id,
and by email alone), erases them, then reads everything a person could get the data back
from: the API, new exports of every format, a bundle checked offline by `rampart audit verify
--bundle`, log streams sent afterwards to the local webhook receiver (JSON, CEF, LEEF, OCSF),
and on SQLite the raw bytes of the database file and its WAL. None holds the person's data;
the log still verifies; an auditor cannot erase and bad ids get stable errors."""

from __future__ import annotations

import datetime
import time
import uuid

import requests

import http_receivers as rx
from conftest import bearer, new_org, run_cli, run_cli_json
from test_log_stream_http import store, stream_body  # noqa: F401 (fixture)
from test_log_stream_syslog import all_events, api


def report_product_events(server, token, user_id: str, email: str, ip: str, agent: str) -> None:
    product = api(server, token, "POST", "/products", 201,
                  json={"name": f"Wiki {uuid.uuid4().hex[:6]}", "kind": "wiki", "url": "https://wiki.example.test"})
    key = api(server, token, "POST", "/ingestion-keys", 201, json={"productId": product["id"], "name": "wiki"})["key"]
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    actors = [{"id": user_id, "email": email, "ip": ip, "userAgent": agent}, {"email": email, "ip": ip, "userAgent": agent}]
    body = {"events": [{
        "idempotencyKey": uuid.uuid4().hex, "action": "product.content_viewed", "occurredAt": now, "actor": actor,
        "targets": [{"type": "page", "id": f"page-{i}", "name": f"Page {i}"}],
    } for i, actor in enumerate(actors * 2)]}
    answer = requests.post(f"{server.api}/events", json=body, headers=bearer(key), timeout=30)
    assert answer.status_code == 200 and answer.json()["accepted"] == 4, answer.text


def test_an_erased_person_is_gone_from_api_exports_bundles_streams_and_the_file(store, server_factory, rampart_bin, tmp_path):
    tag = uuid.uuid4().hex[:8]
    email, name, ip, agent = f"erase.me.{tag}@example.test", f"Erase Me {tag}", "198.51.100.213", f"EraseBrowser/{tag}"
    secrets = [email, name, ip, agent]
    server = server_factory(store)
    org = new_org(rampart_bin, store.args)
    token, org_id, slug = org["apiToken"], org["organization"]["id"], org["organization"]["slug"]
    user = api(server, token, "POST", "/users", 201, json={"email": email, "displayName": name})
    report_product_events(server, token, user["id"], email, ip, agent)
    before = all_events(server, token)
    assert sum(e["actor"]["name"] == email and e["actor"]["ip"] == ip for e in before) == 4, "the log holds the person in clear"

    auditor = api(server, token, "POST", "/api-tokens", 201, json={"name": "aud", "role": "auditor"})["secret"]
    refused = requests.post(f"{server.api}/users/{user['id']}/erase", headers=bearer(auditor), timeout=30)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert len(all_events(server, token)) == len(before) + 1, "only the auditor token's creation was written"

    erased = api(server, token, "POST", f"/users/{user['id']}/erase", 200)
    assert erased == {"userId": user["id"], "userDeleted": True, "subjectKeysDestroyed": 2, "legacyEvents": 0}
    again = requests.post(f"{server.api}/users/{user['id']}/erase", headers=bearer(token), timeout=30)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_erased"
    unknown = requests.post(f"{server.api}/users/{uuid.uuid4()}/erase", headers=bearer(token), timeout=30)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"

    after = all_events(server, token)
    viewed = [e for e in after if e["action"] == "product.content_viewed"]
    assert len(viewed) == 4 and all(e["actor"].get("erased") is True and e["actor"]["name"] is None
                                    and e["actor"]["ip"] is None and e["actor"]["userAgent"] is None for e in viewed)
    assert after[-1]["action"] == "user.erased" and after[-1]["targets"] == [{"id": user["id"], "name": None, "type": "user"}]

    exported = b""
    for fmt in ("jsonl", "csv", "cef", "leef", "ocsf", "bundle"):
        r = requests.get(f"{server.api}/audit-events/export", params={"format": fmt}, headers=bearer(token), timeout=60)
        assert r.status_code == 200, r.text
        exported += r.content
    bundle = tmp_path / "audit.bundle"
    run_cli(rampart_bin, "audit", "export", "--org", slug, "--format", "bundle", "--output", str(bundle), *store.args)
    checked = run_cli(rampart_bin, "audit", "verify", "--bundle", str(bundle))
    assert "intact" in checked.stdout, checked.stdout
    exported += bundle.read_bytes()
    verified = run_cli_json(rampart_bin, "audit", "verify", "--org", slug, "--json", *store.args)
    assert verified["organizations"][0]["intact"] is True

    receivers = rx.Receivers(tmp_path / "receivers").start()
    try:
        for fmt in ("json", "cef", "leef", "ocsf"):
            api(server, token, "POST", "/log-streams", 201,
                json=stream_body("webhook", receivers, name=f"hook {fmt}", format=fmt))
        last = after[-1]["sequence"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(f"{last}".encode() in b for b in receivers.raw_bodies) < 4:
            time.sleep(0.3)
        streamed = b"".join(receivers.raw_bodies)
        assert streamed.count(user["id"].encode()) >= 4, "the streams carried the erased person's events"
        assert b'"erased":true' in streamed
    finally:
        receivers.stop()

    stored = b""
    if store.kind == "sqlite":
        server.stop()
        stored = b"".join(p.read_bytes() for p in store.data_dir.rglob("*") if p.is_file())
        assert b"audit_events" in stored and f"{org_id}".encode() in stored, "the scan reads the database"
    for secret in secrets:
        for where, data in (("an export or bundle", exported), ("a log stream", streamed), ("the SQLite files", stored)):
            assert secret.encode() not in data, f"{secret} is still in {where}"
