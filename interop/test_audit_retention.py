"""Audit retention and legal hold over the API and the CLI, as admins set them: bad input is
refused and changes nothing, an auditor reads but cannot change, one organisation's token
never sees another's setting, and every change is an `audit.retention_changed` event. (The
purge itself, which needs events older than a day, is exercised in the Swift storage tests
with a clock of their own.)"""

from __future__ import annotations

import pytest
import requests

from conftest import bearer, new_org, run_cli, run_cli_json


def retention(server, token) -> dict:
    r = requests.get(f"{server.api}/audit-retention", headers=bearer(token), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def changes(server, token) -> list[dict]:
    r = requests.get(f"{server.api}/audit-events", params={"action": "audit.retention_changed"}, headers=bearer(token),
                     timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]


@pytest.mark.parametrize("store_name", ["sqlite", "postgres"])
def test_retention_and_legal_hold_through_the_api_and_the_cli(request, store_name, server_factory, rampart_bin):
    store = request.getfixturevalue(store_name)
    server = server_factory(store)
    org, other = new_org(rampart_bin, store.args), new_org(rampart_bin, store.args)
    token, slug = org["apiToken"], org["organization"]["slug"]
    assert retention(server, token) == {"retentionDays": 400, "legalHold": False, "legalHoldReason": None,
                                        "legalHoldSince": None, "purgedThroughSequence": 0, "lastPurgeAt": None}

    for body, field in [({"retentionDays": 0}, "retentionDays"), ({"retentionDays": 36501}, "retentionDays"),
                        ({"legalHold": True}, "legalHoldReason"), ({"legalHold": True, "legalHoldReason": "   "}, "legalHoldReason"),
                        ({"legalHoldReason": "x" * 501}, "legalHoldReason"), ({"retentionDays": "400"}, "retentionDays")]:
        r = requests.patch(f"{server.api}/audit-retention", headers=bearer(token), json=body, timeout=10)
        assert r.status_code == 400, (body, r.text)
        assert field in r.json()["error"]["message"], (body, r.json())
    for body in [{}, {"days": 30}]:
        r = requests.patch(f"{server.api}/audit-retention", headers=bearer(token), json=body, timeout=10)
        assert r.status_code == 400, (body, r.text)
    assert retention(server, token)["retentionDays"] == 400 and changes(server, token) == [], "nothing changed"

    r = requests.patch(f"{server.api}/audit-retention", headers=bearer(token),
                       json={"retentionDays": 730, "legalHold": True, "legalHoldReason": "Case 2026-114"}, timeout=10)
    assert r.status_code == 200, r.text
    held = r.json()
    assert held["retentionDays"] == 730 and held["legalHold"] and held["legalHoldReason"] == "Case 2026-114"
    assert held["legalHoldSince"], held
    [event] = changes(server, token)
    assert event["details"]["changes"]["retentionDays"] == {"before": 400, "after": 730}
    assert event["details"]["changes"]["legalHold"] == {"before": False, "after": True}

    # Another organisation keeps its own setting; an auditor reads but may not change.
    assert retention(server, other["apiToken"])["retentionDays"] == 400
    auditor = requests.post(f"{server.api}/api-tokens", headers=bearer(token), json={"name": "auditor", "role": "auditor"},
                            timeout=10).json()["secret"]
    assert retention(server, auditor)["legalHold"] is True
    r = requests.patch(f"{server.api}/audit-retention", headers=bearer(auditor), json={"retentionDays": 30}, timeout=10)
    assert r.status_code == 403, r.text
    assert requests.post(f"{server.api}/audit-retention/purge", headers=bearer(auditor), timeout=10).status_code == 403

    # Under the hold nothing is purged, whoever asks.
    r = requests.post(f"{server.api}/audit-retention/purge", headers=bearer(token), timeout=10)
    assert r.status_code == 200 and r.json()["purged"] is False and r.json()["events"] == 0, r.text
    shown = run_cli(rampart_bin, "audit", "purge", "--org", slug, *store.args).stdout
    assert "legal hold" in shown, shown

    # The CLI, from another directory, reads and changes the same setting.
    assert run_cli_json(rampart_bin, "audit", "retention", "--org", slug, *store.args, "--json")["legalHoldReason"] == "Case 2026-114"
    refused = run_cli(rampart_bin, "audit", "retention", "--org", slug, "--days", "0", *store.args, check=False)
    assert refused.returncode != 0 and "--days" in refused.stderr, refused.stderr
    released = run_cli_json(rampart_bin, "audit", "retention", "--org", slug, "--release-hold", "--days", "365",
                            *store.args, "--json")
    assert released["legalHold"] is False and released["retentionDays"] == 365 and released["legalHoldReason"] is None
    assert retention(server, token)["retentionDays"] == 365
    assert len(changes(server, token)) == 2
    r = requests.post(f"{server.api}/audit-retention/purge", headers=bearer(token), timeout=10)
    assert r.status_code == 200 and r.json()["purged"] is False, "nothing is older than 365 days"
    verified = run_cli(rampart_bin, "audit", "verify", "--org", slug, *store.args, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
