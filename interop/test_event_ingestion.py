"""Products post their events to `POST /api/v1/events` with Python's requests: a real batch of
1,000 with an ingestion key made by the CLI (run from another directory), the same batch again
(all duplicates), a client_credentials token that authlib fetched with the `events:write`
scope, and the key revoked by the CLI and then refused. The log still verifies afterwards."""

from __future__ import annotations

import datetime
import uuid

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from conftest import run_cli, run_cli_json
from oidc_setup import make_provider


def events(prefix: str, count: int) -> dict:
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    actions = ["product.content_viewed", "product.content_edited", "product.content_exported", "product.searched"]
    return {"events": [{
        "idempotencyKey": f"{prefix}-{i}", "action": actions[i % len(actions)], "occurredAt": now,
        "actor": {"id": f"u-{i % 7}", "email": f"person{i % 7}@example.test", "ip": "198.51.100.7",
                  "userAgent": "python-requests"},
        "targets": [{"type": "page", "id": f"page-{i}", "name": f"Page {i}"}],
        "details": {"space": "ENG", "query": "quarterly\treport" if i % 4 == 3 else None},
    } for i in range(count)]}


def post(server, credential: str, body) -> requests.Response:
    return requests.post(f"{server.api}/events", json=body, headers={"Authorization": f"Bearer {credential}"}, timeout=60)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_products_post_batches_with_a_key_and_a_client_credentials_token(backend, rampart_bin, server_factory, request):
    store = request.getfixturevalue(backend)
    server = server_factory(store)
    provider = make_provider(rampart_bin, store, server)
    org = ["--org", provider.slug, *store.args]

    created = run_cli_json(rampart_bin, "ingestion-key", "create", "--product", provider.product_id, "--name", "wiki prod",
                           *org, "--json")
    key = created["key"]
    assert key.startswith("rik_") and created["productId"] == provider.product_id

    prefix = uuid.uuid4().hex[:8]
    first = post(server, key, events(prefix, 1000))
    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["accepted"], answer["duplicates"]) == (1000, 0)
    sequences = [event["sequence"] for event in answer["events"]]
    assert sequences == list(range(sequences[0], sequences[0] + 1000))

    again = post(server, key, events(prefix, 1000)).json()
    assert (again["accepted"], again["duplicates"]) == (0, 1000)
    assert [event["sequence"] for event in again["events"]] == sequences

    bad = events(uuid.uuid4().hex[:8], 3)
    bad["events"][2]["actor"]["name"] = "Mallory\r\nforged: record"
    refused = post(server, key, bad)
    assert refused.status_code == 400 and "events[2].actor.name" in refused.json()["error"]["message"]

    client = provider.add_client(scopes=["openid", "events:write"])
    session = OAuth2Session(client["clientId"], client["clientSecret"], scope="events:write")
    token = session.fetch_token(provider.endpoint("token"), grant_type="client_credentials")
    assert "events:write" in token["scope"]
    with_token = post(server, token["access_token"], events(uuid.uuid4().hex[:8], 10))
    assert with_token.status_code == 200, with_token.text
    assert with_token.json()["accepted"] == 10

    listed = run_cli_json(rampart_bin, "ingestion-key", "list", *org, "--json")["data"]
    assert [k["id"] for k in listed] == [created["id"]] and listed[0]["lastUsedAt"]
    run_cli(rampart_bin, "ingestion-key", "revoke", "--key", created["id"], *org)
    assert post(server, key, events(uuid.uuid4().hex[:8], 1)).status_code == 401

    page = provider.api("GET", f"/audit-events?target={provider.product_id}&action=product.&limit=5").json()["data"]
    assert page[0]["details"]["source"]["credential"] == "oauth_client"
    assert run_cli(rampart_bin, "audit", "verify", *org).returncode == 0
