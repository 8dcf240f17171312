"""OAuth clients in the console, driven through Chromium (issue 15): a product registered as a
client from its page, a redirect URI that is not https refused beside its field, the secret
copied from the page it is shown on once and accepted at the token endpoint (client_credentials
with HTTP Basic), the secret rotated with overlap, the signing key rotated, and the client
deleted after a confirmation, after which its secret is refused."""

from __future__ import annotations

import requests
from selenium.webdriver.common.by import By

from conftest import run_cli_json
from test_console_browser import Steps, csp_violations, fill, find, make_driver, submit
from test_console_browser import console  # noqa: F401  (the fixture)
from test_console_first_hour import sign_in


def client_credentials(token_url: str, client_id: str, secret: str) -> requests.Response:
    return requests.post(token_url, auth=(client_id, secret), timeout=10,
                         data={"grant_type": "client_credentials", "scope": "reports:read"})


def test_register_use_rotate_and_delete_a_client(console, sqlite, rampart_bin, tmp_path):  # noqa: F811
    server, org, admin = console
    slug = org["organization"]["slug"]
    store = ["--org", slug, *sqlite.args]
    product = run_cli_json(rampart_bin, "product", "create", "--name", "Reports", "--kind", "custom",
                           "--url", "https://reports.example.test", *store, "--json")
    issuer = f"{server.base_url}/o/{slug}"
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(f"{server.base_url}/console/products/{product['id']}")
        submit(driver, steps, "register-oauth-client")
        assert find(driver, By.ID, "product_id", steps).get_attribute("value") == product["id"], steps.context()
        assert find(driver, By.ID, "discovery-url", steps).text == f"{issuer}/.well-known/openid-configuration"

        # A redirect URI over plain http to another host: refused beside the field, nothing registered.
        fill(driver, steps, name="Reports service", redirect_uris="http://reports.example.test/callback")
        fill(driver, steps, scopes="openid reports:read")
        submit(driver, steps, "create-client")
        assert "https" in find(driver, By.ID, "redirect_uris-error", steps).text, steps.context()
        assert find(driver, By.ID, "redirect_uris", steps).get_attribute("aria-invalid") == "true"
        assert find(driver, By.ID, "name", steps).get_attribute("value") == "Reports service"
        assert run_cli_json(rampart_bin, "oauth-client", "list", *store, "--json")["data"] == []

        fill(driver, steps, redirect_uris="https://reports.example.test/callback")
        submit(driver, steps, "create-client")
        secret = find(driver, By.ID, "client-secret", steps).text.strip()
        client_id = find(driver, By.ID, "client-id", steps).text.strip()
        assert secret and client_id, steps.context()
        token_url = find(driver, By.ID, "token-url", steps).text.strip()
        discovery = requests.get(find(driver, By.ID, "discovery-url", steps).text.strip(), timeout=10).json()
        assert discovery["issuer"] == issuer and discovery["token_endpoint"] == token_url, discovery
        listed = run_cli_json(rampart_bin, "oauth-client", "list", *store, "--json")["data"]
        assert [(c["clientId"], c["scopes"], c["productId"]) for c in listed] == [
            (client_id, ["openid", "reports:read"], product["id"])]

        # The secret copied from the page works at the token endpoint.
        granted = client_credentials(token_url, client_id, secret)
        assert granted.status_code == 200, granted.text
        assert granted.json()["scope"] == "reports:read" and granted.json()["token_type"].lower() == "bearer"

        # The client's page does not show the secret again.
        driver.get(f"{server.base_url}/console/oauth-clients/{client_id}")
        assert not driver.find_elements(By.ID, "client-secret"), steps.context()
        assert "reports:read" in find(driver, By.ID, "scopes", steps).text

        # Rotating asks first; the new secret works, and so does the old one during the overlap.
        submit(driver, steps, "rotate-secret")
        assert "Rotate the secret of Reports service?" in find(driver, By.TAG_NAME, "h1", steps).text, steps.context()
        submit(driver, steps, "confirm")
        new_secret = find(driver, By.ID, "client-secret", steps).text.strip()
        assert new_secret and new_secret != secret, steps.context()
        assert "UTC" in find(driver, By.ID, "previous-secret", steps).text, steps.context()
        assert client_credentials(token_url, client_id, new_secret).status_code == 200
        assert client_credentials(token_url, client_id, secret).status_code == 200

        # The signing key: the JWKS publishes the new key first and keeps the old one.
        jwks_url = discovery["jwks_uri"]
        kids_before = [k["kid"] for k in requests.get(jwks_url, timeout=10).json()["keys"]]
        driver.get(f"{server.base_url}/console/oauth-clients")
        submit(driver, steps, "rotate-signing-key")
        assert "Rotate the token signing key?" in find(driver, By.TAG_NAME, "h1", steps).text, steps.context()
        submit(driver, steps, "confirm")
        assert "Signing key rotated" in find(driver, By.ID, "notice", steps).text, steps.context()
        kids_after = [k["kid"] for k in requests.get(jwks_url, timeout=10).json()["keys"]]
        assert kids_after[0] not in kids_before and set(kids_before) <= set(kids_after), (kids_before, kids_after)

        # Deleting asks first; afterwards the secret is refused.
        driver.get(f"{server.base_url}/console/oauth-clients/{client_id}")
        submit(driver, steps, "delete")
        assert "Delete the OAuth client Reports service?" in find(driver, By.TAG_NAME, "h1", steps).text, steps.context()
        submit(driver, steps, "confirm")
        assert "Deleted." in find(driver, By.ID, "notice", steps).text, steps.context()
        refused = client_credentials(token_url, client_id, new_secret)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client", refused.text
        assert run_cli_json(rampart_bin, "oauth-client", "list", *store, "--json")["data"] == []
        assert not csp_violations(driver), csp_violations(driver)
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()
