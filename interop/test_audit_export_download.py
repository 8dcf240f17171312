"""The audit log downloaded over HTTP, as people fetch it: a verifiable bundle streamed from
the API that the CLI checks offline (and refuses once a byte of an event is changed), and
the console's download link, which keeps the page's filters, read back with Python's csv."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.parse

import requests

from conftest import create_org, run_cli
from test_audit_checkpoints import add_users, wait_for


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]*)"', html).group(1)


def console_session(base: str, slug: str, setup_link: str, email: str) -> requests.Session:
    """The organisation's first admin sets a password through the setup link and signs in."""
    session = requests.Session()
    url = urllib.parse.urlparse(setup_link)
    page = session.get(f"{base}{url.path}?{url.query}", timeout=10)
    password = "violet tractor evening 77"
    token = urllib.parse.parse_qs(url.query)["token"][0]
    done = session.post(f"{base}/console/setup", data={"token": token, "csrf": csrf(page.text), "password": password,
                                                        "password_confirm": password}, allow_redirects=False, timeout=30)
    assert done.status_code == 303, done.text[:300]
    page = session.get(f"{base}/o/{slug}/signin", timeout=10)
    signed_in = session.post(f"{base}/o/{slug}/signin", data={"csrf": csrf(page.text), "email": email, "password": password},
                             allow_redirects=False, timeout=30)
    assert signed_in.status_code == 303, signed_in.text[:300]
    return session


def test_a_bundle_streamed_from_the_api_verifies_offline_and_a_changed_byte_does_not(
        rampart_bin, server_factory, sqlite, tmp_path):
    created = create_org(rampart_bin, sqlite.args, "Downloaded", "admin@download.example.test")
    token = created["apiToken"]
    server = server_factory(sqlite, extra_args=["--audit-checkpoint-events", "3", "--audit-checkpoint-seconds", "1"])
    add_users(server.base_url, token, 5, "bundled")
    headers = {"Authorization": f"Bearer {token}"}
    wait_for(lambda: requests.get(f"{server.base_url}/api/v1/audit-checkpoints", headers=headers, timeout=10).json()["data"])

    bundle = tmp_path / "audit.jsonl"
    with requests.get(f"{server.base_url}/api/v1/audit-events/export", params={"format": "bundle"}, headers=headers,
                      stream=True, timeout=30) as response:
        assert response.status_code == 200, response.text[:300]
        assert response.headers["Content-Type"] == "application/x-ndjson"
        head = int(response.headers["Rampart-Export-Head"])
        with bundle.open("wb") as out:
            for chunk in response.iter_content(chunk_size=4096):
                out.write(chunk)
    lines = [json.loads(line) for line in bundle.read_text().splitlines()]
    assert lines[0]["header"]["events"] == head
    assert [line["event"]["sequence"] for line in lines if "event" in line] == list(range(1, head + 1))
    assert any("checkpoint" in line for line in lines), "the bundle carries the signed checkpoints"
    checked = run_cli(rampart_bin, "audit", "verify", "--bundle", str(bundle))
    assert f"audit bundle intact: organization {created['organization']['id']}, {head} events" in checked.stdout

    changed = tmp_path / "changed.jsonl"
    # The people's addresses are sealed in the bundle, so an event's action is what gets changed.
    changed.write_text(bundle.read_text().replace('"action":"user.created"', '"action":"user.updated"', 1))
    assert changed.read_text() != bundle.read_text()
    refused = run_cli(rampart_bin, "audit", "verify", "--bundle", str(changed), check=False)
    assert refused.returncode == 1, refused.stdout + refused.stderr


