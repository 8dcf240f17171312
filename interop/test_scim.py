"""SCIM 2.0 at /scim/v2 against checkers written by others, on a live server, on SQLite and
PostgreSQL: scim2-tester (`scim2 test`), scim-sanity (strict and its Entra profile), an
Okta-style CRUD sequence, and bad input that must get a SCIM error and change nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path

import pytest
import requests

from conftest import bearer, new_org, tail

VENV_BIN = Path(sys.executable).parent
SCIM_JSON = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture(params=["sqlite", "postgres"])
def scim(request, server_factory, rampart_bin):
    """(server, org, SCIM base URL, SCIM token) on a fresh organisation."""
    store = request.getfixturevalue(request.param)
    server = server_factory(store)
    org = new_org(rampart_bin, store.args)
    r = requests.post(f"{server.api}/scim-tokens", headers=bearer(org["apiToken"]), json={"name": "interop"}, timeout=10)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["token"].startswith("rsc_") and body["baseURL"] == f"{server.base_url}/scim/v2"
    return server, org, body["baseURL"], body["token"]


class SCIM:
    def __init__(self, base: str, token: str):
        self.base = base
        self.headers = {**bearer(token), "Content-Type": SCIM_JSON, "Accept": SCIM_JSON}

    def __call__(self, method: str, path: str, body=None, **kwargs) -> requests.Response:
        data = json.dumps(body) if body is not None and not isinstance(body, (str, bytes)) else body
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, self.base + path, data=data, headers=headers, timeout=30, **kwargs)


def audit_count(server, org) -> int:
    r = requests.get(f"{server.api}/audit-events?limit=200", headers=bearer(org["apiToken"]), timeout=10)
    assert r.status_code == 200, r.text
    return len(r.json()["data"])


def expect_scim_error(r: requests.Response, status: int, scim_type: str | None = None) -> None:
    assert r.status_code == status, f"{r.status_code} {r.text[:300]}"
    assert r.headers["Content-Type"].startswith(SCIM_JSON)
    body = r.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status) and body["detail"]
    if scim_type:
        assert body.get("scimType") == scim_type, body


def test_scim2_tester_finds_no_failures(scim, tmp_path):
    server, _, base, token = scim
    env = {**os.environ, "SCIM_CLI_HEADERS": f"Authorization: Bearer {token}"}
    proc = subprocess.run([str(VENV_BIN / "scim2"), "-u", base, "test"], capture_output=True, text=True, env=env,
                          timeout=600, cwd=tmp_path)
    statuses = ("SUCCESS", "COMPLIANT", "ACCEPTABLE", "DEVIATION", "ERROR", "CRITICAL", "SKIPPED")
    results = [line for line in proc.stdout.splitlines() if line.split(" ", 1)[0] in statuses]
    failures = [line for line in results if not line.startswith("SUCCESS ")]
    assert len(results) > 50, tail(proc.stdout + proc.stderr)
    assert failures == [] and proc.returncode == 0, tail(proc.stdout + proc.stderr, 120) + server.output_tail()


@pytest.mark.parametrize("profile", [None, "entra"])
def test_scim_sanity_probe_passes(scim, profile):
    server, _, base, token = scim
    cmd = [str(VENV_BIN / "scim-sanity"), "probe", base, "--token", token, "--i-accept-side-effects", "--strict",
           "--json-output"]
    if profile:
        cmd += ["--profile", profile]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    report = json.loads(proc.stdout[proc.stdout.index("{"):])
    failed = [r for r in report["results"] if r["status"] in ("fail", "error", "FAIL", "ERROR")]
    assert report["summary"]["failed"] == 0 and report["summary"]["errors"] == 0, json.dumps(failed, indent=1)
    assert report["summary"]["passed"] >= 20
    assert proc.returncode == 0, tail(proc.stdout + proc.stderr)


def test_okta_style_crud_sequence(scim):
    server, org, base, token = scim
    call = SCIM(base, token)
    r = call("GET", "/Users?count=1&startIndex=1")
    assert r.status_code == 200 and r.json()["startIndex"] == 1 and len(r.json()["Resources"]) == 1
    name = f"okta.{uuid.uuid4().hex[:8]}@example.test"
    r = call("GET", "/Users", params={"filter": f'userName eq "{name}"', "startIndex": 1, "count": 100})
    assert r.status_code == 200 and r.json()["totalResults"] == 0 and r.json()["Resources"] == []
    user = {"schemas": [USER], "userName": name, "name": {"givenName": "Okta", "familyName": "Person"},
            "emails": [{"primary": True, "value": name, "type": "work"}], "displayName": "Okta Person",
            "locale": "en-US", "externalId": "00u1abcd", "groups": [], "password": "ignored-Passw0rd", "active": True}
    r = call("POST", "/Users", user)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["Location"].endswith("/Users/" + created["id"]) and "password" not in created
    expect_scim_error(call("POST", "/Users", {**user, "externalId": "other"}), 409, "uniqueness")
    r = call("GET", "/Users", params={"filter": f'userName eq "{name.upper()}"'})
    assert r.status_code == 200 and [u["id"] for u in r.json()["Resources"]] == [created["id"]]
    expect_scim_error(call("GET", f"/Users/{uuid.uuid4()}"), 404)
    r = call("PATCH", f"/Users/{created['id']}",
             {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]})
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    r = call("GET", f"/Users/{created['id']}")
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["userName"] == name
    actions = [e["action"] for e in requests.get(f"{server.api}/audit-events?limit=200", headers=bearer(org["apiToken"]),
                                                 timeout=10).json()["data"]]
    assert "scim.user_created" in actions and "scim.user_deactivated" in actions


def test_bad_input_gets_scim_errors_and_changes_nothing(scim, rampart_bin):
    server, org, base, token = scim
    call = SCIM(base, token)
    r = call("POST", "/Users", {"schemas": [USER], "userName": f"bad.{uuid.uuid4().hex[:6]}@example.test"})
    assert r.status_code == 201
    user = r.json()
    resource = call("GET", f"/Users/{user['id']}").json()
    before = audit_count(server, org)
    for bad in ['userName eq "unbalanced', "userName zz \"x\"", 'userName eq "a" or 1 eq 1',
                "(" * 1000 + 'userName eq "a"' + ")" * 1000]:
        expect_scim_error(call("GET", "/Users", params={"filter": bad}), 400, "invalidFilter")
    r = call("GET", "/Users", params={"count": "99999999999999999999"})
    assert r.status_code == 200 and r.json()["itemsPerPage"] <= 1000
    for path in ["id", "meta", "meta.created"]:
        expect_scim_error(call("PATCH", f"/Users/{user['id']}", {"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": path, "value": "x"}]}), 400, "mutability")
    expect_scim_error(call("POST", "/Users", {"schemas": ["urn:example:unknown"], "userName": "x@example.test"}), 400,
                      "invalidValue")
    expect_scim_error(call("POST", "/Users", {"schemas": [USER], "userName": "y@example.test"},
                           headers={"Content-Type": "text/plain"}), 415)
    expect_scim_error(call("POST", "/Users", b'{"schemas": ["' + b"x" * (10 * 1024 * 1024) + b'"]}'), 413)
    expect_scim_error(call("POST", "/Users", "{not json"), 400, "invalidSyntax")
    # Another organisation's ids are unknown here, and its token sees none of this one.
    other = new_org(rampart_bin, server.store.args)
    other_token = requests.post(f"{server.api}/scim-tokens", headers=bearer(other["apiToken"]), json={"name": "o"},
                                timeout=10).json()["token"]
    other_call = SCIM(base, other_token)
    expect_scim_error(other_call("GET", f"/Users/{user['id']}"), 404)
    expect_scim_error(other_call("PATCH", f"/Users/{user['id']}", {"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "value": {"active": False}}]}), 404)
    expect_scim_error(other_call("DELETE", f"/Users/{user['id']}"), 404)
    expect_scim_error(call("GET", "/Users", headers={"Authorization": f"Bearer {org['apiToken']}"}), 401)
    assert audit_count(server, org) == before, "bad input changed nothing"
    assert call("GET", f"/Users/{user['id']}").json() == resource
    log = requests.get(f"{server.api}/scim-requests?failed=true", headers=bearer(org["apiToken"]), timeout=10).json()["data"]
    assert any(e["scimType"] == "invalidFilter" for e in log) and any(e["scimType"] == "mutability" for e in log)


def test_provisioning_log_is_in_the_console(scim):
    server, org, base, token = scim
    call = SCIM(base, token)
    expect_scim_error(call("GET", "/Users", params={"filter": "userName zz 1"}), 400, "invalidFilter")
    assert call("POST", "/Users", {"schemas": [USER], "userName": "log.person@example.test"}).status_code == 201
    console = requests.Session()
    link = urllib.parse.urlsplit(org["setupLink"])  # made by the CLI, which does not know the server's address
    page = console.get(f"{server.base_url}{link.path}?{link.query}", timeout=10)
    assert page.status_code == 200, page.text[:300]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    secret = urllib.parse.parse_qs(link.query)["token"][0]
    done = console.post(f"{server.base_url}/console/setup", allow_redirects=False, timeout=30, data={
        "csrf": csrf, "token": secret, "password": "correct horse battery", "password_confirm": "correct horse battery"})
    assert done.status_code in (302, 303), done.text[:300]
    page = console.get(f"{server.base_url}/console/scim", timeout=10)
    assert page.status_code == 200, page.text[:300]
    assert base in page.text and "interop" in page.text
    assert "invalidFilter" in page.text and "POST /scim/v2/Users" in page.text
    failed = console.get(f"{server.base_url}/console/scim?failed=true", timeout=10).text
    assert "invalidFilter" in failed and "POST /scim/v2/Users" not in failed


def test_cli_manages_scim_tokens(scim, rampart_bin):
    server, org, base, _ = scim
    store = server.store.args
    slug = org["organization"]["slug"]
    created = json.loads(subprocess.run([rampart_bin, "scim-token", "create", "--org", slug, "--name", "cli-idp",
                                         "--public-url", server.base_url, "--json", *store],
                                        capture_output=True, text=True, check=True, timeout=60).stdout)
    assert created["baseURL"] == base and created["token"].startswith("rsc_")
    call = SCIM(base, created["token"])
    assert call("GET", "/Users").status_code == 200
    listed = subprocess.run([rampart_bin, "scim-token", "list", "--org", slug, *store], capture_output=True, text=True,
                            check=True, timeout=60).stdout
    assert "cli-idp" in listed and created["token"] not in listed
    subprocess.run([rampart_bin, "scim-token", "revoke", "--org", slug, "--token", created["id"], *store],
                   capture_output=True, text=True, check=True, timeout=60)
    expect_scim_error(call("GET", "/Users"), 401)
