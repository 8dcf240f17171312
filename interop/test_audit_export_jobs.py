"""Exports the server prepares, followed as people follow them: in a real browser (Debian's
chromium driven by selenium) from the audit page's "Prepare export" button, through the job
page that reloads itself, to the downloaded file and the job's deletion; and with the CLI's `audit exports`
against the store a running server works on."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import requests
from selenium.webdriver.common.by import By

from conftest import create_org, run_cli, run_cli_json, unique
from test_audit_checkpoints import add_users
from test_console_browser import (PASSWORD, Steps, csp_violations, fill, find, make_driver, on_signin_page, submit,
                                  wait_for)


def api_export(base: str, token: str, **params: str) -> bytes:
    response = requests.get(f"{base}/api/v1/audit-events/export", params=params,
                            headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text[:300]
    return response.content


def downloaded(directory: Path, within: float = 20.0) -> Path:
    """The one finished file in the browser's download folder."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        files = [p for p in directory.iterdir() if not p.name.endswith(".crdownload")]
        if files and not any(p.name.endswith(".crdownload") for p in directory.iterdir()):
            return files[0]
        time.sleep(0.2)
    raise AssertionError(f"nothing downloaded into {directory}: {list(directory.iterdir())}")


def signed_in_browser(org: dict, admin: str, base: str, tmp_path: Path) -> tuple:
    """A browser that downloads into tmp_path/downloads, where the organisation's first admin
    has set a password through the setup link and is signed in: (driver, steps, downloads)."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = make_driver()
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        driver.get(org["setupLink"])
        fill(driver, steps, password=PASSWORD, password_confirm=PASSWORD)
        submit(driver, steps, "submit")
        if on_signin_page(driver):
            driver.get(f"{base}/console/signin")
            fill(driver, steps, organization=org["organization"]["slug"], email=admin, password=PASSWORD)
            submit(driver, steps, "signin")
        assert not on_signin_page(driver), steps.context()
    except BaseException:
        driver.quit()
        raise
    return driver, steps, downloads


def test_prepare_follow_and_download_an_export_in_the_browser(rampart_bin, server_factory, sqlite, tmp_path):
    server = server_factory(sqlite)
    admin = f"admin-{uuid.uuid4().hex[:8]}@exports.example.test"
    org = create_org(rampart_bin, sqlite.args, unique("Export Org"), admin, "--public-url", server.base_url)
    token = org["apiToken"]
    add_users(server.base_url, token, 25, "exported")
    driver, steps, downloads = signed_in_browser(org, admin, server.base_url, tmp_path)
    try:
        # The audit page filtered to user events: its Prepare button keeps the filter.
        driver.get(f"{server.base_url}/console/audit?action=user.")
        steps.shot("audit")
        assert not driver.find_elements(By.ID, "prepare-bundle"), "a filtered page offers no bundle"
        submit(driver, steps, "prepare-csv")
        steps.shot("job")
        job_url = driver.current_url
        assert re.fullmatch(r".*/console/audit/exports/[0-9a-f-]{36}", job_url), steps.context()
        progress = find(driver, By.ID, "export-progress", steps).text
        assert re.search(r"\d+ of \d+ events \(\d+ %\)", progress), steps.context()
        if find(driver, By.ID, "export-status", steps).text != "done":
            assert 'http-equiv="refresh"' in driver.page_source, "a running job's page reloads itself"

        # Nothing is clicked: the page's own refresh brings the Download link.
        link = wait_for(driver, lambda d: d.find_elements(By.ID, "download-export"), "the Download link", steps)[0]
        steps.shot("done")
        assert find(driver, By.ID, "export-status", steps).text == "done"
        total = int(re.search(r"(\d+) of (\d+) events \(100 %\)", find(driver, By.ID, "export-progress", steps).text)
                    .group(2))
        assert 'http-equiv="refresh"' not in driver.page_source, "a finished job's page stays still"
        link.click()
        file = downloaded(downloads)
        assert file.suffix == ".csv", file.name
        content = file.read_bytes()
        assert content == api_export(server.base_url, token, format="csv", action="user."), \
            "the prepared file differs from the streamed export of the same filter"
        rows = list(csv.DictReader(io.StringIO(content.decode())))
        assert len(rows) == 26 and all(r["action"] == "user.created" for r in rows), [r["action"] for r in rows]
        log = requests.get(f"{server.base_url}/api/v1/audit-events", params={"limit": 1},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["data"][0]
        assert total == log["sequence"], "the job covers the log up to its own request"

        # Back to the audit page: the job is among the recent exports, and leads to its page again.
        driver.back()
        wait_for(driver, lambda d: urlparse(d.current_url).path == "/console/audit", "the audit page after Back", steps)
        steps.shot("back")
        find(driver, By.ID, "prepare-csv", steps)
        # The browser may show the page as it was before the export (its back/forward cache):
        # reloading it lists the job.
        driver.refresh()
        recent = find(driver, By.ID, "recent-exports", steps)
        job_link = recent.find_element(By.CSS_SELECTOR, f'a[href="{urlparse(job_url).path}"]')
        assert "done" in recent.text, steps.context()
        job_link.click()
        wait_for(driver, lambda d: d.find_elements(By.ID, "download-export"), "the job page from the list", steps)

        # Delete asks first (Cancel keeps the job), then removes it as the API's DELETE does.
        job_id = urlparse(job_url).path.rsplit("/", 1)[1]
        api = {"Authorization": f"Bearer {token}"}
        submit(driver, steps, "delete-export")
        steps.shot("confirm-delete")
        assert "Delete the csv export" in find(driver, By.ID, "confirm-question", steps).text, steps.context()
        submit(driver, steps, "cancel")
        assert urlparse(driver.current_url).path == urlparse(job_url).path, steps.context()
        assert requests.get(f"{server.base_url}/api/v1/audit-exports/{job_id}", headers=api, timeout=10).status_code == 200
        submit(driver, steps, "delete-export")
        submit(driver, steps, "confirm")
        steps.shot("deleted")
        assert urlparse(driver.current_url).path == "/console/audit", steps.context()
        assert "Export deleted" in driver.page_source
        assert not driver.find_elements(By.CSS_SELECTOR, f'a[href="{urlparse(job_url).path}"]'), "the job left the list"
        gone = requests.get(f"{server.base_url}/api/v1/audit-exports/{job_id}", headers=api, timeout=10)
        assert gone.status_code == 404, gone.text
        listed = requests.get(f"{server.base_url}/api/v1/audit-exports", headers=api, timeout=10).json()["data"]
        assert job_id not in [job["id"] for job in listed]
        deleted = requests.get(f"{server.base_url}/api/v1/audit-events", params={"action": "audit.export_deleted"},
                               headers=api, timeout=10).json()["data"]
        assert [(e["targets"][0]["id"], e["actor"]["type"]) for e in deleted] == [(job_id, "user")], deleted

        violations = csp_violations(driver)
        assert not violations, "the console violates its own Content-Security-Policy:\n" + "\n".join(violations)
    finally:
        driver.quit()

    signed_out = requests.get(f"{job_url}/download", allow_redirects=False, timeout=10)
    assert signed_out.status_code in (302, 303, 401), "no download without a console session"


def test_the_cli_queues_follows_and_downloads_an_export(rampart_bin, server_factory, sqlite, tmp_path):
    created = create_org(rampart_bin, sqlite.args, "CLI exports", "admin@cli-exports.example.test")
    slug, token = created["organization"]["slug"], created["apiToken"]
    server = server_factory(sqlite)
    add_users(server.base_url, token, 5, "cli")

    job = run_cli_json(rampart_bin, "audit", "exports", "create", "--org", slug, "--format", "jsonl", *sqlite.args,
                       "--wait", "--json")
    assert job["status"] == "done" and job["eventsRead"] == job["eventsTotal"] == job["headSequence"], job
    listed = run_cli_json(rampart_bin, "audit", "exports", "list", "--org", slug, *sqlite.args, "--json")
    assert [j["id"] for j in listed] == [job["id"]]
    out = tmp_path / "audit.jsonl"
    run_cli(rampart_bin, "audit", "exports", "download", job["id"], "--org", slug, "--output", str(out), *sqlite.args)
    # The API sees the same job, and its download is the CLI's file.
    via_api = requests.get(f"{server.base_url}/api/v1/audit-exports/{job['id']}/download",
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert via_api.status_code == 200 and via_api.content == out.read_bytes()
    assert int(via_api.headers["Content-Length"]) == job["byteCount"] == out.stat().st_size
    lines = out.read_text().splitlines()
    assert len(lines) == job["headSequence"] and '"action":"audit.export_requested"' in lines[-1]

    refused = run_cli(rampart_bin, "audit", "exports", "create", "--org", slug, "--format", "bundle", "--action", "user.",
                      *sqlite.args, check=False)
    assert refused.returncode != 0 and "leave out --action" in refused.stderr, refused.stderr
    run_cli(rampart_bin, "audit", "exports", "delete", job["id"], "--org", slug, *sqlite.args)
    assert run_cli_json(rampart_bin, "audit", "exports", "list", "--org", slug, *sqlite.args, "--json") == []


def test_an_export_of_a_saved_search_in_the_browser_holds_only_what_it_finds(rampart_bin, server_factory, sqlite,
                                                                               tmp_path):
    """A search saved as a view, opened again from the list and exported from there: the job
    keeps the words and shows them, and the downloaded file holds only the events they find."""
    server = server_factory(sqlite)
    admin = f"admin-{uuid.uuid4().hex[:8]}@searches.example.test"
    org = create_org(rampart_bin, sqlite.args, unique("Search Export Org"), admin, "--public-url", server.base_url)
    token = org["apiToken"]
    add_users(server.base_url, token, 6, "sought")
    words = "Sought3@witness.example.test"
    driver, steps, downloads = signed_in_browser(org, admin, server.base_url, tmp_path)
    try:
        driver.get(f"{server.base_url}/console/audit")
        fill(driver, steps, q=words)
        submit(driver, steps, "filter")
        assert "q=" in driver.current_url, steps.context()
        fill(driver, steps, name="Person three")
        submit(driver, steps, "save-view")
        driver.get(f"{server.base_url}/console/audit")
        find(driver, By.LINK_TEXT, "Person three", steps).click()
        wait_for(driver, lambda d: "q=" in d.current_url, "the saved view", steps)
        steps.shot("saved-view")
        assert "not the search words" not in driver.page_source
        assert not driver.find_elements(By.ID, "prepare-bundle"), "a searched page offers no bundle"
        submit(driver, steps, "prepare-csv")
        link = wait_for(driver, lambda d: d.find_elements(By.ID, "download-export"), "the Download link", steps)[0]
        steps.shot("done")
        assert find(driver, By.ID, "export-search", steps).text == words.lower(), steps.context()
        progress = find(driver, By.ID, "export-progress", steps).text
        assert re.search(r"(\d+) of \1 events \(100 %\), 1 kept by the filters and search words", progress), progress
        link.click()
        content = downloaded(downloads).read_bytes()
        assert content == api_export(server.base_url, token, format="csv", q=words)
        rows = list(csv.DictReader(io.StringIO(content.decode())))
        assert [r["action"] for r in rows] == ["user.created"] and "sought3@witness.example.test" in rows[0]["targets"], rows
        violations = csp_violations(driver)
        assert not violations, "the console violates its own Content-Security-Policy:\n" + "\n".join(violations)
    finally:
        driver.quit()


def test_the_cli_queues_an_export_with_search_words(rampart_bin, server_factory, sqlite, tmp_path):
    created = create_org(rampart_bin, sqlite.args, "CLI searched exports", "admin@cli-searched.example.test")
    slug, token = created["organization"]["slug"], created["apiToken"]
    server = server_factory(sqlite)
    add_users(server.base_url, token, 5, "clisearch")

    job = run_cli_json(rampart_bin, "audit", "exports", "create", "--org", slug, "--format", "csv", "--search",
                       "CLISEARCH4@witness.example.test", *sqlite.args, "--wait", "--json")
    assert job["status"] == "done" and job["filter"]["q"] == "clisearch4@witness.example.test", job
    assert job["eventsRead"] == job["eventsTotal"] and job["eventsWritten"] == 1, job
    listed = run_cli(rampart_bin, "audit", "exports", "list", "--org", slug, *sqlite.args).stdout
    assert "search clisearch4@witness.example.test" in listed, listed
    shown = run_cli(rampart_bin, "audit", "exports", "show", job["id"], "--org", slug, *sqlite.args).stdout
    assert "Filters: search clisearch4@witness.example.test" in shown, shown
    out = tmp_path / "searched.csv"
    run_cli(rampart_bin, "audit", "exports", "download", job["id"], "--org", slug, "--output", str(out), *sqlite.args)
    assert out.read_bytes() == api_export(server.base_url, token, format="csv", q="clisearch4@witness.example.test")
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["action"] for r in rows] == ["user.created"], rows

    for args, message in [(["--search", "x" * 201], "--search: The search text must be at most 200 characters."),
                          (["--format", "bundle", "--search", "ada"], "--until and --search")]:
        refused = run_cli(rampart_bin, "audit", "exports", "create", "--org", slug, *args, *sqlite.args, check=False)
        assert refused.returncode != 0 and message in refused.stderr, refused.stderr
    assert len(run_cli_json(rampart_bin, "audit", "exports", "list", "--org", slug, *sqlite.args, "--json")) == 1, \
        "a refused request makes no job"
