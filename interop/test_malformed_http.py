"""Malformed HTTP framing sent over a raw socket (issue 18, finding 4): each request is the
client's error, so it is answered 4xx or the connection is closed, never 5xx, no error is
logged, and the server answers normally afterwards."""

from __future__ import annotations

import json
import socket

import pytest
import requests

from conftest import bearer, new_org

BODY = b'{"email":"framing@example.test","displayName":"Framing"}'


def _post(token: str, extra_headers: bytes, body: bytes) -> bytes:
    return (b"POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + b"Authorization: Bearer " + token.encode() + b"\r\nContent-Type: application/json\r\n"
            + extra_headers + b"\r\n" + body)


def corpus(token: str) -> dict[str, bytes]:
    chunked = b"Transfer-Encoding: chunked\r\n"
    return {
        "invalid chunk size": _post(token, chunked, b"zz\r\n" + BODY + b"\r\n0\r\n\r\n"),
        "chunk size overflowing 64 bits": _post(token, chunked, b"fffffffffffffffffffff\r\n" + BODY + b"\r\n0\r\n\r\n"),
        "negative chunk size": _post(token, chunked, b"-5\r\nhello\r\n0\r\n\r\n"),
        "chunk without its CRLF": _post(token, chunked, b"5\r\nhelloXX0\r\n\r\n"),
        "Content-Length and Transfer-Encoding": _post(
            token, b"Content-Length: %d\r\n" % len(BODY) + chunked, b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n"),
        "two different Content-Lengths": _post(
            token, b"Content-Length: %d\r\nContent-Length: 5\r\n" % len(BODY), BODY),
        "non-numeric Content-Length": _post(token, b"Content-Length: 12abc\r\n", BODY),
        "oversized header": _post(token, b"X-Filler: " + b"a" * 200_000 + b"\r\n", b""),
        "header folding": _post(token, b"Content-Length: %d\r\nX-Folded: first\r\n second\r\n" % len(BODY), BODY),
        "bare LF line endings": (b"POST /api/v1/users HTTP/1.1\nHost: 127.0.0.1\nAuthorization: Bearer "
                                 + token.encode() + b"\nContent-Length: %d\n\n" % len(BODY) + BODY),
        "NUL in a header value": _post(token, b"Content-Length: %d\r\nX-Nul: a\x00b\r\n" % len(BODY), BODY),
        "space before the colon": _post(token, b"Content-Length : %d\r\n" % len(BODY), BODY),
        "not HTTP at all": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
    }


def exchange(port: int, raw: bytes, timeout: float = 10.0) -> bytes:
    """Send RAW, half-close, and read until the server closes or stops talking."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                received += data
        except (ConnectionResetError, socket.timeout):
            pass
        return received


def status_codes(received: bytes) -> list[int]:
    """The status code of every response in what came back."""
    codes = []
    for line in received.split(b"\r\n"):
        if line.startswith(b"HTTP/1.1 ") or line.startswith(b"HTTP/1.0 "):
            codes.append(int(line.split(b" ")[1]))
    return codes


def error_lines(server) -> list[str]:
    lines = []
    for path in server.log_dir.glob("server-*.stderr"):
        for line in path.read_text(errors="replace").splitlines():
            try:
                if json.loads(line).get("level") in ("error", "critical"):
                    lines.append(line)
            except json.JSONDecodeError:
                continue
    return lines


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_malformed_framing_is_the_clients_error(rampart_bin, server_factory, request, backend):
    store = request.getfixturevalue(backend)
    org = new_org(rampart_bin, store.args)
    server = server_factory(store)
    token = org["apiToken"]
    for name, raw in corpus(token).items():
        received = exchange(server.port, raw)
        codes = status_codes(received)
        assert all(400 <= code < 500 for code in codes), (name, received[:300])
        health = requests.get(server.base_url + "/healthz", timeout=5)
        assert health.status_code == 200, (name, health.status_code)
    assert error_lines(server) == [], "\n".join(error_lines(server))
    users = requests.get(server.api + "/users?limit=200", headers=bearer(token), timeout=10).json()
    emails = [u["email"] for u in users.get("items", users.get("data", []))]
    assert "framing@example.test" not in emails, emails
    # The same connection handling still serves a well-formed chunked request.
    good = _post(token, b"Transfer-Encoding: chunked\r\nConnection: close\r\n",
                 b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n")
    assert status_codes(exchange(server.port, good)) == [201]
