"""schemathesis (a peer that reads only docs/openapi.yaml) against a live server: every
answer must match the document, no 5xx, `Allow` on 405, and so on (its default checks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT, new_org, tail

OPENAPI = REPO_ROOT / "docs" / "openapi.yaml"
CONFIG = REPO_ROOT / "interop" / "schemathesis.toml"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
TIMEOUT = 1500


def report(output: str, limit: int = 250) -> str:
    """From schemathesis's FAILURES heading on (each failure with its curl reproduction, then
    the summary); its progress lines before that say nothing a reader needs."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if " FAILURES " in line and line.startswith("=")), 0)
    return tail("\n".join(lines[start:]), limit)


# DELETE /api-tokens/{id} is left out: schemathesis reuses ids it has seen in responses, so it
# finds and revokes the very token it authenticates with, after which every request is a
# correct 401 and the rest of the run tests nothing. Revocation is tested end to end in
# Tests/RampartServerTests/AuthenticationTests.swift (and TenantIsolationTests).
#
# POST /log-streams/{id}/test is left out: it connects to the stream's endpoint, and the
# endpoints schemathesis makes up name hosts on the internet, which a test must not reach.
# It is tested against a real rsyslog in interop/test_log_stream_syslog.py. The replay of a
# dead letter (replayLogStreamDeadLetter) sends to the stream's endpoint too; it is tested
# against the local receivers in interop/test_log_stream_dead_letters.py.
#
# POST /domains/{id}/verify is left out for the same reason: it asks DNS about, or fetches
# from, the made-up domain. It is tested against dnsmasq and a local site in interop/test_domains.py.
EXCLUDED = ["--exclude-operation-id", "revokeApiToken", "--exclude-operation-id", "testLogStream",
            "--exclude-operation-id", "replayLogStreamDeadLetter",
            "--exclude-operation-id", "verifyDomain"]


def run_schemathesis(server, token: str, max_examples: int, workdir: Path) -> None:
    assert OPENAPI.is_file(), f"{OPENAPI} is missing: the API must be described by docs/openapi.yaml"
    assert SCHEMATHESIS.is_file(), f"{SCHEMATHESIS} is missing: is interop/requirements.txt installed?"
    cmd = [
        str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", str(OPENAPI),
        # --url replaces the spec's servers entry entirely, so it carries the base path.
        "--url", server.api,
        "-H", f"Authorization: Bearer {token}",
        "--max-examples", str(max_examples),
        "--seed", "1",
        "--no-color",
        "--generation-database", "none",
        *EXCLUDED,
    ]
    workdir.mkdir(parents=True, exist_ok=True)
    # From a temp dir: schemathesis writes .hypothesis/ and .schemathesis/ into its cwd.
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL)
    output, status = proc.stdout + proc.stderr, proc.returncode
    # The full report stays beside the run; the assertion shows its tail.
    (workdir / "schemathesis.out").write_text(output)
    shown = [part if not part.startswith("Authorization") else "Authorization: Bearer [token]" for part in cmd]
    assert status == 0, (
        f"schemathesis exited {status}: {' '.join(shown)}\nfull output: {workdir / 'schemathesis.out'}\n"
        f"{report(output)}\n{server.output_tail(20)}"
    )
    # Exit 0 is the verdict; warnings (e.g. operations that only ever saw 404s) print a
    # different closing line, so look for the failures section instead of one wording.
    assert "Failures:" not in output, tail(output, 40)


def test_openapi_conformance_sqlite(rampart_bin, server_factory, sqlite, tmp_path):
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    run_schemathesis(server, org["apiToken"], max_examples=30, workdir=tmp_path / "st")


def test_openapi_conformance_postgres(rampart_bin, server_factory, postgres, tmp_path):
    server = server_factory(postgres)
    org = new_org(rampart_bin, postgres.args)
    run_schemathesis(server, org["apiToken"], max_examples=10, workdir=tmp_path / "st")
