"""What the operator's side of the server promises (issue 18, findings 6 and 8): key files
others can read or that went missing stop the server with a message saying what to do,
/metrics can live on an address of its own, and `rampart org create` links to the URL the
server actually runs at."""

from __future__ import annotations

import json
import os
import subprocess
import time

import requests

from conftest import find_free_port, new_org, run_cli

START_TIMEOUT = 60


def serve_once(rampart_bin: str, store, tmp_path) -> subprocess.CompletedProcess:
    """`rampart serve` expected to refuse to start: its exit and output."""
    return subprocess.run(
        [rampart_bin, "serve", "--host", "127.0.0.1", "--port", str(find_free_port()), *store.args],
        capture_output=True, text=True, timeout=START_TIMEOUT, stdin=subprocess.DEVNULL, cwd=tmp_path,
    )


def test_key_file_readable_by_others_stops_the_server(rampart_bin, sqlite, tmp_path):
    new_org(rampart_bin, sqlite.args)
    kek = sqlite.data_dir / "kek"
    os.chmod(kek, 0o644)
    proc = serve_once(rampart_bin, sqlite, tmp_path)
    assert proc.returncode != 0, proc.stdout[-500:]
    assert f"chmod 600 {kek}" in proc.stderr + proc.stdout, proc.stderr[-800:]


def test_missing_key_file_beside_a_store_is_not_recreated(rampart_bin, sqlite, tmp_path):
    new_org(rampart_bin, sqlite.args)
    kek = sqlite.data_dir / "kek"
    kek.unlink()
    proc = serve_once(rampart_bin, sqlite, tmp_path)
    assert proc.returncode != 0, proc.stdout[-500:]
    output = proc.stderr + proc.stdout
    assert "missing" in output and str(kek) in output, output[-800:]
    assert not kek.exists(), "a new key file was written beside a store whose keys it cannot open"
    # The admin commands keep the same rule.
    cli = run_cli(rampart_bin, "org", "create", "--name", "After loss", "--admin-email", "a@example.test",
                  *sqlite.args, check=False)
    assert cli.returncode != 0 and not kek.exists(), cli.stderr[-500:]


def test_metrics_on_their_own_address(server_factory, sqlite):
    metrics_port = find_free_port()
    server = server_factory(sqlite, extra_args=["--metrics-address", f"127.0.0.1:{metrics_port}"])
    assert requests.get(server.base_url + "/healthz", timeout=10).status_code == 200
    public = requests.get(server.base_url + "/metrics", timeout=10)
    assert public.status_code == 404, (public.status_code, public.text[:200])
    private = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
    assert private.status_code == 200 and "hb_requests" in private.text, private.text[:300]
    assert requests.get(f"http://127.0.0.1:{metrics_port}/api/v1/users", timeout=10).status_code == 404


def test_org_create_links_to_the_servers_public_url(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite, extra_args=[])
    server.stop()
    # RampartServer passes --public-url http://127.0.0.1:<port>; the CLI is given none.
    proc = run_cli(rampart_bin, "org", "create", "--name", "Linked", "--admin-email", "l@example.test", *sqlite.args)
    assert f"{server.base_url}/console/setup?token=" in proc.stdout, proc.stdout
    assert "rampart serve" in proc.stdout, "says where the address came from"
    given = run_cli(rampart_bin, "org", "create", "--name", "Given", "--admin-email", "g@example.test", *sqlite.args,
                    "--public-url", "https://rampart.example.test")
    assert "https://rampart.example.test/console/setup?token=" in given.stdout, given.stdout


def test_first_start_on_a_new_store_logs_no_failure(server_factory, sqlite):
    """The services beside the server (log streams, back-channel logouts, checkpoints) swept
    every organisation before the new SQLite store was migrated, and each logged `no such
    table: organizations` to the admin's first start. They now wait for the store."""
    server = server_factory(sqlite)
    time.sleep(2.5)  # the checkpoint and back-channel sweeps run every second here
    assert server.stop() == 0
    records = [json.loads(line) for line in server.output("stderr").splitlines() + server.output("stdout").splitlines()
               if line.startswith("{")]
    assert any(record.get("message") == "migrated" for record in records), server.output_tail()
    failures = [record for record in records
                if record.get("level") in ("warning", "error", "critical") or "failed" in record.get("message", "")
                or "error" in record]
    assert failures == [], failures
