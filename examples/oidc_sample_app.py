"""A one-file web application that signs people in through Rampart's OpenID Connect provider,
the way a product does: authorization code flow with PKCE (S256), state and nonce, the ID
token checked against the organisation's JWKS, and the person's claims shown.

    python examples/oidc_sample_app.py --issuer http://localhost:8080/o/demo \\
        --client-id ID --client-secret SECRET --port 8090

Register http://127.0.0.1:8090/callback as the client's redirect URI. Open
http://127.0.0.1:8090/ and sign in; /login?mfa=1 asks Rampart for a second factor (step-up).
Register http://127.0.0.1:8090/backchannel-logout as its back-channel logout URI and Rampart
tells the app when the person's Rampart session ends (they sign out, sign out everywhere, or
are deactivated): the app checks the logout token and ends its own session for them.
Needs Authlib and joserfc (pip install Authlib joserfc requests)."""

from __future__ import annotations

import argparse
import html
import secrets
import threading
import time
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jws, jwt
from joserfc.jwk import KeySet

MFA = "urn:rampart:acr:mfa"
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class App:
    def __init__(self, issuer: str, client_id: str, client_secret: str | None, redirect_uri: str):
        self.config = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
        assert self.config["issuer"] == issuer, "the discovery document names another issuer"
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.pending: dict[str, dict] = {}   # browser cookie -> state, nonce, verifier
        self.signed_in: dict[str, dict] = {}  # browser cookie -> ID token claims
        self.lock = threading.Lock()
        self.seen_logout_tokens: set[str] = set()  # jti of logout tokens taken

    def session(self) -> OAuth2Session:
        return OAuth2Session(self.client_id, self.client_secret, scope="openid profile email groups",
                             redirect_uri=self.redirect_uri, code_challenge_method="S256",
                             token_endpoint_auth_method="client_secret_basic" if self.client_secret else "none")

    def login_url(self, browser: str, mfa: bool) -> str:
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        extra = {"acr_values": MFA} if mfa else {}
        url, state = self.session().create_authorization_url(self.config["authorization_endpoint"], code_verifier=verifier,
                                                             nonce=nonce, **extra)
        self.pending[browser] = {"state": state, "nonce": nonce, "verifier": verifier, "mfa": mfa}
        return url

    def callback(self, browser: str, url: str) -> dict:
        pending = self.pending.pop(browser, None)
        params = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
        if pending is None or params.get("state") != pending["state"]:
            raise ValueError("unexpected state: start again")
        if "error" in params:
            raise ValueError(f"{params['error']}: {params.get('error_description', '')}")
        if params.get("iss") != self.config["issuer"]:
            raise ValueError("the answer names another issuer")
        session = self.session()
        session.state = pending["state"]
        token = session.fetch_token(self.config["token_endpoint"], authorization_response=url,
                                    code_verifier=pending["verifier"])
        keys = KeySet.import_key_set(requests.get(self.config["jwks_uri"], timeout=10).json())
        claims = jwt.decode(token["id_token"], keys, algorithms=["ES256"]).claims
        if claims["iss"] != self.config["issuer"] or claims["aud"] != self.client_id or claims.get("nonce") != pending["nonce"]:
            raise ValueError("the ID token is not for this application")
        if pending["mfa"] and claims.get("acr") != MFA:
            raise ValueError("a second factor was asked for and not given")
        with self.lock:
            self.signed_in[browser] = claims
        return claims

    def backchannel_logout(self, logout_token: str) -> int:
        """OpenID Connect Back-Channel Logout 1.0 section 2.6: checks the logout token and ends
        this app's sessions it names; returns how many ended. Raises ValueError when the token
        is not valid (the app then answers 400)."""
        keys = KeySet.import_key_set(requests.get(self.config["jwks_uri"], timeout=10).json())
        header = jws.extract_compact(logout_token.encode()).protected
        if header.get("typ") != "logout+jwt" or header.get("alg") != "ES256":
            raise ValueError("not a logout token (typ or alg)")
        claims = jwt.decode(logout_token, keys, algorithms=["ES256"]).claims
        now = time.time()
        if claims.get("iss") != self.config["issuer"] or claims.get("aud") != self.client_id:
            raise ValueError("the logout token is not for this application")
        if not isinstance(claims.get("iat"), int) or not isinstance(claims.get("exp"), int) or claims["exp"] < now - 30:
            raise ValueError("the logout token has no valid iat or has expired")
        events = claims.get("events")
        if not isinstance(events, dict) or events.get(BACKCHANNEL_LOGOUT_EVENT) != {}:
            raise ValueError("the logout token has no back-channel logout event")
        if "nonce" in claims:
            raise ValueError("a logout token must not carry a nonce")
        if not claims.get("jti") or ("sub" not in claims and "sid" not in claims):
            raise ValueError("the logout token names no session and no person")
        with self.lock:
            self.seen_logout_tokens.add(claims["jti"])
            ended = [browser for browser, signed in self.signed_in.items()
                     if ("sid" in claims and signed.get("sid") == claims["sid"])
                     or ("sid" not in claims and signed.get("sub") == claims["sub"])]
            for browser in ended:
                del self.signed_in[browser]
        print(f"back-channel logout: {len(ended)} session(s) ended", flush=True)
        return len(ended)


