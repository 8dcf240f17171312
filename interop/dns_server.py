"""A real DNS server for domain verification: dnsmasq (Debian's), run unprivileged-style on a
free port of 127.0.0.1, answering only from the TXT records it is given. Names under the
zones it is told are local and have no record answer NXDOMAIN, as an authoritative server
would. dnsmasq reads TXT records only at start, so publishing one restarts it on the same port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from conftest import find_free_port


class Dnsmasq:
    def __init__(self, directory: Path, zones: list[str]):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.zones = zones
        self.records: list[tuple[str, str]] = []
        self.port = find_free_port()
        self.proc: subprocess.Popen | None = None
        self.binary = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def publish(self, name: str, value: str) -> None:
        self.records.append((name, value))
        self.restart()

    def start(self) -> "Dnsmasq":
        log = open(self.directory / "dnsmasq.log", "a")
        args = [
            self.binary, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={self.port}",
            f"--pid-file={self.directory / 'dnsmasq.pid'}", "--log-queries", "--log-facility=-",
            *[f"--local=/{zone}/" for zone in self.zones],
            *[f"--txt-record={name},{value}" for name, value in self.records],
        ]
        self.proc = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        self._wait_listening()
        return self

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"dnsmasq exited {self.proc.returncode}:\n{self.log_tail()}"
            # Any answer to a UDP query on the port means it is serving.
            query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04ping\x00\x00\x10\x00\x01"
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.settimeout(0.2)
                try:
                    probe.sendto(query, ("127.0.0.1", self.port))
                    probe.recvfrom(512)
                    return
                except OSError:
                    time.sleep(0.05)
        raise AssertionError(f"dnsmasq did not answer on {self.address}:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 30) -> str:
        path = self.directory / "dnsmasq.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
