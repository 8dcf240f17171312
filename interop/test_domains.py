"""Verified domains (issue 13, item 1) against a real DNS server (dnsmasq) and a local web
server: claims by the API, the CLI and the console; a missing record, a wrong token and a
wrong file refused with what was found; the second organisation refused once the first has
verified, without being told which; users in the domain managed by the first and refused to
the second; one organisation's token never sees or verifies the other's claims."""

from __future__ import annotations

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import bearer, new_org, run_cli, run_cli_json
from dns_server import Dnsmasq
from test_console_browser import Steps, fill, find, make_driver, submit
from test_console_first_hour import sign_in

ZONE = "test"


def fresh_domain() -> str:
    return f"acme-{uuid.uuid4().hex[:10]}.{ZONE}"


@pytest.fixture
def dns(tmp_path):
    server = Dnsmasq(tmp_path / "dnsmasq", zones=[ZONE]).start()
    yield server
    server.stop()


class WellKnownSite:
    """Serves /.well-known/rampart-domain-verification.txt per Host: (status, body, headers)."""

    def __init__(self):
        self.answers: dict[str, tuple[int, str, dict]] = {}
        self.requests: list[tuple[str, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                host = (self.headers.get("Host") or "").split(":")[0]
                site.requests.append((host, self.path))
                status, body, headers = site.answers.get(host, (404, "not here", {}))
                if self.path != "/.well-known/rampart-domain-verification.txt":
                    status, body, headers = 404, "no such path", {}
                data = body.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    served = WellKnownSite()
    yield served
    served.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def verifying_server(server_factory, store, dns, site):
    return server_factory(store, extra_args=["--dns-server", dns.address, "--domain-verification-http-base", site.base])


def api(server, token):
    session = requests.Session()
    session.headers.update(bearer(token))
    base = server.api

    class Client:
        def get(self, path):
            return session.get(base + path, timeout=30)

        def post(self, path, body):
            return session.post(base + path, json=body, timeout=30)

        def delete(self, path):
            return session.delete(base + path, timeout=30)

    return Client()


def error(response) -> tuple[str, str]:
    body = response.json()["error"]
    return body["code"], body["message"]


def test_dns_verification_through_the_api(verifying_server, store, rampart_bin, dns):
    org_a, org_b = new_org(rampart_bin, store.args), new_org(rampart_bin, store.args)
    a, b = api(verifying_server, org_a["apiToken"]), api(verifying_server, org_b["apiToken"])
    domain = fresh_domain()

    # The claim says exactly what to publish; a second organisation may claim it too.
    response = a.post("/domains", {"domain": f"  {domain.upper()}. "})
    assert response.status_code == 201, response.text
    claim_a = response.json()
    assert claim_a["domain"] == domain and claim_a["status"] == "pending" and claim_a["lastCheck"] is None
    assert claim_a["dns"]["recordType"] == "TXT" and claim_a["dns"]["name"] == f"_rampart-challenge.{domain}"
    assert claim_a["dns"]["value"].startswith("rampart-domain-verification=")
    assert claim_a["http"] == {"url": f"https://{domain}/.well-known/rampart-domain-verification.txt",
                               "content": claim_a["dns"]["value"]}
    claim_b = b.post("/domains", {"domain": domain}).json()
    assert claim_b["dns"]["value"] != claim_a["dns"]["value"]

    # Bad input changes nothing.
    for bad, words in [("", "must not be empty"), ("10.0.0.1", "IP address"), ("test", "two labels"),
                       ("https://x.test/", "no scheme")]:
        refused = a.post("/domains", {"domain": bad})
        assert refused.status_code == 400 and words in error(refused)[1], (bad, refused.text)
    assert a.post(f"/domains/{claim_a['id']}/verify", {"method": "carrier-pigeon"}).status_code == 400
    assert len(a.get("/domains").json()["data"]) == 1

    # Nothing published yet: the answer says where it looked.
    missing = a.post(f"/domains/{claim_a['id']}/verify", {"method": "dns"})
    assert missing.status_code == 422, missing.text
    assert error(missing) == ("domain_not_verified",
                              f"No TXT record at _rampart-challenge.{domain}; publish {claim_a['dns']['value']} there.")

    # The other organisation's token is published: found, but not this claim's.
    dns.publish(claim_b["dns"]["name"], claim_b["dns"]["value"])
    wrong = a.post(f"/domains/{claim_a['id']}/verify", {"method": "dns"})
    assert wrong.status_code == 422, wrong.text
    assert "Found 1 TXT record at" in error(wrong)[1] and "none holds this domain's token" in error(wrong)[1]
    assert a.get(f"/domains/{claim_a['id']}").json()["lastCheck"]["error"] == error(wrong)[1]

    # A's token published beside it: A verifies.
    dns.publish(claim_a["dns"]["name"], claim_a["dns"]["value"])
    verified = a.post(f"/domains/{claim_a['id']}/verify", {"method": "dns"})
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified" and verified.json()["verifiedMethod"] == "dns"
    assert verified.json()["lastCheck"]["error"] is None

    # B's own record is there too, but A was first: 409, and B is not told who holds it.
    late = b.post(f"/domains/{claim_b['id']}/verify", {"method": "dns"})
    assert late.status_code == 409, late.text
    code, message = error(late)
    assert code == "conflict" and "already verified by another organisation" in message
    for secret in (org_a["organization"]["id"], org_a["organization"]["slug"], org_a["organization"]["name"]):
        assert secret not in message
    assert b.get(f"/domains/{claim_b['id']}").json()["status"] == "pending"
    assert b.post("/domains", {"domain": fresh_domain()}).status_code == 201

    # Users in the domain are A's managed accounts, and B may not add them.
    ada = a.post("/users", {"email": f"ada@{domain}", "displayName": "Ada"}).json()
    other = a.post("/users", {"email": f"ada@elsewhere-{uuid.uuid4().hex[:6]}.test", "displayName": "Ada"}).json()
    assert a.get(f"/users/{ada['id']}").json()["managed"] is True
    assert a.get(f"/users/{other['id']}").json()["managed"] is False
    assert {u["id"] for u in a.get("/users?limit=200").json()["data"] if u["managed"]} == {ada["id"]}
    refused = b.post("/users", {"email": f"grace@{domain}", "displayName": "Grace"})
    assert refused.status_code == 409
    assert error(refused)[1] == f"The domain {domain} is verified by another organisation; its users are managed there."

    # B's token sees none of A's claims and can change none.
    assert claim_a["id"] not in [c["id"] for c in b.get("/domains").json()["data"]]
    assert b.get(f"/domains/{claim_a['id']}").status_code == 404
    assert b.post(f"/domains/{claim_a['id']}/verify", {"method": "dns"}).status_code == 404
    assert b.delete(f"/domains/{claim_a['id']}").status_code == 404
    assert a.get(f"/domains/{claim_a['id']}").json()["status"] == "verified"

    actions = [e["action"] for e in a.get("/audit-events?action=domain.&limit=50").json()["data"]]
    assert actions == ["domain.verified", "domain.verification_failed", "domain.verification_failed", "domain.claimed"]
    failed = b.get("/audit-events?action=domain.verification_failed").json()["data"][0]
    assert failed["outcome"] == "failure" and failed["details"]["method"] == "dns"

    # Deleting A's claim frees the domain: B verifies with the record it published.
    assert a.delete(f"/domains/{claim_a['id']}").status_code == 204
    assert a.get(f"/users/{ada['id']}").json()["managed"] is False
    assert b.post(f"/domains/{claim_b['id']}/verify", {"method": "dns"}).json()["status"] == "verified"


def test_http_verification(verifying_server, store, rampart_bin, site):
    org = new_org(rampart_bin, store.args)
    a = api(verifying_server, org["apiToken"])
    domain = fresh_domain()
    claim = a.post("/domains", {"domain": domain}).json()
    url = claim["http"]["url"]

    absent = a.post(f"/domains/{claim['id']}/verify", {"method": "http"})
    assert absent.status_code == 422 and error(absent)[1] == f"{url} answered HTTP 404.", absent.text
    site.answers[domain] = (302, "", {"Location": "https://elsewhere.test/token.txt"})
    moved = a.post(f"/domains/{claim['id']}/verify", {"method": "http"})
    assert moved.status_code == 422 and "a redirect, which is not followed" in error(moved)[1], moved.text
    site.answers[domain] = (200, "rampart-domain-verification=0123456789abcdef0123456789abcdef\n", {})
    wrong = a.post(f"/domains/{claim['id']}/verify", {"method": "http"})
    assert wrong.status_code == 422 and "does not hold this domain's token" in error(wrong)[1], wrong.text
    site.answers[domain] = (200, "x" * 5000, {})
    large = a.post(f"/domains/{claim['id']}/verify", {"method": "http"})
    assert large.status_code == 422 and "larger than 4096 bytes" in error(large)[1], large.text

    site.answers[domain] = (200, f"# for Rampart\n{claim['http']['content']}\n", {})
    verified = a.post(f"/domains/{claim['id']}/verify", {"method": "http"})
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified" and verified.json()["verifiedMethod"] == "http"
    # Every fetch asked for the domain by name at the well-known path.
    assert set(site.requests) == {(domain, "/.well-known/rampart-domain-verification.txt")}


def test_dns_verification_through_the_cli(sqlite, rampart_bin, dns):
    org = new_org(rampart_bin, sqlite.args)
    slug = org["organization"]["slug"]
    domain = fresh_domain()
    tenant = ["--org", slug, *sqlite.args]
    claim = run_cli_json(rampart_bin, "domain", "claim", "--domain", domain, *tenant, "--json")
    assert claim["status"] == "pending" and claim["dns"]["name"] == f"_rampart-challenge.{domain}"
    shown = run_cli(rampart_bin, "domain", "show", "--domain", domain, *tenant).stdout
    assert claim["dns"]["value"] in shown and f"_rampart-challenge.{domain}" in shown

    missing = run_cli(rampart_bin, "domain", "verify", "--domain", domain, "--method", "dns", "--dns-server", dns.address,
                      *tenant, check=False)
    assert missing.returncode == 2 and f"No TXT record at _rampart-challenge.{domain}" in missing.stderr, missing.stderr
    dns.publish(claim["dns"]["name"], claim["dns"]["value"])
    verified = run_cli_json(rampart_bin, "domain", "verify", "--domain", claim["id"], "--method", "dns",
                            "--dns-server", dns.address, *tenant, "--json")
    assert verified["status"] == "verified" and verified["verifiedMethod"] == "dns"
    listed = run_cli_json(rampart_bin, "domain", "list", *tenant, "--json")["data"]
    assert [(c["domain"], c["status"]) for c in listed] == [(domain, "verified")]

    # Another organisation's CLI user is refused, even with the record published.
    other = new_org(rampart_bin, sqlite.args)
    refused = run_cli(rampart_bin, "domain", "claim", "--domain", domain, "--org", other["organization"]["slug"],
                      *sqlite.args, check=False)
    assert refused.returncode == 2 and "already verified by another organisation" in refused.stderr
    user = run_cli(rampart_bin, "user", "create", "--email", f"grace@{domain}", "--name", "Grace",
                   "--org", other["organization"]["slug"], *sqlite.args, check=False)
    assert user.returncode == 2 and "its users are managed there" in user.stderr, user.stderr

    deleted = run_cli(rampart_bin, "domain", "delete", "--domain", domain, *tenant).stdout
    assert f"Deleted the claim on {domain}" in deleted
    assert run_cli_json(rampart_bin, "domain", "list", *tenant, "--json")["data"] == []


def test_console_domains_page(server_factory, sqlite, rampart_bin, dns, tmp_path):
    server = server_factory(sqlite, extra_args=["--dns-server", dns.address])
    admin = f"admin-{uuid.uuid4().hex[:8]}@console.example.test"
    org = run_cli_json(rampart_bin, "org", "create", "--name", f"Console {uuid.uuid4().hex[:6]}", "--admin-email", admin,
                       *sqlite.args, "--public-url", server.base_url, "--json")
    domain = fresh_domain()
    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        find(driver, By.LINK_TEXT, "Domains", steps).click()
        assert "No domains claimed yet." in find(driver, By.TAG_NAME, "main", steps).text, steps.context()

        # An empty claim is refused beside its field.
        fill(driver, steps, domain=" ")
        submit(driver, steps, "claim-domain")
        assert "must not be empty" in find(driver, By.ID, "domain-error", steps).text, steps.context()
        fill(driver, steps, domain=domain)
        submit(driver, steps, "claim-domain")
        assert "Domain claimed" in find(driver, By.ID, "notice", steps).text, steps.context()

        claim = run_cli_json(rampart_bin, "domain", "show", "--domain", domain, "--org", org["organization"]["slug"],
                             *sqlite.args, "--json")
        section = find(driver, By.ID, f"domain-{claim['id']}", steps)
        assert section.find_element(By.CLASS_NAME, "dns-name").text == f"_rampart-challenge.{domain}"
        assert section.find_element(By.CLASS_NAME, "proof").text == claim["dns"]["value"]

        # Verifying before the record exists says what was looked up.
        submit(driver, steps, f"verify-{claim['id']}")
        assert f"No TXT record at _rampart-challenge.{domain}" in find(
            driver, By.CLASS_NAME, "verify-error", steps).text, steps.context()

        dns.publish(claim["dns"]["name"], claim["dns"]["value"])
        Select(find(driver, By.ID, f"method-{claim['id']}", steps)).select_by_value("dns")
        submit(driver, steps, f"verify-{claim['id']}")
        assert "Domain verified" in find(driver, By.ID, "notice", steps).text, steps.context()
        section = find(driver, By.ID, f"domain-{claim['id']}", steps)
        assert "verified" in section.find_element(By.CLASS_NAME, "badge").text, steps.context()

        # A person in the domain is shown as a managed account.
        ada = run_cli_json(rampart_bin, "user", "create", "--email", f"ada@{domain}", "--name", "Ada",
                           "--org", org["organization"]["slug"], *sqlite.args, "--json")
        assert ada["managed"] is True
        driver.get(f"{server.base_url}/console/users/{ada['id']}")
        assert find(driver, By.ID, "user-managed", steps).text.startswith("managed:"), steps.context()
        driver.get(f"{server.base_url}/console/domains")

        # Delete asks first.
        find(driver, By.ID, f"delete-{claim['id']}", steps).click()
        assert f"Delete the claim on {domain}?" in find(driver, By.ID, "confirm-question", steps).text, steps.context()
        submit(driver, steps, "confirm")
        assert "Deleted." in find(driver, By.ID, "notice", steps).text, steps.context()
        assert "No domains claimed yet." in find(driver, By.TAG_NAME, "main", steps).text
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()
