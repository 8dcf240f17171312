"""Streaming the audit log to a real rsyslog over TLS (issue 16), beside a peer.

    stream_syslog.py RAMPART_BIN DATA_DIR PORT

DATA_DIR holds one organisation whose log `rampart-bench audit-append` filled. The script
starts rsyslog (TLS input, as interop/rsyslog_receiver.py sets it up) and `rampart serve`,
creates a syslog stream from the beginning through the API, and times until rsyslog has
written every event. The peer then sends the very records rsyslog received, framed the same
way, over one TLS connection from Python's ssl module to the same rsyslog: the rate of the
receiver and TLS themselves. Prints one JSON line."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "interop"))
from rsyslog_receiver import Rsyslog  # noqa: E402


def cli_json(binary: str, *args: str) -> dict:
    return json.loads(subprocess.run([binary, *args], check=True, capture_output=True, text=True, timeout=120).stdout)


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def wait_for_lines(path: Path, want: int, timeout: float = 600) -> float:
    start = time.monotonic()
    while count_lines(path) < want:
        if time.monotonic() - start > timeout:
            raise SystemExit(f"only {count_lines(path)} of {want} records arrived within {timeout:.0f}s")
        time.sleep(0.05)
    return time.monotonic() - start


def main() -> None:
    binary, data_dir, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = ["--data-dir", data_dir]
    org = cli_json(binary, "org", "list", *store, "--json")["data"][0]
    slug = org["slug"]
    token = cli_json(binary, "token", "create", "--org", slug, "--name", "bench", "--role", "org-admin", *store, "--json")["secret"]
    events = cli_json(binary, "audit", "events", "--org", slug, "--limit", "1", *store, "--json")["data"][0]["sequence"]
    work = Path(tempfile.mkdtemp(prefix="rampart-stream-bench-"))
    receiver = Rsyslog(work / "rsyslog").start()
    server = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", str(port), *store],
                              stdout=open(work / "serve.log", "w"), stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raw = receiver.out / "raw.log"
        r = requests.post(f"{base}/api/v1/log-streams", headers={"Authorization": f"Bearer {token}"}, timeout=30,
                          json={"name": f"bench {time.time_ns()}", "kind": "syslog", "endpoint": receiver.endpoint,
                                "caCertificate": receiver.ca_pem, "start": "beginning"})
        r.raise_for_status()
        # The stream's creation is an event too; rsyslog has them all when it has events + 1.
        rampart_seconds = wait_for_lines(raw, events + 1)
        records = raw.read_bytes().splitlines()
        sizes = sorted(len(line) for line in records)
        # The next run's stream starts alone.
        requests.delete(f"{base}/api/v1/log-streams/{r.json()['id']}", headers={"Authorization": f"Bearer {token}"},
                        timeout=30).raise_for_status()
    finally:
        server.terminate()
        server.wait(timeout=30)

    # The peer: the same records, framed the same way, one TLS connection, sent as fast as
    # Python can, in batches of 500 as Rampart sends them.
    receiver.stop()
    raw.rename(receiver.out / "rampart.log")
    receiver.start()
    context = ssl.create_default_context(cafile=str(receiver.pki / "ca.crt"))
    framed = [str(len(line)).encode() + b" " + line for line in records]
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", receiver.port)) as sock:
        with context.wrap_socket(sock, server_hostname="localhost") as tls:
            for i in range(0, len(framed), 500):
                tls.sendall(b"".join(framed[i:i + 500]))
            wait_for_lines(raw, len(records))
            peer_seconds = time.monotonic() - start
            try:
                tls.unwrap()
            except (ssl.SSLError, OSError):
                pass
    receiver.stop()
    print(json.dumps({
        "events": len(records), "eventsPerSecond": round(len(records) / rampart_seconds),
        "seconds": round(rampart_seconds, 2), "peerEventsPerSecond": round(len(records) / peer_seconds),
        "medianRecordBytes": sizes[len(sizes) // 2],
    }))


if __name__ == "__main__":
    main()
