"""PostgreSQL goes away under a running server and comes back: the server says so honestly
(503 on /readyz, `database_unavailable` on the API, no 500, no hang), recovers on its own,
and loses nothing. Uses a cluster of its own so the shared one is not disturbed."""

from __future__ import annotations

import time

import requests

from conftest import bearer, migrate_postgres, new_org, postgres_store

RECOVERY_TIMEOUT = 30.0


def test_postgres_down_and_back(rampart_bin, server_factory, pg_cluster):
    migrate_postgres(rampart_bin, pg_cluster.owner_url)
    store = postgres_store(pg_cluster.app_url)
    server = server_factory(store)
    org = new_org(rampart_bin, store.args)
    auth = bearer(org["apiToken"])

    created = requests.post(f"{server.api}/users", headers=auth,
                            json={"email": "kept@down.example.test", "displayName": "Kept"}, timeout=10)
    assert created.status_code == 201, f"{created.status_code} {created.text}"
    before = requests.get(f"{server.api}/users", headers=auth, params={"limit": 200}, timeout=10)
    assert before.status_code == 200, before.text

    pg_cluster.stop()

    ready = requests.get(f"{server.base_url}/readyz", timeout=15)
    assert ready.status_code == 503, f"/readyz with the database down: {ready.status_code} {ready.text}"
    assert ready.json() == {"status": "unavailable"}, ready.text

    health = requests.get(f"{server.base_url}/healthz", timeout=15)
    assert health.status_code == 200, f"/healthz is liveness and must not depend on the database: {health.status_code}"

    users = requests.get(f"{server.api}/users", headers=auth, timeout=15)
    assert users.status_code == 503, f"GET /api/v1/users with the database down: {users.status_code} {users.text}"
    body = users.json()
    assert body["error"]["code"] == "database_unavailable", body
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"], body
    assert users.headers.get("X-Request-Id"), "503 answer without X-Request-Id"

    write = requests.post(f"{server.api}/users", headers=auth,
                          json={"email": "lost@down.example.test", "displayName": "Lost"}, timeout=15)
    assert write.status_code == 503, f"POST /api/v1/users with the database down: {write.status_code} {write.text}"
    assert write.json()["error"]["code"] == "database_unavailable", write.text

    pg_cluster.start()

    deadline = time.monotonic() + RECOVERY_TIMEOUT
    last = None
    while time.monotonic() < deadline:
        try:
            last = requests.get(f"{server.base_url}/readyz", timeout=5)
            if last.status_code == 200:
                break
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.5)
    else:
        raise AssertionError(f"/readyz not back to 200 within {RECOVERY_TIMEOUT:.0f}s: {last}\n{server.output_tail()}")
    assert server.running(), "the server exited while the database was down"

    after = requests.get(f"{server.api}/users", headers=auth, params={"limit": 200}, timeout=10)
    assert after.status_code == 200, f"{after.status_code} {after.text}"
    assert after.json()["data"] == before.json()["data"], "users changed across the outage"

    org_now = requests.get(f"{server.api}/organization", headers=auth, timeout=10)
    assert org_now.status_code == 200, org_now.text
    assert org_now.json()["id"] == org["organization"]["id"]

    again = requests.post(f"{server.api}/users", headers=auth,
                          json={"email": "after@down.example.test", "displayName": "After"}, timeout=10)
    assert again.status_code == 201, f"writes after recovery: {again.status_code} {again.text}"
