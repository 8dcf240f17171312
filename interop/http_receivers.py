"""Local HTTPS receivers for log streams, written from the vendors' documentation rather than
from Rampart: Splunk's HTTP Event Collector (`/services/collector/event`, `Authorization:
Splunk <token>`, concatenated event objects), Microsoft Sentinel's Logs Ingestion API (an
Entra-style client credentials token endpoint and `/dataCollectionRules/{dcr}/streams/{stream}`
taking a JSON array with a bearer token), and a webhook that checks `Rampart-Signature`
with Python's hmac. One threaded server on a free port of 127.0.0.1 serves all three, with a
certificate for localhost signed by a test CA (`make_pki`, as for rsyslog).

Faults are queued per receiver and each spends one request: `500`, `429` (with
`Retry-After: 1`), `drop` (the connection is closed mid-request, before any answer) and
`hang` (no answer until the client gives up). Only batches answered 2xx are recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from rsyslog_receiver import make_pki

HEC_TOKEN = "9f1c6f5e-3a55-4a0e-9a0b-1c7d0e6b9d21"
WEBHOOK_SECRET = "whsec_interop-test-secret-0123456789"
TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "5a4c0b9e-7d7c-4f6e-9d73-2c9b6a1e0f11"
CLIENT_SECRET = "Zx8Q~interop.client-secret_42"
DCR = "dcr-0123456789abcdef0123456789abcdef"
STREAM = "Custom-RampartAudit_CL"
REPLAY_WINDOW = 300


def is_checkpoint(record) -> bool:
    """A signed audit checkpoint a stream sends among its events (Splunk wraps it in `event`; CEF
    and LEEF lines name its action in their header)."""
    if isinstance(record, str):
        return "|audit.checkpoint|" in record
    inner = record.get("event", record) if isinstance(record.get("event"), dict) else record
    return inner.get("action") == "audit.checkpoint" or inner.get("metadata", {}).get("event_code") == "audit.checkpoint"


class Receivers:
    def __init__(self, directory: Path):
        self.pki = make_pki(directory / "pki")
        self.lock = threading.Lock()
        self.batches: dict[str, list[list]] = {"hec": [], "sentinel": [], "webhook": []}
        self.faults: dict[str, list[str]] = {"hec": [], "sentinel": [], "webhook": [], "token": []}
        self.refused: list[str] = []  # why requests were refused (bad token, bad signature, ...)
        self.raw_bodies: list[bytes] = []
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.pki / "server.crt", self.pki / "server.key")
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "Receivers":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def ca_pem(self) -> str:
        return (self.pki / "ca.crt").read_text()

    def fail_next(self, receiver: str, *faults: str) -> None:
        with self.lock:
            self.faults[receiver].extend(faults)

    def records(self, receiver: str) -> list:
        """Everything the receiver took, in order: events and the signed checkpoints sent among them."""
        with self.lock:
            return [record for batch in self.batches[receiver] for record in batch]

    def events(self, receiver: str) -> list:
        """The events the receiver took, without the checkpoint records (`checkpoints`)."""
        return [r for r in self.records(receiver) if not is_checkpoint(r)]

    def checkpoints(self, receiver: str) -> list:
        return [r for r in self.records(receiver) if is_checkpoint(r)]

    def _handler(self):
        receivers = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def refuse(self, status: int, why: str) -> None:
                with receivers.lock:
                    receivers.refused.append(why)
                self.answer(status, {"text": why, "code": status})

            def fault(self, receiver: str) -> bool:
                """Spends the receiver's next fault, if any; True when the request is answered by it."""
                with receivers.lock:
                    fault = receivers.faults[receiver].pop(0) if receivers.faults[receiver] else None
                if fault is None:
                    return False
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif fault == "hang":
                    time.sleep(12)
                    self.close_connection = True
                elif fault == "429":
                    self.body()  # read, so the connection is ready for the next request
                    self.answer(429, {"text": "Server is busy", "code": 9}, {"Retry-After": "1"})
                else:
                    self.body()
                    self.answer(int(fault), {"text": "Internal server error", "code": 8})
                return True

            def body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length", "0")))

            def do_POST(self):
                path = urlsplit(self.path)
                if path.path == "/services/collector/event":
                    self.hec()
                elif path.path == f"/{TENANT}/oauth2/v2.0/token":
                    self.token()
                elif path.path == f"/dataCollectionRules/{DCR}/streams/{STREAM}":
                    self.sentinel(parse_qs(path.query))
                elif path.path == "/hook":
                    self.webhook()
                else:
                    self.refuse(404, f"no receiver at {path.path}")

            def record(self, receiver: str, events: list, raw: bytes) -> None:
                with receivers.lock:
                    receivers.batches[receiver].append(events)
                    receivers.raw_bodies.append(raw)

            def hec(self):
                if self.fault("hec"):
                    return
                raw = self.body()
                if self.headers.get("Authorization") != f"Splunk {HEC_TOKEN}":
                    return self.refuse(403, "Invalid token")
                # HEC's batch form: event objects one after another, whitespace allowed between.
                decoder, text, at, events = json.JSONDecoder(), raw.decode(), 0, []
                while at < len(text):
                    if text[at].isspace():
                        at += 1
                        continue
                    obj, at = decoder.raw_decode(text, at)
                    if not {"time", "host", "source", "sourcetype", "event"} <= obj.keys():
                        return self.refuse(400, "Event field is required")
                    events.append(obj)
                self.record("hec", events, raw)
                self.answer(200, {"text": "Success", "code": 0})

            def token(self):
                if self.fault("token"):
                    return
                form = parse_qs(self.body().decode())
                with receivers.lock:
                    receivers.token_requests += 1
                if form.get("grant_type") != ["client_credentials"] or form.get("client_id") != [CLIENT_ID] \
                        or form.get("scope") != ["https://monitor.azure.com//.default"]:
                    return self.refuse(400, f"invalid_request {sorted(form)}")
                if not hmac.compare_digest(form.get("client_secret", [""])[0], CLIENT_SECRET):
                    return self.refuse(401, "invalid_client")
                token = uuid.uuid4().hex
                with receivers.lock:
                    receivers.tokens.add(token)
                self.answer(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token})

            def sentinel(self, query):
                if self.fault("sentinel"):
                    return
                raw = self.body()
                auth = self.headers.get("Authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in receivers.tokens:
                    return self.refuse(401, "InvalidToken")
                if query.get("api-version") != ["2023-01-01"] or self.headers.get("Content-Type") != "application/json":
                    return self.refuse(400, "InvalidApiVersion or content type")
                records = json.loads(raw)
                if not isinstance(records, list) or not all("TimeGenerated" in r for r in records):
                    return self.refuse(400, "InvalidRecords")
                self.record("sentinel", records, raw)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def webhook(self):
                if self.fault("webhook"):
                    return
                raw = self.body()
                # Rampart-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
                parts = dict(p.split("=", 1) for p in self.headers.get("Rampart-Signature", "").split(",") if "=" in p)
                if "t" not in parts or "v1" not in parts:
                    return self.refuse(400, "no signature")
                if abs(time.time() - int(parts["t"])) > REPLAY_WINDOW:
                    return self.refuse(400, "timestamp outside the replay window")
                expected = hmac.new(WEBHOOK_SECRET.encode(), parts["t"].encode() + b"." + raw, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, parts["v1"]):
                    return self.refuse(401, "bad signature")
                content_type = self.headers.get("Content-Type", "")
                events = json.loads(raw) if content_type == "application/json" else raw.decode().splitlines()
                self.record("webhook", events, raw)
                self.answer(200, {"ok": True})

        return Handler
