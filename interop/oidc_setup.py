"""An organisation ready to sign people into a product through Rampart's OpenID Connect
provider: a member with a password in a group that has access to the product, the product
registered as an OAuth client, and a browser-like session that signs in through the forms."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import requests

from conftest import bearer, create_org, unique

PASSWORD = "violet tractor evening 77"
REDIRECT_URI = "https://wiki.example.test/oauth/callback"


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]*)"', html).group(1)


def onward(answer: requests.Response) -> str:
    """Where an answer sends the browser: a redirect's Location, or the address of a page that
    moves on by itself (after a form, Rampart answers with such a page, not a redirect)."""
    if answer.status_code in (302, 303):
        return answer.headers["Location"]
    assert answer.status_code == 200, answer.text[-1500:]
    match = re.search(r'id="continue" href="([^"]*)"', answer.text)
    assert match, answer.text[-1500:]
    return html.unescape(match.group(1))


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(location).query, keep_blank_values=True).items()}


@dataclass
class Provider:
    server: object
    org: dict
    slug: str
    token: str
    product_id: str
    group_id: str
    email: str
    user_id: str
    client: dict = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return f"{self.server.base_url}/o/{self.slug}"

    def endpoint(self, name: str) -> str:
        return f"{self.issuer}/oauth/{name}"

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.server.api}{path}", headers=bearer(self.token), timeout=15, **kwargs)

    def add_client(self, **overrides) -> dict:
        body = {"name": unique("Wiki"), "productId": self.product_id, "redirectUris": [REDIRECT_URI]}
        body.update(overrides)
        created = self.api("POST", "/oauth-clients", json=body)
        assert created.status_code == 201, created.text
        return created.json()

    def add_member(self, display_name: str = "Pat Member") -> tuple[str, str]:
        """A member with a password, in the group that has access to the product."""
        email = f"member-{uuid.uuid4().hex[:8]}@oidc.example.test"
        created = self.api("POST", "/users", json={"email": email, "displayName": display_name})
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]
        link = self.api("POST", f"/users/{user_id}/password-reset").json()["url"]
        browser = requests.Session()
        page = browser.get(link, timeout=10)
        done = browser.post(f"{self.server.base_url}/o/{self.slug}/reset",
                            data={"token": link.split("token=")[1], "csrf": csrf(page.text), "password": PASSWORD,
                                  "password_confirm": PASSWORD}, allow_redirects=False, timeout=30)
        assert done.status_code == 303, done.text
        added = self.api("PUT", f"/groups/{self.group_id}/members/{user_id}")
        assert added.status_code == 204, added.text
        return email, user_id

    def sign_in(self, browser: requests.Session, email: str | None = None) -> requests.Response:
        page = browser.get(f"{self.server.base_url}/o/{self.slug}/signin", timeout=10)
        return browser.post(f"{self.server.base_url}/o/{self.slug}/signin",
                            data={"csrf": csrf(page.text), "email": email or self.email, "password": PASSWORD},
                            allow_redirects=False, timeout=30)

    def authorize(self, browser: requests.Session, url: str) -> requests.Response:
        """Follows an authorization URL the way a browser does, signing in when asked, and
        returns the answer that leaves Rampart (a redirect to the product, or a page)."""
        answer = browser.get(url, allow_redirects=False, timeout=15)
        if answer.status_code == 303 and answer.headers["Location"] == f"/o/{self.slug}/signin":
            next_url = onward(self.sign_in(browser))
            assert next_url.startswith(f"/o/{self.slug}/oauth/authorize?"), next_url
            answer = browser.get(self.server.base_url + next_url, allow_redirects=False, timeout=15)
        return answer


def make_provider(rampart_bin: str, store, server) -> Provider:
    org = create_org(rampart_bin, store.args, unique("OIDC Org"), f"admin-{uuid.uuid4().hex[:8]}@oidc.example.test",
                     "--public-url", server.base_url)
    token = org["apiToken"]
    slug = org["organization"]["slug"]

    def api(method, path, **kwargs):
        r = requests.request(method, f"{server.api}{path}", headers=bearer(token), timeout=15, **kwargs)
        assert r.status_code < 300, r.text
        return r.json() if r.text else {}

    product = api("POST", "/products", json={"name": unique("Wiki"), "kind": "wiki", "url": "https://wiki.example.test"})
    group = api("POST", "/groups", json={"name": unique("Readers")})
    api("PUT", f"/products/{product['id']}/access/{group['id']}")
    provider = Provider(server=server, org=org, slug=slug, token=token, product_id=product["id"], group_id=group["id"],
                        email="", user_id="")
    provider.email, provider.user_id = provider.add_member()
    provider.client = provider.add_client()
    return provider
