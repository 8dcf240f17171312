"""What a new admin trips over over plain HTTP (issue 17): HEAD, the server's root, and
request bodies that are not RFC 8259 JSON."""

from __future__ import annotations

from urllib.parse import urlparse

import requests

from conftest import bearer, new_org


def test_head_answers_like_get(server_factory, sqlite):
    """Defect 8: HEAD answered 404 where GET answers."""
    server = server_factory(sqlite)
    for path in ("/healthz", "/readyz", "/console/signin"):
        get = requests.get(server.base_url + path, allow_redirects=False, timeout=10)
        head = requests.head(server.base_url + path, allow_redirects=False, timeout=10)
        assert head.status_code == get.status_code, (path, head.status_code, get.status_code)
        assert head.content == b"", f"HEAD {path} sent a body"


def test_root_leads_to_the_console(server_factory, sqlite):
    """Defect 8: GET / answered a JSON 404 instead of leading to the console."""
    server = server_factory(sqlite)
    response = requests.get(server.base_url + "/", allow_redirects=False, timeout=10)
    assert response.status_code in (301, 302, 303, 307, 308), (response.status_code, response.text[:200])
    assert urlparse(response.headers["Location"]).path.startswith("/console"), response.headers
    landed = requests.get(server.base_url + "/", timeout=10)
    assert landed.status_code == 200 and "text/html" in landed.headers.get("Content-Type", ""), landed.status_code


def test_trailing_comma_is_not_json(rampart_bin, server_factory, sqlite):
    """Defect 6: {"name":"x",} was accepted; bodies are RFC 8259 JSON."""
    org = new_org(rampart_bin, sqlite.args)
    server = server_factory(sqlite)
    headers = {**bearer(org["apiToken"]), "Content-Type": "application/json"}
    for body in ('{"name":"trailing-comma",}', '{"name":"x","description":"y" , \n}', '{"name":["a",]}'):
        response = requests.post(server.base_url + "/api/v1/groups", data=body, headers=headers, timeout=10)
        assert response.status_code == 400, (body, response.status_code, response.text[:200])
        assert response.json()["error"]["code"] == "invalid_json", response.text
    groups = requests.get(server.base_url + "/api/v1/groups", headers=headers, timeout=10).json()
    names = [g["name"] for g in groups.get("items", groups.get("groups", []))]
    assert "trailing-comma" not in names, names
    # A string holding ",}" is still fine JSON.
    ok = requests.post(server.base_url + "/api/v1/groups", data='{"name":"a,}b"}', headers=headers, timeout=10)
    assert ok.status_code == 201, (ok.status_code, ok.text[:200])
