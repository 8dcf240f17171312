"""Rampart's OpenID Connect provider driven by authlib, an OAuth 2.0 and OpenID Connect
client written by others: the authorization code flow with PKCE, refresh with rotation,
userinfo, introspection and revocation, on SQLite and PostgreSQL; and cases derived from the
OpenID Foundation's OP conformance plans (code reuse, redirect URI variants, PKCE, refresh
reuse, key rotation at the JWKS)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from oidc_setup import REDIRECT_URI, make_provider, onward, query_of


def discovery(provider) -> dict:
    answer = requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def client_session(provider, client: dict | None = None, scope: str = "openid email profile groups offline_access") -> OAuth2Session:
    client = client or provider.client
    return OAuth2Session(client["clientId"], client.get("clientSecret"), scope=scope, redirect_uri=REDIRECT_URI,
                         code_challenge_method="S256",
                         token_endpoint_auth_method=client["tokenEndpointAuthMethod"])


def code_flow(provider, session: OAuth2Session, browser: requests.Session | None = None, **extra) -> tuple[dict, str, str]:
    """Runs authorize → sign-in → callback → token; returns the token, the verifier and the nonce."""
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(provider.endpoint("authorize"), code_verifier=verifier, nonce=nonce, **extra)
    browser = browser or requests.Session()
    answer = provider.authorize(browser, url)
    assert answer.status_code == 303, answer.text[-1500:]
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    params = query_of(location)
    assert params["state"] == state and params["iss"] == provider.issuer and "code" in params, params
    token = session.fetch_token(provider.endpoint("token"), authorization_response=location, code_verifier=verifier)
    return token, verifier, nonce


def verified_claims(provider, token: str) -> dict:
    keys = KeySet.import_key_set(requests.get(provider.endpoint("jwks"), timeout=10).json())
    decoded = jwt.decode(token, keys, algorithms=["ES256"])
    return decoded.claims


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_authlib_signs_in_refreshes_reads_userinfo_introspects_and_revokes(backend, rampart_bin, server_factory, request):
    store = request.getfixturevalue(backend)
    server = server_factory(store)
    provider = make_provider(rampart_bin, store, server)
    config = discovery(provider)
    assert config["issuer"] == provider.issuer
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["response_types_supported"] == ["code"]
    assert config["token_endpoint"] == provider.endpoint("token")

    session = client_session(provider)
    token, _, nonce = code_flow(provider, session)
    assert token["token_type"] == "Bearer" and token["expires_in"] == 600
    assert set(token["scope"].split()) == {"openid", "email", "profile", "groups", "offline_access"}
    assert token["refresh_token"].startswith("rrt_")

    id_claims = verified_claims(provider, token["id_token"])
    assert id_claims["iss"] == provider.issuer and id_claims["aud"] == provider.client["clientId"]
    assert id_claims["sub"] == provider.user_id and id_claims["nonce"] == nonce
    assert id_claims["email"] == provider.email and id_claims["name"] == "Pat Member"
    assert len(id_claims["groups"]) == 1 and id_claims["amr"] == ["pwd"]
    assert id_claims["org_id"] == provider.org["organization"]["id"]
    assert abs(id_claims["auth_time"] - time.time()) < 120 and id_claims["exp"] > time.time()

    access_header = json.loads(base64.urlsafe_b64decode(token["access_token"].split(".")[0] + "=="))
    assert access_header["typ"] == "at+jwt" and access_header["alg"] == "ES256"
    access_claims = verified_claims(provider, token["access_token"])
    assert access_claims["client_id"] == provider.client["clientId"] and access_claims["sub"] == provider.user_id

    info = session.get(provider.endpoint("userinfo"))
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == provider.user_id and info.json()["email"] == provider.email

    introspected = session.introspect_token(provider.endpoint("introspect"), token=token["access_token"]).json()
    assert introspected["active"] is True and introspected["sub"] == provider.user_id, introspected

    first_refresh = token["refresh_token"]
    refreshed = session.refresh_token(provider.endpoint("token"), refresh_token=first_refresh)
    assert refreshed["refresh_token"] != first_refresh and refreshed["access_token"] != token["access_token"]
    assert verified_claims(provider, refreshed["id_token"])["sub"] == provider.user_id

    revoked = session.revoke_token(provider.endpoint("revoke"), token=refreshed["refresh_token"],
                                   token_type_hint="refresh_token")
    assert revoked.status_code == 200, revoked.text
    for old in (token["access_token"], refreshed["access_token"]):
        assert session.introspect_token(provider.endpoint("introspect"), token=old).json() == {"active": False}
    again = requests.post(provider.endpoint("token"), auth=(provider.client["clientId"], provider.client["clientSecret"]),
                          data={"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]}, timeout=10)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    gone = requests.get(provider.endpoint("userinfo"), headers={"Authorization": f"Bearer {refreshed['access_token']}"},
                        timeout=10)
    assert gone.status_code == 401 and gone.json()["error"] == "invalid_token"

    events = provider.api("GET", "/audit-events", params={"limit": 200}).json()["data"]
    actions = [e["action"] for e in events]
    for action in ("oauth_client.created", "oauth.authorized", "oauth.tokens_issued", "oauth.grant_revoked"):
        assert action in actions, actions


def test_a_code_used_twice_fails_and_revokes_what_the_first_use_gave(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    session = client_session(provider)
    verifier = secrets.token_urlsafe(48)
    url, _ = session.create_authorization_url(provider.endpoint("authorize"), code_verifier=verifier, nonce="n")
    location = provider.authorize(requests.Session(), url).headers["Location"]
    code = query_of(location)["code"]
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    auth = (provider.client["clientId"], provider.client["clientSecret"])
    first = requests.post(provider.endpoint("token"), auth=auth, data=body, timeout=10)
    assert first.status_code == 200, first.text
    second = requests.post(provider.endpoint("token"), auth=auth, data=body, timeout=10)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant", second.text
    assert second.headers["Cache-Control"] == "no-store"
    tokens = first.json()
    assert session.introspect_token(provider.endpoint("introspect"), token=tokens["access_token"]).json() == {"active": False}
    refresh = requests.post(provider.endpoint("token"), auth=auth,
                            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, timeout=10)
    assert refresh.json()["error"] == "invalid_grant"
    replay = provider.api("GET", "/audit-events", params={"action": "oauth.replay_detected"}).json()["data"]
    assert replay and replay[0]["details"]["credential"] == "authorization_code"


def test_a_reused_refresh_token_revokes_its_whole_family(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    session = client_session(provider)
    token, _, _ = code_flow(provider, session)
    auth = (provider.client["clientId"], provider.client["clientSecret"])

    def refresh(value):
        return requests.post(provider.endpoint("token"), auth=auth, data={"grant_type": "refresh_token", "refresh_token": value},
                             timeout=10)

    second = refresh(token["refresh_token"])
    assert second.status_code == 200, second.text
    stolen = refresh(token["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    # The legitimate holder's newer token died with the family.
    assert refresh(second.json()["refresh_token"]).json()["error"] == "invalid_grant"
    assert session.introspect_token(provider.endpoint("introspect"), token=second.json()["access_token"]).json() == {"active": False}


def test_redirect_uri_variants_and_unknown_clients_get_a_page_never_a_redirect(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    client_id = provider.client["clientId"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(b"v" * 50).digest()).rstrip(b"=").decode()
    variants = [
        REDIRECT_URI + "/",
        REDIRECT_URI.replace("wiki", "WIKI"),
        REDIRECT_URI.replace("callback", "Callback"),
        REDIRECT_URI + "?next=/admin",
        REDIRECT_URI + "#fragment",
        REDIRECT_URI.replace("https://", "https://user@"),
        REDIRECT_URI.replace("https://wiki.example.test", "https://wiki.example.test.evil.example"),
        REDIRECT_URI.replace("/oauth/callback", "/oauth/callback/../../evil"),
        REDIRECT_URI.replace("wiki.example.test", "wiki.example.test:8443"),
        REDIRECT_URI.replace("https://", "http://"),
        "",
    ]
    for variant in variants:
        answer = requests.get(provider.endpoint("authorize"), allow_redirects=False, timeout=10, params={
            "client_id": client_id, "redirect_uri": variant, "response_type": "code", "scope": "openid",
            "code_challenge": challenge, "code_challenge_method": "S256", "state": "s"})
        assert answer.status_code == 400 and "Location" not in answer.headers, (variant, answer.status_code)
        assert "not registered" in answer.text, variant
    unknown = requests.get(provider.endpoint("authorize"), allow_redirects=False, timeout=10, params={
        "client_id": "0190c0de-0000-7000-8000-000000000000", "redirect_uri": REDIRECT_URI, "response_type": "code",
        "scope": "openid", "code_challenge": challenge, "code_challenge_method": "S256"})
    assert unknown.status_code == 400 and "Location" not in unknown.headers and "not known" in unknown.text


def test_pkce_is_required_with_s256_and_a_wrong_verifier_fails(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    base = {"client_id": provider.client["clientId"], "redirect_uri": REDIRECT_URI, "response_type": "code",
            "scope": "openid", "state": "st"}
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    for extra in ({}, {"code_challenge": verifier, "code_challenge_method": "plain"}, {"code_challenge": challenge}):
        answer = requests.get(provider.endpoint("authorize"), params={**base, **extra}, allow_redirects=False, timeout=10)
        assert answer.status_code == 303, extra
        params = query_of(answer.headers["Location"])
        assert params["error"] == "invalid_request" and params["state"] == "st", params
    for response_type in ("token", "id_token", "code token"):
        answer = requests.get(provider.endpoint("authorize"), allow_redirects=False, timeout=10,
                              params={**base, "response_type": response_type, "code_challenge": challenge,
                                      "code_challenge_method": "S256"})
        assert query_of(answer.headers["Location"])["error"] == "unsupported_response_type"

    browser = requests.Session()
    url = provider.endpoint("authorize") + "?" + requests.compat.urlencode(
        {**base, "code_challenge": challenge, "code_challenge_method": "S256"})
    code = query_of(provider.authorize(browser, url).headers["Location"])["code"]
    wrong = requests.post(provider.endpoint("token"), auth=(provider.client["clientId"], provider.client["clientSecret"]),
                          data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                                "code_verifier": "w" * 50}, timeout=10)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    password = requests.post(provider.endpoint("token"), auth=(provider.client["clientId"], provider.client["clientSecret"]),
                             data={"grant_type": "password", "username": provider.email, "password": "x"}, timeout=10)
    assert password.json()["error"] == "unsupported_grant_type"


def test_forged_tokens_are_inactive_and_bad_client_authentication_is_invalid_client(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    session = client_session(provider)
    token, _, _ = code_flow(provider, session)
    header_b64, payload_b64, _ = token["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    import hmac
    jwk = requests.get(provider.endpoint("jwks"), timeout=10).json()["keys"][0]
    none_token = b64(json.dumps({"alg": "none", "typ": "at+jwt", "kid": header["kid"]}).encode()) + "." + payload_b64 + "."
    hs_header = b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}).encode())
    hs_signature = hmac.new(json.dumps(jwk).encode(), f"{hs_header}.{payload_b64}".encode(), hashlib.sha256).digest()
    hs_token = f"{hs_header}.{payload_b64}.{b64(hs_signature)}"
    unknown_kid = b64(json.dumps({**header, "kid": "0190c0de-0000-7000-8000-000000000000"}).encode())
    unknown_token = f"{unknown_kid}.{payload_b64}.{token['access_token'].split('.')[2]}"
    claims["sub"] = "someone-else"
    altered = f"{header_b64}.{b64(json.dumps(claims).encode())}.{token['access_token'].split('.')[2]}"
    for forged in (none_token, hs_token, unknown_token, altered, "not-a-token"):
        answer = session.introspect_token(provider.endpoint("introspect"), token=forged)
        assert answer.status_code == 200 and answer.json() == {"active": False}, forged
        info = requests.get(provider.endpoint("userinfo"), headers={"Authorization": f"Bearer {forged}"}, timeout=10)
        assert info.status_code == 401, forged

    client_id = provider.client["clientId"]
    for auth, data in (((client_id, "rcs_wrong"), {}), ((client_id, ""), {}), (None, {"client_id": client_id}),
                       (None, {"client_id": client_id, "client_secret": provider.client["clientSecret"]}),
                       (("0190c0de-0000-7000-8000-000000000000", provider.client["clientSecret"]), {})):
        answer = requests.post(provider.endpoint("token"), auth=auth, timeout=10,
                               data={"grant_type": "client_credentials", **data})
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_client", (auth, data, answer.text)


def test_signing_key_rotation_publishes_the_new_key_and_keeps_the_old(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    session = client_session(provider)
    before, _, _ = code_flow(provider, session)
    old_kid = json.loads(base64.urlsafe_b64decode(before["id_token"].split(".")[0] + "=="))["kid"]
    rotated = provider.api("POST", "/oauth-signing-keys/rotate")
    assert rotated.status_code == 200, rotated.text
    new_kid = rotated.json()["kid"]
    kids = [k["kid"] for k in requests.get(provider.endpoint("jwks"), timeout=10).json()["keys"]]
    assert kids[0] == new_kid and old_kid in kids, kids
    after, _, _ = code_flow(provider, client_session(provider))
    assert json.loads(base64.urlsafe_b64decode(after["id_token"].split(".")[0] + "=="))["kid"] == new_kid
    assert verified_claims(provider, before["id_token"])["sub"] == provider.user_id
    assert session.introspect_token(provider.endpoint("introspect"), token=before["access_token"]).json()["active"] is True


def test_access_follows_groups_and_deactivation_stops_refresh_at_once(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    session = client_session(provider)
    token, _, _ = code_flow(provider, session)

    outsider_email, _ = provider.add_member("Olive Outsider")
    provider.api("DELETE", f"/groups/{provider.group_id}/members/{_}")
    browser = requests.Session()
    provider.sign_in(browser, outsider_email)
    url, _state = client_session(provider).create_authorization_url(provider.endpoint("authorize"),
                                                                    code_verifier=secrets.token_urlsafe(48))
    denied = browser.get(url, allow_redirects=False, timeout=10)
    assert denied.status_code == 303 and query_of(denied.headers["Location"])["error"] == "access_denied"

    assert provider.api("POST", f"/users/{provider.user_id}/deactivate").status_code == 200
    refresh = requests.post(provider.endpoint("token"), auth=(provider.client["clientId"], provider.client["clientSecret"]),
                            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}, timeout=10)
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    assert session.introspect_token(provider.endpoint("introspect"), token=token["access_token"]).json() == {"active": False}


def test_client_credentials_gives_a_service_token_with_its_scopes_only(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    client = provider.add_client(scopes=["reports:read", "reports:write"])
    auth = (client["clientId"], client["clientSecret"])
    answer = requests.post(provider.endpoint("token"), auth=auth, data={"grant_type": "client_credentials",
                                                                      "scope": "reports:read"}, timeout=10)
    assert answer.status_code == 200, answer.text
    claims = verified_claims(provider, answer.json()["access_token"])
    assert claims["sub"] == client["clientId"] and claims["scope"] == "reports:read" and "refresh_token" not in answer.json()
    wider = requests.post(provider.endpoint("token"), auth=auth, data={"grant_type": "client_credentials", "scope": "openid"},
                          timeout=10)
    assert wider.json()["error"] == "invalid_scope"
    public = provider.add_client(type="public")
    assert public["clientSecret"] is None and public["tokenEndpointAuthMethod"] == "none"
    refused = requests.post(provider.endpoint("token"), data={"grant_type": "client_credentials",
                                                             "client_id": public["clientId"]}, timeout=10)
    assert refused.json()["error"] == "unauthorized_client"


def test_a_public_client_signs_in_with_pkce_alone(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    public = provider.add_client(type="public")
    session = OAuth2Session(public["clientId"], None, scope="openid email", redirect_uri=REDIRECT_URI,
                            code_challenge_method="S256", token_endpoint_auth_method="none")
    token, _, _ = code_flow(provider, session)
    assert verified_claims(provider, token["id_token"])["aud"] == public["clientId"]
    assert "refresh_token" not in token


def test_a_third_party_client_asks_for_consent_once(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    client = provider.add_client(firstParty=False)
    session = client_session(provider, client, scope="openid email offline_access")
    browser = requests.Session()
    verifier = secrets.token_urlsafe(48)
    url, _ = session.create_authorization_url(provider.endpoint("authorize"), code_verifier=verifier)
    page = provider.authorize(browser, url)
    assert page.status_code == 200 and "See your email address" in page.text, page.text[-800:]
    from oidc_setup import csrf
    import re
    hidden = re.search(r'name="request" value="([^"]*)"', page.text).group(1).replace("&amp;", "&")
    denied = browser.post(provider.endpoint("authorize"), data={"csrf": csrf(page.text), "request": hidden, "decision": "deny"},
                          allow_redirects=False, timeout=10)
    assert query_of(onward(denied))["error"] == "access_denied"
    allowed = browser.post(provider.endpoint("authorize"), data={"csrf": csrf(page.text), "request": hidden, "decision": "allow"},
                           allow_redirects=False, timeout=10)
    location = onward(allowed)
    session.fetch_token(provider.endpoint("token"), authorization_response=location, code_verifier=verifier)
    url, _ = session.create_authorization_url(provider.endpoint("authorize"), code_verifier=secrets.token_urlsafe(48))
    second = browser.get(url, allow_redirects=False, timeout=10)
    assert second.status_code == 303 and "code" in query_of(second.headers["Location"]), "consent is remembered"


def test_the_cli_registers_rotates_and_removes_a_client_the_server_honours(rampart_bin, server_factory, sqlite):
    from conftest import run_cli, run_cli_json
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    org = ["--org", provider.slug, *sqlite.args]
    product = provider.api("GET", f"/products/{provider.product_id}").json()["name"]
    created = run_cli_json(rampart_bin, "oauth-client", "create", *org, "--product", product, "--name", "Reports API",
                           "--redirect-uri", REDIRECT_URI, "--scope", "reports:read", "--public-url", server.base_url, "--json")
    assert created["issuer"] == provider.issuer and created["clientSecret"].startswith("rcs_")
    assert created["scopes"] == ["openid", "reports:read"]
    shown = run_cli(rampart_bin, "oauth-client", "show", *org, "--client", "reports api", "--public-url", server.base_url).stdout
    assert created["clientId"] in shown and f"{provider.issuer}/.well-known/openid-configuration" in shown
    assert "rcs_" not in shown, "the secret is shown once only"

    def service_token(secret: str) -> requests.Response:
        return requests.post(provider.endpoint("token"), auth=(created["clientId"], secret),
                             data={"grant_type": "client_credentials"}, timeout=10)

    assert service_token(created["clientSecret"]).status_code == 200
    rotated = run_cli_json(rampart_bin, "oauth-client", "rotate-secret", *org, "--client", created["clientId"], "--json")
    assert service_token(rotated["clientSecret"]).status_code == 200
    assert service_token(created["clientSecret"]).status_code == 200, "the previous secret works during the overlap"
    cut = run_cli_json(rampart_bin, "oauth-client", "rotate-secret", *org, "--client", created["clientId"],
                       "--overlap-seconds", "0", "--json")
    assert service_token(rotated["clientSecret"]).status_code == 401
    assert service_token(cut["clientSecret"]).status_code == 200

    bad = run_cli(rampart_bin, "oauth-client", "create", *org, "--product", product, "--redirect-uri",
                  "http://wiki.example.test/cb", check=False)
    assert bad.returncode != 0 and "https" in bad.stderr, bad.stderr
    run_cli(rampart_bin, "oauth-client", "delete", *org, "--client", created["clientId"])
    assert service_token(cut["clientSecret"]).status_code == 401
    listed = run_cli(rampart_bin, "oauth-client", "list", *org).stdout
    assert "Reports API" not in listed and provider.client["name"] in listed


def test_grants_are_listed_and_revocable_by_admins_and_by_the_person(rampart_bin, server_factory, sqlite):
    from oidc_setup import csrf
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    browser = requests.Session()
    first, _, _ = code_flow(provider, client_session(provider), browser=browser)
    second, _, _ = code_flow(provider, client_session(provider), browser=browser)
    listed = provider.api("GET", "/oauth-grants", params={"userId": provider.user_id}).json()["data"]
    assert len(listed) == 2 and {g["clientName"] for g in listed} == {provider.client["name"]}, listed
    assert listed[0]["amr"] == ["pwd"] and "offline_access" in listed[0]["scopes"]
    for bad in ("not-an-id", ""):
        assert provider.api("GET", "/oauth-grants", params={"userId": bad}).status_code == 400, bad

    # An admin revokes one: its refresh token dies, the other grant lives on.
    assert provider.api("DELETE", f"/oauth-grants/{listed[0]['id']}").status_code == 204
    assert provider.api("DELETE", f"/oauth-grants/{listed[0]['id']}").status_code == 404
    auth = (provider.client["clientId"], provider.client["clientSecret"])

    def refresh(token):
        return requests.post(provider.endpoint("token"), auth=auth, timeout=10,
                             data={"grant_type": "refresh_token", "refresh_token": token})

    assert refresh(second["refresh_token"]).json()["error"] == "invalid_grant", "the newest grant was revoked"
    still = refresh(first["refresh_token"])
    assert still.status_code == 200, still.text

    # The person removes the last one from My account.
    account = browser.get(f"{server.base_url}/o/{provider.slug}/account", timeout=10)
    assert provider.client["name"] in account.text and 'id="apps"' in account.text
    remaining = provider.api("GET", "/oauth-grants", params={"userId": provider.user_id}).json()["data"]
    assert len(remaining) == 1
    removed = browser.post(f"{server.base_url}/o/{provider.slug}/account/apps/{remaining[0]['id']}/revoke",
                           data={"csrf": csrf(account.text)}, allow_redirects=False, timeout=10)
    assert removed.status_code == 303 and removed.headers["Location"].endswith("?done=app")
    assert refresh(still.json()["refresh_token"]).json()["error"] == "invalid_grant"
    assert 'id="no-apps"' in browser.get(f"{server.base_url}/o/{provider.slug}/account", timeout=10).text
    reasons = {e["details"]["reason"] for e in provider.api("GET", "/audit-events",
                                                             params={"action": "oauth.grant_revoked"}).json()["data"]}
    assert {"revoked_by_admin", "revoked_by_user"} <= reasons, reasons


def test_taking_away_product_access_ends_refresh_and_userinfo_at_once(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    session = client_session(provider)
    token, _, _ = code_flow(provider, session)
    assert session.get(provider.endpoint("userinfo")).status_code == 200
    assert provider.api("DELETE", f"/groups/{provider.group_id}/members/{provider.user_id}").status_code == 204
    assert session.get(provider.endpoint("userinfo")).status_code == 401
    refused = requests.post(provider.endpoint("token"), auth=(provider.client["clientId"], provider.client["clientSecret"]),
                            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}, timeout=10)
    assert refused.json()["error"] == "invalid_grant"
    assert provider.api("GET", "/oauth-grants", params={"userId": provider.user_id}).json()["data"] == []


def test_rp_initiated_logout_ends_the_session_and_returns_only_to_a_registered_address(rampart_bin, server_factory, sqlite):
    from oidc_setup import csrf
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    after = "https://wiki.example.test/signed-out"
    client = provider.add_client(postLogoutRedirectUris=[after])
    config = discovery(provider)
    assert config["end_session_endpoint"] == provider.endpoint("logout")
    browser = requests.Session()
    token, _, _ = code_flow(provider, client_session(provider, client), browser=browser)
    account = f"{server.base_url}/o/{provider.slug}/account"

    unregistered = browser.get(provider.endpoint("logout"), allow_redirects=False, timeout=10,
                               params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": "https://evil.example/"})
    assert unregistered.status_code == 400 and "Location" not in unregistered.headers
    assert browser.get(account, allow_redirects=False, timeout=10).status_code == 200, "still signed in"

    # Without a hint, another site's link cannot sign anyone out: the person confirms.
    asked = browser.get(provider.endpoint("logout"), params={"client_id": client["clientId"]}, timeout=10)
    assert asked.status_code == 200 and 'id="sign-out"' in asked.text
    assert browser.get(account, allow_redirects=False, timeout=10).status_code == 200, "nothing ended before the answer"

    done = browser.get(provider.endpoint("logout"), allow_redirects=False, timeout=10, params={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": after, "state": "bye"})
    assert done.status_code == 303 and done.headers["Location"] == after + "?state=bye", done.headers
    assert browser.get(account, allow_redirects=False, timeout=10).headers["Location"] == f"/o/{provider.slug}/signin"
    events = provider.api("GET", "/audit-events", params={"action": "auth.signout"}).json()["data"]
    assert events and events[0]["details"]["initiatedBy"] == f"oauth_client:{client['clientId']}"

    # Signed in again, the confirmation page signs out on its answer.
    code_flow(provider, client_session(provider, client), browser=browser)
    asked = browser.get(provider.endpoint("logout"), params={"client_id": client["clientId"],
                                                             "post_logout_redirect_uri": after}, timeout=10)
    import re
    hidden = re.search(r'name="request" value="([^"]*)"', asked.text).group(1).replace("&amp;", "&")
    confirmed = browser.post(provider.endpoint("logout"), data={"csrf": csrf(asked.text), "request": hidden},
                             allow_redirects=False, timeout=10)
    assert onward(confirmed) == after
    assert browser.get(account, allow_redirects=False, timeout=10).status_code == 303
