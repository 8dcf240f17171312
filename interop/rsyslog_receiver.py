"""A real rsyslog (Debian's rsyslogd, GnuTLS driver) receiving syslog over TLS on a free
port of 127.0.0.1, as a SIEM's collector would. Its own CA, made with the openssl command,
signs a certificate for localhost and 127.0.0.1. Every message it takes is written twice:
`raw.log`, the message exactly as received (one per line; Rampart's records hold no raw line
break), and `fields.log`, rsyslog's own RFC 5424 parse of it."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from conftest import find_free_port, tail

CONFIG = """\
global(workDirectory="{work}" maxMessageSize="64k" processInternalMessages="on"
       parser.escapeControlCharactersOnReceive="off"
       defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="{pki}/ca.crt"
       defaultNetstreamDriverCertFile="{pki}/server.crt" defaultNetstreamDriverKeyFile="{pki}/server.key")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="siem")
template(name="raw" type="string" string="%rawmsg%\\n")
template(name="fields" type="string"
         string="pri=%pri% host=%hostname% app=%app-name% msgid=%msgid% sd=%structured-data%\\n")
ruleset(name="siem") {{
    action(type="omfile" file="{out}/raw.log" template="raw")
    action(type="omfile" file="{out}/fields.log" template="fields")
}}
action(type="omfile" file="{out}/internal.log")
"""


def make_pki(directory: Path, name: str = "Rampart test CA") -> Path:
    """A CA and a server certificate for localhost/127.0.0.1 signed by it; returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", f"/CN={name}", "-keyout", "ca.key", "-out", "ca.crt",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
            "-keyout", "server.key", "-out", "server.csr")
    (directory / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                                          "basicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-out", "server.crt", "-extfile", "server.ext")
    return directory


class Rsyslog:
    def __init__(self, directory: Path):
        self.directory = directory
        self.pki = make_pki(directory / "pki")
        self.work = directory / "work"
        self.out = directory / "out"
        self.work.mkdir(parents=True, exist_ok=True)
        self.out.mkdir(parents=True, exist_ok=True)
        self.port = find_free_port()
        self.config = directory / "rsyslog.conf"
        self.config.write_text(CONFIG.format(work=self.work, pki=self.pki, port=self.port, out=self.out))
        self.pidfile = self.work / "rsyslogd.pid"
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"localhost:{self.port}"

    @property
    def ca_pem(self) -> str:
        return (self.pki / "ca.crt").read_text()

    def start(self) -> "Rsyslog":
        check = subprocess.run(["rsyslogd", "-N1", "-f", str(self.config)], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, f"rsyslog rejects its configuration:\n{check.stdout}{check.stderr}"
        stderr = open(self.out / "stderr.log", "a")
        self.proc = subprocess.Popen(["rsyslogd", "-n", "-f", str(self.config), "-i", str(self.pidfile)],
                                     cwd=self.directory, stdout=stderr, stderr=stderr, stdin=subprocess.DEVNULL)
        stderr.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"rsyslogd exited at start:\n{self.log_tail()}"
            if self._listening():
                return self
            time.sleep(0.1)
        raise AssertionError(f"rsyslogd is not listening on {self.port}:\n{self.log_tail()}")

    def _listening(self) -> bool:
        import socket
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.proc = None

    def lines(self, name: str = "raw.log") -> list[str]:
        path = self.out / name
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []

    def log_tail(self) -> str:
        parts = []
        for name in ("stderr.log", "internal.log"):
            path = self.out / name
            parts.append(f"--- rsyslog {name} ---\n{tail(path.read_text(errors='replace')) if path.exists() else ''}")
        return "\n".join(parts)

