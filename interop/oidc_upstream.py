"""An OpenID Connect provider the tests control, for Rampart as a relying party: discovery,
an authorization endpoint that signs in whoever the test names (no form), a token endpoint
that checks the client secret, the PKCE S256 verifier and single-use codes, and a JWKS whose
keys the test can rotate. ID tokens are signed with joserfc (RS256); on request the provider
misbehaves the way an attacker or a broken provider would (`Misbehaviour`), so each of
Rampart's checks can be seen refusing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Misbehaviour:
    """What the next authorization or token answer does wrong (all off by default)."""
    state: str | None = None            # answer with this state instead of the one sent
    nonce: str | None = None            # put this nonce in the ID token
    issuer: str | None = None           # sign with this iss
    audience: str | None = None         # sign with this aud
    alg: str | None = None              # "none", or "HS256-public" (HMAC keyed with the RSA public key)
    expired: bool = False               # exp an hour ago
    kid: str | None = None              # name this kid in the header (a key the JWKS lacks)
    claims: dict = field(default_factory=dict)  # extra or overriding claims


class UpstreamProvider:
    def __init__(self, client_id: str = "rampart", client_secret: str = "upstream-secret"):
        self.client_id = client_id
        self.client_secret = client_secret
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})]
        self.signing = self.keys[0]
        self.users: dict[str, dict] = {}
        self.next_user: str | None = None
        self.codes: dict[str, dict] = {}
        self.used_codes: set[str] = set()
        self.misbehave = Misbehaviour()
        self.token_requests: list[dict] = []
        self.jwks_fetches = 0
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                url = urlparse(self.path)
                if url.path == "/.well-known/openid-configuration":
                    return self.json(200, provider.discovery())
                if url.path == "/jwks":
                    with provider.lock:
                        provider.jwks_fetches += 1
                        keys = [k.as_dict(private=False) for k in provider.keys]
                    return self.json(200, {"keys": keys})
                if url.path == "/authorize":
                    return self.redirect(provider.authorize({k: v[0] for k, v in parse_qs(url.query).items()}))
                self.json(404, {"error": "not_found"})

            def do_POST(self):  # noqa: N802
                if urlparse(self.path).path != "/token":
                    return self.json(404, {"error": "not_found"})
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                status, body = provider.token(form, self.headers.get("Authorization"))
                self.json(status, body)

            def json(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def redirect(self, location):
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }

    def rotate(self) -> str:
        """A new signing key; the old one leaves the JWKS (a rotation without overlap)."""
        kid = f"key-{len(self.keys) + 1}-{secrets.token_hex(2)}"
        key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})
        with self.lock:
            self.keys = [key]
            self.signing = key
        return kid

    def authorize(self, query: dict) -> str:
        assert query.get("response_type") == "code", query
        assert query.get("client_id") == self.client_id, query
        assert query.get("code_challenge_method") == "S256", query
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"redirect_uri": query["redirect_uri"], "nonce": query.get("nonce"),
                            "challenge": query["code_challenge"], "sub": self.next_user}
        state = self.misbehave.state if self.misbehave.state is not None else query.get("state", "")
        return query["redirect_uri"] + "?" + urlencode({"code": code, "state": state})

    def token(self, form: dict, authorization: str | None) -> tuple[int, dict]:
        self.token_requests.append(form)
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != self.client_id or not hmac.compare_digest(secret or "", self.client_secret):
            return 401, {"error": "invalid_client"}
        code = form.get("code", "")
        if code in self.used_codes or code not in self.codes:
            return 400, {"error": "invalid_grant"}
        grant = self.codes.pop(code)
        self.used_codes.add(code)
        challenge = b64url(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        if challenge != grant["challenge"] or form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        return 200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                     "id_token": self.id_token(grant)}

    def id_token(self, grant: dict) -> str:
        bad = self.misbehave
        now = int(time.time())
        claims = {"iss": bad.issuer or self.issuer, "aud": bad.audience or self.client_id, "sub": grant["sub"],
                  "iat": now - (7200 if bad.expired else 0), "exp": now + (-3600 if bad.expired else 300),
                  "nonce": bad.nonce if bad.nonce is not None else grant["nonce"], "amr": ["pwd"]}
        claims.update(self.users.get(grant["sub"], {}))
        claims.update(bad.claims)
        if bad.alg == "none":
            header = {"alg": "none", "typ": "JWT"}
            return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}."
        if bad.alg == "HS256-public":
            # The classic confusion: an HMAC keyed with the provider's public key, which anyone has.
            header = {"alg": "HS256", "typ": "JWT", "kid": self.signing.kid}
            signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
            public_pem = self.signing.as_pem(private=False)
            mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
            return f"{signing_input}.{b64url(mac)}"
        header = {"alg": "RS256", "kid": bad.kid or self.signing.kid}
        return jwt.encode(header, claims, self.signing)