def test_the_console_download_keeps_the_pages_filters(rampart_bin, server_factory, sqlite):
    created = create_org(rampart_bin, sqlite.args, "Console export", "admin@console-export.example.test")
    slug, token = created["organization"]["slug"], created["apiToken"]
    server = server_factory(sqlite)
    add_users(server.base_url, token, 3, "listed")
    session = console_session(server.base_url, slug, created["setupLink"], "admin@console-export.example.test")

    page = session.get(f"{server.base_url}/console/audit", params={"action": "user.created", "actor": ""}, timeout=10)
    assert page.status_code == 200
    link = re.search(r'id="download-csv" href="([^"]*)"', page.text).group(1).replace("&amp;", "&")
    assert "action=user%2Ecreated" in link or "action=user.created" in link, link
    assert 'id="download-bundle"' not in page.text, "a filtered page offers no bundle: a bundle is the whole log"
    download = session.get(server.base_url + link, timeout=30)
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    api = requests.get(f"{server.base_url}/api/v1/audit-events", params={"action": "user.created", "limit": 200},
                       headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["data"]
    assert [int(r["sequence"]) for r in rows] == sorted(e["sequence"] for e in api)
    assert len(rows) == 4 and all(r["action"] == "user.created" for r in rows)

    whole = session.get(f"{server.base_url}/console/audit", timeout=10)
    bundle_link = re.search(r'id="download-bundle" href="([^"]*)"', whole.text).group(1)
    assert session.get(server.base_url + bundle_link, timeout=30).text.startswith('{"header":')
    signed_out = requests.get(server.base_url + link, allow_redirects=False, timeout=10)
    assert signed_out.status_code in (302, 303, 401), "no download without a console session"


def test_an_export_with_search_words_holds_only_the_events_they_find(rampart_bin, server_factory, sqlite, tmp_path):
    """`rampart audit export --search` (run from another directory, as people run it), the API's
    `q` and the console's link of a searched page: the same events as the list's search."""
    created = create_org(rampart_bin, sqlite.args, "Searched export", "admin@searched.example.test")
    slug, token = created["organization"]["slug"], created["apiToken"]
    server = server_factory(sqlite)
    add_users(server.base_url, token, 4, "searched")
    headers = {"Authorization": f"Bearer {token}"}
    words = "SEARCHED2@witness.example.test created"
    found = requests.get(f"{server.base_url}/api/v1/audit-events", params={"q": words, "limit": 200}, headers=headers,
                         timeout=10).json()["data"]
    assert [e["action"] for e in found] == ["user.created"], found

    for fmt in ("jsonl", "csv", "cef", "ocsf"):
        out = tmp_path / f"searched.{fmt}"
        run_cli(rampart_bin, "audit", "export", "--org", slug, "--format", fmt, "--search", words, "--output", str(out),
                *sqlite.args)
        streamed = requests.get(f"{server.base_url}/api/v1/audit-events/export", params={"format": fmt, "q": words},
                                headers=headers, timeout=30)
        assert streamed.status_code == 200, streamed.text[:300]
        assert out.read_bytes() == streamed.content, f"{fmt}: the CLI's file differs from the API's"
        text = out.read_text()
        assert "searched2@witness.example.test" in text and "searched1@" not in text, f"{fmt}: {text[:500]}"
    rows = list(csv.DictReader(io.StringIO((tmp_path / "searched.csv").read_text())))
    assert [int(r["sequence"]) for r in rows] == [e["sequence"] for e in found]
    lines = [json.loads(line) for line in (tmp_path / "searched.jsonl").read_text().splitlines()]
    assert [line["sequence"] for line in lines] == [e["sequence"] for e in found]

    too_many = run_cli(rampart_bin, "audit", "export", "--org", slug, "--search", " ".join(map(str, range(11))),
                       *sqlite.args, check=False)
    assert too_many.returncode != 0 and "--search: The search text must have at most 10 words." in too_many.stderr, \
        too_many.stderr
    bundle = run_cli(rampart_bin, "audit", "export", "--org", slug, "--format", "bundle", "--search", "ada", *sqlite.args,
                     check=False)
    assert bundle.returncode != 0 and "--until and --search" in bundle.stderr, bundle.stderr
    too_long = requests.get(f"{server.base_url}/api/v1/audit-events/export", params={"q": "x" * 201}, headers=headers,
                            timeout=10)
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "invalid_parameter", too_long.text

    # The console's download link on a searched page carries the words.
    session = console_session(server.base_url, slug, created["setupLink"], "admin@searched.example.test")
    page = session.get(f"{server.base_url}/console/audit", params={"q": words}, timeout=10)
    assert page.status_code == 200 and "not the search words" not in page.text
    link = re.search(r'id="download-csv" href="([^"]*)"', page.text).group(1).replace("&amp;", "&")
    download = session.get(server.base_url + link, timeout=30)
    assert download.content == (tmp_path / "searched.csv").read_bytes(), link
