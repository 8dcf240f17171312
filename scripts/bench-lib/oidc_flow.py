"""Prepares and measures the OpenID Connect provider for scripts/bench: an organisation's
product, group, member and clients through the API; then N code flows (authorize with a live
session, then the token request) whose end-to-end latency is reported, leaving one refresh
token per wrk connection in a file.

    oidc_flow.py BASE_URL SLUG API_TOKEN FLOWS TOKENS_FILE

Prints one JSON line: clientId, clientSecret, serviceClientId, serviceClientSecret, flows,
p50Ms, p99Ms, meanMs."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import statistics
import sys
import time
from urllib.parse import parse_qs, urlencode, urlparse

import requests

PASSWORD = "violet tractor evening 77"
REDIRECT = "https://wiki.bench.test/callback"


def main() -> None:
    base, slug, token, flows, tokens_file = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"

    def call(method: str, path: str, **kwargs):
        r = api.request(method, f"{base}/api/v1{path}", timeout=30, **kwargs)
        if r.status_code >= 300:
            raise SystemExit(f"{method} {path}: {r.status_code} {r.text}")
        return r.json() if r.text else {}

    product = call("POST", "/products", json={"name": "Wiki", "kind": "wiki", "url": "https://wiki.bench.test"})
    group = call("POST", "/groups", json={"name": "Readers"})
    call("PUT", f"/products/{product['id']}/access/{group['id']}")
    user = call("POST", "/users", json={"email": "reader@bench.test", "displayName": "Reader"})
    call("PUT", f"/groups/{group['id']}/members/{user['id']}")
    client = call("POST", "/oauth-clients", json={"name": "Wiki", "productId": product["id"], "redirectUris": [REDIRECT]})
    service = call("POST", "/oauth-clients", json={"name": "Reports", "productId": product["id"], "redirectUris": [REDIRECT],
                                                 "scopes": ["reports:read"]})

    browser = requests.Session()
    link = call("POST", f"/users/{user['id']}/password-reset")["url"]
    page = browser.get(link, timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]*)"', page.text).group(1)
    browser.post(f"{base}/o/{slug}/reset", data={"token": link.split("token=")[1], "csrf": csrf, "password": PASSWORD,
                                                "password_confirm": PASSWORD}, allow_redirects=False, timeout=30)
    page = browser.get(f"{base}/o/{slug}/signin", timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]*)"', page.text).group(1)
    signed_in = browser.post(f"{base}/o/{slug}/signin", data={"csrf": csrf, "email": "reader@bench.test", "password": PASSWORD},
                             allow_redirects=False, timeout=30)
    assert signed_in.status_code == 303, signed_in.text

    token_session = requests.Session()
    token_session.auth = (client["clientId"], client["clientSecret"])
    latencies, refresh_tokens = [], []
    for _ in range(flows):
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urlencode({"client_id": client["clientId"], "redirect_uri": REDIRECT, "response_type": "code",
                           "scope": "openid email profile offline_access", "state": secrets.token_urlsafe(8),
                           "nonce": secrets.token_urlsafe(8), "code_challenge": challenge, "code_challenge_method": "S256"})
        started = time.perf_counter()
        answer = browser.get(f"{base}/o/{slug}/oauth/authorize?{query}", allow_redirects=False, timeout=30)
        code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
        issued = token_session.post(f"{base}/o/{slug}/oauth/token", timeout=30, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})
        latencies.append((time.perf_counter() - started) * 1000)
        assert issued.status_code == 200, issued.text
        refresh_tokens.append(issued.json()["refresh_token"])
    with open(tokens_file, "w") as out:
        out.write("\n".join(refresh_tokens) + "\n")
    latencies.sort()
    print(json.dumps({
        "clientId": client["clientId"], "clientSecret": client["clientSecret"],
        "serviceClientId": service["clientId"], "serviceClientSecret": service["clientSecret"], "flows": flows,
        "p50Ms": round(statistics.median(latencies), 2), "p99Ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
        "meanMs": round(statistics.fmean(latencies), 2),
    }))


if __name__ == "__main__":
    main()
