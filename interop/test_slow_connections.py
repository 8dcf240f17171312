"""Slow and numerous connections (issue 18, finding 3): while a client holds well over a
thousand connections that send half a request header, /healthz and an authenticated API read
from another address still answer within a second; connections over the per-address cap get
503 at once; the slow ones get 408 and are closed once the header timeout passes; a slow body
gets 408, and an idle kept-alive connection is closed."""

from __future__ import annotations

import http.client
import resource
import socket
import time

import requests

from conftest import new_org

HELD = 1200
PER_ADDRESS = 1000
HEADER_TIMEOUT = 8.0
MARGIN = 3.0
LIMITS = ["--max-connections", "4000", "--max-connections-per-address", str(PER_ADDRESS),
          "--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", "3", "--idle-timeout", "2"]


def raise_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= needed, "this machine allows too few open files for the test"


def half_request(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=("127.0.0.1", 0))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    sock.setblocking(False)
    return sock


def answer(sock: socket.socket) -> bytes | None:
    """What the server sent so far; b"" once it closed without a word; None while it waits."""
    try:
        return sock.recv(4096)
    except BlockingIOError:
        return None
    except ConnectionResetError:
        return b""


def timed_get(port: int, path: str, headers: dict | None = None) -> tuple[int, float]:
    """A GET from another client address (127.0.0.2), and how long it took."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=("127.0.0.2", 0))
    conn.request("GET", path, headers=headers or {})
    status = conn.getresponse().status
    conn.close()
    return status, time.monotonic() - started


def test_slow_clients_cannot_take_the_server_down(rampart_bin, server_factory, sqlite):
    raise_file_limit(HELD + 500)
    server = server_factory(sqlite, extra_args=LIMITS)
    org = new_org(rampart_bin, sqlite.args)
    slow: list[socket.socket] = []
    try:
        opened = time.monotonic()
        for _ in range(HELD):
            slow.append(half_request(server.port))
        time.sleep(1.0)
        assert time.monotonic() - opened < HEADER_TIMEOUT - 1, "opening the connections took too long to test"
        # Over the per-address cap: refused at once with 503, not left waiting.
        early = [answer(sock) for sock in slow]
        refused = [data for data in early if data]
        assert len(refused) == HELD - PER_ADDRESS, f"{len(refused)} answered early of {HELD}"
        assert all(data.startswith(b"HTTP/1.1 503") for data in refused), refused[:3]
        assert sum(1 for data in early if data is None) == PER_ADDRESS, "the admitted ones are still waiting"

        # Everyone else is still served, and quickly.
        status, seconds = timed_get(server.port, "/healthz")
        assert status == 200 and seconds < 1.0, (status, seconds)
        status, seconds = timed_get(server.port, "/api/v1/users", {"Authorization": f"Bearer {org['apiToken']}"})
        assert status == 200 and seconds < 1.0, (status, seconds)

        # The slow ones are answered 408 and closed once the header timeout has passed.
        deadline = time.monotonic() + HEADER_TIMEOUT + MARGIN
        waiting = [sock for sock, data in zip(slow, early) if data is None]
        timed_out: list[bytes] = []
        while waiting and time.monotonic() < deadline:
            still = []
            for sock in waiting:
                data = answer(sock)
                if data is None:
                    still.append(sock)
                else:
                    timed_out.append(data)
            waiting = still
            time.sleep(0.1)
        assert not waiting, f"{len(waiting)} slow connections still open after {HEADER_TIMEOUT + MARGIN:.0f}s"
        assert all(data.startswith(b"HTTP/1.1 408") for data in timed_out), timed_out[:3]
    finally:
        for sock in slow:
            sock.close()
    metrics = requests.get(f"{server.base_url}/metrics", timeout=10).text
    assert "rampart_connections_refused_total" in metrics and "rampart_connections_timed_out_total" in metrics
    status, _ = timed_get(server.port, "/healthz")
    assert status == 200


def test_a_slow_body_gets_408_and_an_idle_connection_is_closed(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite, extra_args=LIMITS)
    org = new_org(rampart_bin, sqlite.args)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(b"POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Authorization: Bearer " + org["apiToken"].encode() + b"\r\nContent-Length: 100\r\n\r\n{\"email\":")
    started = time.monotonic()
    data = sock.recv(4096)
    assert data.startswith(b"HTTP/1.1 408"), data
    assert time.monotonic() - started < 3 + MARGIN
    sock.close()

    kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    kept.request("GET", "/healthz")
    assert kept.getresponse().read() and kept.sock is not None
    started = time.monotonic()
    assert kept.sock.recv(1) == b"", "the idle connection is closed by the server"
    assert 1.5 < time.monotonic() - started < 2 + MARGIN
    kept.close()


def test_bad_limits_are_refused_naming_the_flag(rampart_bin, sqlite):
    from conftest import run_cli
    for args, flag in [(["--max-connections", "0"], "--max-connections"),
                       (["--max-connections", "10", "--max-connections-per-address", "11"], "--max-connections-per-address"),
                       (["--header-timeout", "0"], "--header-timeout"), (["--idle-timeout", "99999"], "--idle-timeout")]:
        proc = run_cli(rampart_bin, "serve", "--port", "0", *sqlite.args, *args, check=False, timeout=30)
        assert proc.returncode != 0 and flag in proc.stderr, (args, proc.returncode, proc.stderr)
