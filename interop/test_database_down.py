"""PostgreSQL goes away under a running server and comes back: the server says so honestly
(503 on /readyz, `database_unavailable` on the API, no 500, no hang), recovers on its own,
and loses nothing. Uses a cluster of its own so the shared one is not disturbed."""

from __future__ import annotations

import time

import pytest
import requests

from conftest import bearer, migrate_postgres, new_org, postgres_store

RECOVERY_TIMEOUT = 30.0
# How long an answer may take while the database is down: a load balancer's health check
# or an API client gives up long before a connection pool's default timeouts.
DOWN_ANSWER_TIMEOUT = 10.0


def call(method: str, url: str, timeout: float, **kwargs) -> requests.Response:
    """One request whose hang or refusal fails the test with what was asked and how long it took."""
    started = time.monotonic()
    try:
        return requests.request(method, url, timeout=timeout, **kwargs)
    except requests.RequestException as exc:
        pytest.fail(f"{method} {url}: no answer after {time.monotonic() - started:.1f}s ({type(exc).__name__}: {exc})")


def test_postgres_down_and_back(rampart_bin, server_factory, pg_cluster, tmp_path):
    migrate_postgres(rampart_bin, pg_cluster.owner_url, tmp_path / "keys")
    store = postgres_store(pg_cluster.app_url, tmp_path / "keys")
    server = server_factory(store)
    org = new_org(rampart_bin, store.args)
    auth = bearer(org["apiToken"])

    created = call("POST", f"{server.api}/users", 10, headers=auth,
                   json={"email": "kept@down.example.test", "displayName": "Kept"})
    assert created.status_code == 201, f"{created.status_code} {created.text}"
    before = call("GET", f"{server.api}/users", 10, headers=auth, params={"limit": 200})
    assert before.status_code == 200, before.text

    pg_cluster.stop()

    ready = call("GET", f"{server.base_url}/readyz", DOWN_ANSWER_TIMEOUT)
    assert ready.status_code == 503, f"/readyz with the database down: {ready.status_code} {ready.text}"
    assert ready.json().get("status") == "unavailable", ready.text

    health = call("GET", f"{server.base_url}/healthz", DOWN_ANSWER_TIMEOUT)
    assert health.status_code == 200, (
        f"/healthz is liveness and must not depend on the database: {health.status_code} {health.text}"
    )

    users = call("GET", f"{server.api}/users", DOWN_ANSWER_TIMEOUT, headers=auth)
    assert users.status_code == 503, f"GET /api/v1/users with the database down: {users.status_code} {users.text}"
    body = users.json()
    assert body["error"]["code"] == "database_unavailable", body
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"], body
    assert users.headers.get("X-Request-Id"), "503 answer without X-Request-Id"

    write = call("POST", f"{server.api}/users", DOWN_ANSWER_TIMEOUT, headers=auth,
                 json={"email": "lost@down.example.test", "displayName": "Lost"})
    assert write.status_code == 503, f"POST /api/v1/users with the database down: {write.status_code} {write.text}"
    assert write.json()["error"]["code"] == "database_unavailable", write.text

    pg_cluster.start()

    deadline = time.monotonic() + RECOVERY_TIMEOUT
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = requests.get(f"{server.base_url}/readyz", timeout=5)
            if last.status_code == 200:
                break
            last = f"{last.status_code} {last.text}"
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.5)
    else:
        pytest.fail(f"/readyz not back to 200 within {RECOVERY_TIMEOUT:.0f}s after PostgreSQL came back "
                    f"(last: {last})\n{server.output_tail()}")
    assert server.running(), "the server exited while the database was down"

    after = call("GET", f"{server.api}/users", 10, headers=auth, params={"limit": 200})
    assert after.status_code == 200, f"{after.status_code} {after.text}"
    assert after.json()["data"] == before.json()["data"], "users changed across the outage"

    org_now = call("GET", f"{server.api}/organization", 10, headers=auth)
    assert org_now.status_code == 200, org_now.text
    assert org_now.json()["id"] == org["organization"]["id"]

    again = call("POST", f"{server.api}/users", 10, headers=auth,
                 json={"email": "after@down.example.test", "displayName": "After"})
    assert again.status_code == 201, f"writes after recovery: {again.status_code} {again.text}"