def handler(app: App):
    class Handler(BaseHTTPRequestHandler):
        def browser(self) -> tuple[str, bool]:
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
            if "sample_session" in cookie:
                return cookie["sample_session"].value, False
            return secrets.token_urlsafe(16), True

        def send(self, status: int, body: str = "", location: str | None = None, browser: str | None = None):
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            if browser:
                self.send_header("Set-Cookie", f"sample_session={browser}; Path=/; HttpOnly; SameSite=Lax")
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(f"<!doctype html><title>Sample app</title><body>{body}</body>".encode())

        def do_GET(self):
            browser, new = self.browser()
            path = urlparse(self.path)
            if path.path == "/login":
                mfa = parse_qs(path.query).get("mfa") == ["1"]
                return self.send(302, location=app.login_url(browser, mfa), browser=browser if new else None)
            if path.path == "/callback":
                try:
                    app.callback(browser, self.path)
                except Exception as error:  # shown to the person: the sample has nothing to hide
                    return self.send(400, f'<p id="error">{html.escape(str(error))}</p><a id="login" href="/login">Sign in</a>')
                return self.send(302, location="/")
            with app.lock:
                claims = app.signed_in.get(browser)
            if claims is None:
                return self.send(200, '<p id="status">Not signed in.</p><a id="login" href="/login">Sign in with Rampart</a>',
                                 browser=browser if new else None)
            groups = ", ".join(claims.get("groups", []))
            return self.send(200, f'<p id="status">Signed in as <span id="email">{html.escape(claims.get("email", ""))}</span>'
                                  f' (<span id="name">{html.escape(claims.get("name", ""))}</span>).</p>'
                                  f'<p>Groups: <span id="groups">{html.escape(groups)}</span></p>'
                                  f'<p>Signed in with: <span id="acr">{html.escape(claims.get("acr", ""))}</span>'
                                  f' (<span id="amr">{html.escape(" ".join(claims.get("amr", [])))}</span>)</p>'
                                  '<a id="step-up" href="/login?mfa=1">Confirm with a second factor</a>')

        def do_POST(self):
            if urlparse(self.path).path != "/backchannel-logout":
                return self.send(404, "Not found")
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(min(length, 65536)).decode(), keep_blank_values=True)
            try:
                if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
                    raise ValueError("the logout token must come as a form")
                tokens = form.get("logout_token", [])
                if len(tokens) != 1:
                    raise ValueError("exactly one logout_token is expected")
                app.backchannel_logout(tokens[0])
            except Exception as error:  # any invalid token: 400, as section 2.8 asks
                print(f"back-channel logout refused: {error}", flush=True)
                self.send_response(400)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error":"invalid_request"}')
                return
            self.send_response(200)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--base-url", help="where browsers reach this app (default http://127.0.0.1:PORT)")
    args = parser.parse_args()
    base = args.base_url or f"http://127.0.0.1:{args.port}"
    app = App(args.issuer, args.client_id, args.client_secret, f"{base}/callback")
    print(f"Sample app on {base}/ signing in through {args.issuer}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", args.port), handler(app)).serve_forever()


if __name__ == "__main__":
    main()
