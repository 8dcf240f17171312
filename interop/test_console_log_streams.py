"""Log streams in the console, driven through Chromium against a real rsyslog (issue 16):
a refused endpoint beside its field, a stream added with the receiver's CA pasted in, the
test record, pause and resume, the stream's health, deletion after a confirmation, and a
webhook stream with its own fields and a generated secret shown once."""

from __future__ import annotations

import time

from selenium.webdriver.common.by import By

from conftest import run_cli_json
from rsyslog_receiver import Rsyslog
from test_console_browser import Steps, fill, find, make_driver, submit
from test_console_browser import console  # noqa: F401  (the fixture)
from test_console_first_hour import sign_in


def test_add_test_pause_and_delete_a_stream(console, sqlite, rampart_bin, tmp_path):  # noqa: F811
    server, org, admin = console
    slug, org_id = org["organization"]["slug"], org["organization"]["id"]
    receiver = Rsyslog(tmp_path / "rsyslog").start()
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(f"{server.base_url}/console/log-streams")
        assert "No log streams yet." in find(driver, By.TAG_NAME, "main", steps).text, steps.context()

        # A receiver without a port is refused beside its field, with the rest as typed.
        fill(driver, steps, name="SIEM collector", endpoint="localhost", ca_certificate=receiver.ca_pem)
        submit(driver, steps, "create-stream")
        assert "host:port" in find(driver, By.ID, "endpoint-error", steps).text, steps.context()
        assert find(driver, By.ID, "name", steps).get_attribute("value") == "SIEM collector"
        assert "BEGIN CERTIFICATE" in find(driver, By.ID, "ca_certificate", steps).get_attribute("value")

        fill(driver, steps, endpoint=receiver.endpoint, start="beginning")
        submit(driver, steps, "create-stream")
        assert "Log stream added" in find(driver, By.ID, "notice", steps).text, steps.context()

        # The test record reaches rsyslog, and the stream sends the whole log.
        submit(driver, steps, "send-test")
        assert find(driver, By.ID, "test-result", steps).text == "The receiver took the test record.", steps.context()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(f'org="{org_id}" seq="1"' in line for line in receiver.lines()):
            time.sleep(0.3)
        assert any(f'org="{org_id}" seq="1"' in line for line in receiver.lines()), receiver.log_tail()
        assert any("log_stream.test" in line for line in receiver.lines())

        submit(driver, steps, "pause")
        assert "paused" in find(driver, By.ID, "health", steps).text, steps.context()
        streams = run_cli_json(rampart_bin, "log-stream", "list", "--org", slug, *sqlite.args, "--json")["data"]
        assert streams[0]["status"] == "paused"
        submit(driver, steps, "resume")
        assert "paused" not in find(driver, By.ID, "health", steps).text, steps.context()

        # Deleting asks first; Cancel keeps the stream.
        submit(driver, steps, "delete")
        assert "Delete the log stream SIEM collector?" in find(driver, By.TAG_NAME, "h1", steps).text, steps.context()
        submit(driver, steps, "confirm")
        assert "Deleted." in find(driver, By.ID, "notice", steps).text, steps.context()
        assert run_cli_json(rampart_bin, "log-stream", "list", "--org", slug, *sqlite.args, "--json")["data"] == []

        # Another kind has its own fields; a plain-http URL is refused beside its field; a
        # webhook without a secret gets one, shown on that one page.
        submit(driver, steps, "kind-webhook")
        assert find(driver, By.NAME, "secret", steps).get_attribute("type") == "password", steps.context()
        fill(driver, steps, name="Hook", endpoint="http://hooks.example.com/rampart")
        submit(driver, steps, "create-stream")
        assert "https" in find(driver, By.ID, "endpoint-error", steps).text, steps.context()
        fill(driver, steps, endpoint="https://hooks.example.com/rampart")
        submit(driver, steps, "create-stream")
        assert find(driver, By.ID, "stream-secret", steps).text.startswith("whsec_"), steps.context()
        streams = run_cli_json(rampart_bin, "log-stream", "list", "--org", slug, *sqlite.args, "--json")["data"]
        assert [(s["kind"], s["hasSecret"]) for s in streams] == [("webhook", True)] and "secret" not in streams[0]
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()
        receiver.stop()
