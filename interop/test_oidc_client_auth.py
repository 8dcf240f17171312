"""Clients that authenticate with a signed JWT (`private_key_jwt`, OpenID Connect Core
section 9 and RFC 7523) and clients that ask for RS256 tokens, driven by authlib's
PrivateKeyJWT and checked with joserfc, both written by others: client credentials and the
code flow with assertions signed by RSA and EC keys, every way an assertion can be wrong
answered by the same invalid_client, JWKS registration that refuses private and symmetric
keys, and RSA signing keys that are published and rotated with the EC ones."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from oidc_setup import REDIRECT_URI, make_provider
from test_oidc_provider import code_flow, discovery

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def header_of(token: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def rsa_key(kid: str | None = None) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid or f"rsa-{uuid.uuid4().hex[:8]}"})


def ec_key(kid: str | None = None) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid or f"ec-{uuid.uuid4().hex[:8]}"})


def public_jwks(*keys) -> dict:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def key_client(provider, *keys, **extra) -> dict:
    return provider.add_client(tokenEndpointAuthMethod="private_key_jwt", jwks=public_jwks(*keys),
                               scopes=["openid", "email", "profile", "reports:read"], **extra)


def key_session(provider, client: dict, key, alg: str = "RS256", scope: str = "openid email") -> OAuth2Session:
    session = OAuth2Session(client["clientId"], key, scope=scope, redirect_uri=REDIRECT_URI, code_challenge_method="S256",
                            token_endpoint_auth_method="private_key_jwt",
                            revocation_endpoint_auth_method="private_key_jwt")
    session.register_client_auth_method(PrivateKeyJWT(provider.endpoint("token"), alg=alg))
    return session


def jwks_of(provider) -> dict:
    answer = requests.get(discovery(provider)["jwks_uri"], timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def verify(provider, token: str, alg: str) -> dict:
    return jwt.decode(token, KeySet.import_key_set(jwks_of(provider)), algorithms=[alg]).claims


def assertion(provider, client: dict, key, alg: str = "RS256", **changes) -> str:
    now = int(time.time())
    claims = {"iss": client["clientId"], "sub": client["clientId"], "aud": provider.endpoint("token"), "iat": now,
              "exp": now + 120, "jti": secrets.token_urlsafe(16)}
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def service_token(provider, client_assertion: str, **extra) -> requests.Response:
    return requests.post(provider.endpoint("token"), timeout=10,
                         data={"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                               "client_assertion": client_assertion, **extra})


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_authlib_private_key_jwt_runs_client_credentials_and_the_code_flow(backend, rampart_bin, server_factory, request):
    store = request.getfixturevalue(backend)
    server = server_factory(store)
    provider = make_provider(rampart_bin, store, server)
    config = discovery(provider)
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
    assert {"RS256", "PS256", "ES256"} <= set(config["token_endpoint_auth_signing_alg_values_supported"])
    assert not {"none", "HS256"} & set(config["token_endpoint_auth_signing_alg_values_supported"])
    assert config["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]

    rsa, ec = rsa_key(), ec_key()
    client = key_client(provider, rsa, ec, idTokenSigningAlg="RS256")
    assert client.get("clientSecret") is None and client["tokenEndpointAuthMethod"] == "private_key_jwt"
    assert [k["kid"] for k in client["jwks"]["keys"]] == [rsa.kid, ec.kid] and client["idTokenSigningAlg"] == "RS256"
    assert all("d" not in k for k in client["jwks"]["keys"])

    session = key_session(provider, client, rsa, scope="reports:read")
    service = session.fetch_token(provider.endpoint("token"), grant_type="client_credentials", scope="reports:read")
    assert service["scope"] == "reports:read" and header_of(service["access_token"])["alg"] == "RS256"
    assert verify(provider, service["access_token"], "RS256")["sub"] == client["clientId"]
    introspected = session.introspect_token(provider.endpoint("introspect"), token=service["access_token"]).json()
    assert introspected["active"] is True and introspected["client_id"] == client["clientId"], introspected

    token, _, nonce = code_flow(provider, key_session(provider, client, rsa))
    id_header = header_of(token["id_token"])
    assert id_header["alg"] == "RS256"
    rsa_kids = [k["kid"] for k in jwks_of(provider)["keys"] if k["kty"] == "RSA"]
    assert id_header["kid"] in rsa_kids
    claims = verify(provider, token["id_token"], "RS256")
    assert claims["aud"] == client["clientId"] and claims["sub"] == provider.user_id and claims["nonce"] == nonce
    info = requests.get(provider.endpoint("userinfo"), headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10)
    assert info.status_code == 200 and info.json()["email"] == provider.email, info.text

    ec_session = key_session(provider, client, ec, alg="ES256")
    ec_token, _, _ = code_flow(provider, ec_session)
    assert ec_session.introspect_token(provider.endpoint("introspect"), token=ec_token["access_token"]).json()["active"] is True
    assert ec_session.revoke_token(provider.endpoint("revoke"), token=ec_token["access_token"]).status_code == 200
    assert ec_session.introspect_token(provider.endpoint("introspect"), token=ec_token["access_token"]).json() == {"active": False}

    rotate = provider.api("POST", f"/oauth-clients/{client['clientId']}/secret", json={})
    assert rotate.status_code == 409 and "private_key_jwt" in rotate.json()["error"]["message"], rotate.text
    events = provider.api("GET", "/audit-events", params={"action": "oauth_client.created"}).json()["data"]
    created = [e for e in events if any(t.get("id") == client["clientId"] for t in e["targets"])]
    assert created and created[0]["details"]["idTokenSigningAlg"] == "RS256"
    assert [k["kid"] for k in created[0]["details"]["jwks"]] == [rsa.kid, ec.kid]


def test_every_bad_assertion_is_invalid_client_and_leaks_nothing(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    rsa, ec = rsa_key(), ec_key()
    client = key_client(provider, rsa, ec)
    good = assertion(provider, client, rsa)
    first = service_token(provider, good)
    assert first.status_code == 200, first.text
    assert service_token(provider, assertion(provider, client, ec, alg="ES256")).status_code == 200
    assert service_token(provider, assertion(provider, client, rsa, aud=provider.issuer)).status_code == 200, \
        "the issuer is an accepted audience too"
    assert service_token(provider, assertion(provider, client, rsa, alg="PS256")).status_code == 200

    public = rsa.as_dict(private=False)
    now = int(time.time())
    stranger = rsa_key(kid=rsa.kid)
    payload = {"iss": client["clientId"], "sub": client["clientId"], "aud": provider.endpoint("token"), "iat": now,
               "exp": now + 120, "jti": secrets.token_urlsafe(16)}
    body = b64(json.dumps(payload).encode())
    none_token = b64(json.dumps({"alg": "none", "kid": rsa.kid}).encode()) + "." + body + "."
    hs_header = b64(json.dumps({"alg": "HS256", "kid": rsa.kid}).encode())
    hs_tokens = [f"{hs_header}.{body}." + b64(hmac.new(secret, f"{hs_header}.{body}".encode(), hashlib.sha256).digest())
                 for secret in (json.dumps(public).encode(), rsa.as_pem(private=False))]
    bad = {
        "reused": good,
        "wrong audience": assertion(provider, client, rsa, aud="https://elsewhere.example.test/token"),
        "expired": assertion(provider, client, rsa, iat=now - 600, exp=now - 300),
        "too far ahead": assertion(provider, client, rsa, exp=now + 7 * 3600),
        "not yet valid": assertion(provider, client, rsa, nbf=now + 600),
        "iss differs from sub": assertion(provider, client, rsa, iss=str(uuid.uuid4())),
        "unregistered key": assertion(provider, client, stranger),
        "alg none": none_token,
        "HS256 with the public JWK as secret": hs_tokens[0],
        "HS256 with the public PEM as secret": hs_tokens[1],
        "missing jti": assertion(provider, client, rsa, jti=None),
        "missing exp": assertion(provider, client, rsa, exp=None),
        "not a JWT": "not-a-jwt",
    }
    for case, value in bad.items():
        answer = service_token(provider, value)
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_client", (case, answer.text)
        assert public["n"][:32] not in answer.text and "kid" not in answer.json()["error_description"], case
    wrong_type = requests.post(provider.endpoint("token"), timeout=10,
                               data={"grant_type": "client_credentials", "client_assertion_type": "jwt",
                                     "client_assertion": assertion(provider, client, rsa)})
    assert wrong_type.status_code == 400 and wrong_type.json()["error"] == "invalid_request"
    with_secret = service_token(provider, assertion(provider, client, rsa), client_secret="rcs_x")
    assert with_secret.status_code == 400 and with_secret.json()["error"] == "invalid_request"
    secret_client = provider.client
    by_secret_client = service_token(provider, assertion(provider, secret_client, rsa))
    assert by_secret_client.status_code == 401, "a secret client cannot switch to assertions"
    basic = requests.post(provider.endpoint("token"), auth=(client["clientId"], "rcs_guess"),
                          data={"grant_type": "client_credentials"}, timeout=10)
    assert basic.status_code == 401 and basic.json()["error"] == "invalid_client", "a key client has no secret to guess"


def test_a_jwks_with_private_or_symmetric_keys_is_refused_and_nothing_is_stored(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    before = provider.api("GET", "/oauth-clients").json()["data"]
    rsa = rsa_key()
    refusals = {
        "private member \"d\"": {"keys": [rsa.as_dict(private=True)]},
        "symmetric (oct)": {"keys": [{"kty": "oct", "k": b64(b"a shared secret"), "kid": "s"}]},
        "RSA or EC": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64(b"x" * 32)}]},
        "JSON Web Key Set": [rsa.as_dict(private=False)],
    }
    for problem, jwks in refusals.items():
        body = {"name": f"Keys {uuid.uuid4().hex[:6]}", "productId": provider.product_id, "redirectUris": [REDIRECT_URI],
                "tokenEndpointAuthMethod": "private_key_jwt", "jwks": jwks}
        answer = provider.api("POST", "/oauth-clients", json=body)
        assert answer.status_code == 400, (problem, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "invalid_field" and "'jwks'" in error["message"] and problem in error["message"], error
        assert rsa.as_dict(private=True)["d"][:16] not in answer.text
    missing = provider.api("POST", "/oauth-clients", json={"name": "No keys", "productId": provider.product_id,
                                                           "redirectUris": [REDIRECT_URI],
                                                           "tokenEndpointAuthMethod": "private_key_jwt"})
    assert missing.status_code == 400 and "'jwks'" in missing.json()["error"]["message"]
    assert provider.api("GET", "/oauth-clients").json()["data"] == before, "nothing was stored"
    created = provider.api("GET", "/audit-events", params={"action": "oauth_client.created"}).json()["data"]
    assert len(created) == 1, "only the fixture's client was created"

    patched = provider.api("PATCH", f"/oauth-clients/{provider.client['clientId']}",
                           json={"tokenEndpointAuthMethod": "private_key_jwt", "jwks": {"keys": [rsa.as_dict(private=True)]}})
    assert patched.status_code == 400 and "'jwks'" in patched.json()["error"]["message"]
    unchanged = provider.api("GET", f"/oauth-clients/{provider.client['clientId']}").json()
    assert unchanged["tokenEndpointAuthMethod"] == "client_secret_basic" and unchanged["jwks"] is None


def test_rs256_tokens_verify_and_both_rsa_kids_stay_published_after_rotation(rampart_bin, server_factory, sqlite):
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    client = provider.api("PATCH", f"/oauth-clients/{provider.client['clientId']}", json={"idTokenSigningAlg": "RS256"})
    assert client.status_code == 200 and client.json()["idTokenSigningAlg"] == "RS256", client.text
    secret_client = {**provider.client, **client.json(), "clientSecret": provider.client["clientSecret"]}
    session = OAuth2Session(secret_client["clientId"], secret_client["clientSecret"], scope="openid email",
                            redirect_uri=REDIRECT_URI, code_challenge_method="S256",
                            token_endpoint_auth_method="client_secret_basic")
    before, _, _ = code_flow(provider, session)
    old_kid = header_of(before["id_token"])["kid"]
    assert header_of(before["id_token"])["alg"] == "RS256" and header_of(before["access_token"])["alg"] == "RS256"
    rsa_jwk = next(k for k in jwks_of(provider)["keys"] if k["kid"] == old_kid)
    assert rsa_jwk["kty"] == "RSA" and rsa_jwk["alg"] == "RS256" and rsa_jwk["e"] and len(rsa_jwk["n"]) >= 342
    assert verify(provider, before["id_token"], "RS256")["sub"] == provider.user_id

    # The RSA key cannot be turned against the provider: no alg none, no HS256 with the public key,
    # no RS256 under the EC key's kid.
    header_b64, payload_b64, signature = before["access_token"].split(".")
    ec_kid = next(k["kid"] for k in jwks_of(provider)["keys"] if k["kty"] == "EC")
    forged_header = lambda **h: b64(json.dumps({"typ": "at+jwt", **h}).encode())
    hs = forged_header(alg="HS256", kid=old_kid)
    forgeries = [
        f"{forged_header(alg='none', kid=old_kid)}.{payload_b64}.",
        f"{hs}.{payload_b64}." + b64(hmac.new(json.dumps(rsa_jwk).encode(), f"{hs}.{payload_b64}".encode(),
                                              hashlib.sha256).digest()),
        f"{forged_header(alg='RS256', kid=ec_kid)}.{payload_b64}.{signature}",
        f"{forged_header(alg='RS256', kid=str(uuid.uuid4()))}.{payload_b64}.{signature}",
    ]
    for forged in forgeries:
        assert session.introspect_token(provider.endpoint("introspect"), token=forged).json() == {"active": False}, forged
        info = requests.get(provider.endpoint("userinfo"), headers={"Authorization": f"Bearer {forged}"}, timeout=10)
        assert info.status_code == 401, forged

    rotated = provider.api("POST", "/oauth-signing-keys/rotate")
    assert rotated.status_code == 200, rotated.text
    rsa_kids = [k["kid"] for k in jwks_of(provider)["keys"] if k["kty"] == "RSA"]
    assert len(rsa_kids) == 2 and old_kid in rsa_kids, rsa_kids
    after, _, _ = code_flow(provider, session)
    new_kid = header_of(after["id_token"])["kid"]
    assert new_kid != old_kid and new_kid in rsa_kids
    assert verify(provider, before["id_token"], "RS256")["sub"] == provider.user_id, "the old key still verifies"
    assert session.introspect_token(provider.endpoint("introspect"), token=before["access_token"]).json()["active"] is True
    events = provider.api("GET", "/audit-events", params={"action": "oauth.signing_key_rotated"}).json()["data"]
    assert events and events[0]["details"]["rsaKid"] == new_kid and old_kid in events[0]["details"]["retiredKids"]


def test_the_cli_registers_a_key_client_the_server_honours(rampart_bin, server_factory, sqlite, tmp_path):
    from conftest import run_cli, run_cli_json
    server = server_factory(sqlite)
    provider = make_provider(rampart_bin, sqlite, server)
    org = ["--org", provider.slug, *sqlite.args]
    product = provider.api("GET", f"/products/{provider.product_id}").json()["name"]
    ec = ec_key()
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(public_jwks(ec)))
    created = run_cli_json(rampart_bin, "oauth-client", "create", *org, "--product", product, "--name", "Signed API",
                           "--redirect-uri", REDIRECT_URI, "--scope", "reports:read", "--auth-method", "private_key_jwt",
                           "--jwks-file", str(jwks_file), "--id-token-signing-alg", "RS256", "--json")
    assert created.get("clientSecret") is None and created["tokenEndpointAuthMethod"] == "private_key_jwt"
    assert created["idTokenSigningAlg"] == "RS256" and created["jwks"]["keys"][0]["kid"] == ec.kid
    answer = service_token(provider, assertion(provider, created, ec, alg="ES256"))
    assert answer.status_code == 200 and header_of(answer.json()["access_token"])["alg"] == "RS256", answer.text

    refused = run_cli(rampart_bin, "oauth-client", "rotate-secret", *org, "--client", created["clientId"], check=False)
    assert refused.returncode != 0 and "private_key_jwt" in refused.stderr, refused.stderr
    private_file = tmp_path / "private.json"
    private_file.write_text(json.dumps({"keys": [ec.as_dict(private=True)]}))
    leaked = run_cli(rampart_bin, "oauth-client", "update", *org, "--client", created["clientId"], "--jwks-file",
                     str(private_file), check=False)
    assert leaked.returncode != 0 and "jwks" in leaked.stderr and "private member" in leaked.stderr, leaked.stderr

    other = ec_key()
    jwks_file.write_text(json.dumps(public_jwks(other)))
    run_cli(rampart_bin, "oauth-client", "update", *org, "--client", created["clientId"], "--jwks-file", str(jwks_file))
    assert service_token(provider, assertion(provider, created, ec, alg="ES256")).status_code == 401, "the old key is gone"
    assert service_token(provider, assertion(provider, created, other, alg="ES256")).status_code == 200
