"""Sign-in to Rampart through an organisation's SAML 2.0 identity provider (Rampart as service
provider): pysaml2 (written by others) runs as a real HTTP IdP (saml/pysaml2_idp.py) that imports
Rampart's SP metadata and answers the HTTP-Redirect AuthnRequest with a signed HTTP-POST response.
A full SP-initiated sign-in with just-in-time provisioning and group mapping, test connection, a
console sign-in in Chromium, and the attack suite: each forgery (saml/attacks.py) posted to the real
ACS over HTTP and refused with its `sso.signin_failed` reason."""

from __future__ import annotations

import html
import re
import sys
import uuid
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent / "saml"))

import attacks  # noqa: E402
from pysaml2_idp import PySAML2IdP, make_keys  # noqa: E402
from saml2.xmldsig import SIG_RSA_SHA1  # noqa: E402
from conftest import new_org, run_cli, run_cli_json  # noqa: E402
from test_sso_oidc import Org, console_shows_provider, onward, store  # noqa: E402,F401 (the store fixture)


@pytest.fixture
def idp():
    provider = PySAML2IdP()
    yield provider
    provider.close()


@pytest.fixture
def saml_org(server_factory, sqlite, rampart_bin, idp):
    """A server on SQLite, an organisation, and its SAML provider configured from pysaml2's metadata."""
    server = server_factory(sqlite)
    org = Org(server, rampart_bin, sqlite)
    return server, org, saml_provider(org, idp)


def person(idp: PySAML2IdP, prefix: str, **attributes) -> str:
    """The person the IdP signs in next: a new email, as NameID and `mail`."""
    email = f"{prefix}-{uuid.uuid4().hex[:6]}@corp.example.test"
    idp.identity = (email, {"mail": [email], **attributes})
    return email


def saml_provider(org: Org, idp: PySAML2IdP, **settings) -> dict:
    """A SAML provider configured from the IdP's metadata URL, whose SP metadata the IdP then imports."""
    provider = org.ok("POST", "/identity-providers", json={
        "preset": "saml", "name": "pysaml2", "metadataUrl": idp.entity_id, "jit": True,
        "attributes": {"email": "mail", "displayName": "displayName", "groups": "groups"}, **settings})
    assert provider["saml"]["idpEntityId"] == idp.entity_id and provider["saml"]["ssoUrl"] == idp.sso_url
    metadata = requests.get(provider["metadataUrl"], timeout=10)
    assert metadata.status_code == 200 and provider["acsUrl"] in metadata.text
    idp.add_sp(metadata.text)
    return provider


class Flight:
    """One browser's sign-in: started at Rampart, answered by the IdP, about to be posted to the ACS."""

    def __init__(self, start_url: str, browser: requests.Session | None = None):
        self.browser = browser or requests.Session()
        to_idp = self.browser.get(start_url, allow_redirects=False, timeout=15)
        assert to_idp.status_code == 303, to_idp.text[-1500:]
        self.idp_page = requests.get(to_idp.headers["Location"], timeout=30)
        assert self.idp_page.status_code == 200, self.idp_page.text[-1500:]
        self.acs = html.unescape(re.search(r'<form action="([^"]*)"', self.idp_page.text).group(1))
        fields = dict(re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', self.idp_page.text))
        self.fields = {name: html.unescape(value) for name, value in fields.items()}

    @property
    def xml(self) -> str:
        return attacks.decode(self.fields["SAMLResponse"])

    def post(self, xml: str | None = None, acs: str | None = None, relay_state: bool = True,
             browser: requests.Session | None = None) -> requests.Response:
        """Posts the IdP's form (or `xml` in its place), from the IdP's site as a browser does."""
        data = {"SAMLResponse": attacks.encode(xml) if xml is not None else self.fields["SAMLResponse"]}
        if relay_state and "RelayState" in self.fields:
            data["RelayState"] = self.fields["RelayState"]
        return (browser or self.browser).post(acs or self.acs, data=data, allow_redirects=False, timeout=30,
                                              headers={"Sec-Fetch-Site": "cross-site", "Origin": "http://idp.example"})


def test_pysaml2_signs_a_person_in_with_jit_and_groups(server_factory, store, rampart_bin, idp):
    server = server_factory(store)
    org = Org(server, rampart_bin, store)
    engineers = org.ok("POST", "/groups", json={"name": "engineers"})
    auditors = org.ok("POST", "/groups", json={"name": "auditors"})
    provider = saml_provider(org, idp)
    email = person(idp, "alice", displayName=["Alice SAML"], groups=["engineers", "unknown-team"])

    flight = Flight(provider["signInUrl"])
    assert idp.requests[-1]["acs"] == provider["acsUrl"] and idp.requests[-1]["issuer"] == provider["spEntityId"]
    answer = flight.post()
    target = onward(answer)
    assert target == f"/o/{org.slug}/account", target
    account = flight.browser.get(server.base_url + target, timeout=10)
    assert account.status_code == 200 and email in account.text

    user = org.user(email)
    assert user and user["displayName"] == "Alice SAML"
    assert [m["id"] for m in org.ok("GET", f"/groups/{engineers['id']}/members")["data"]] == [user["id"]]
    succeeded = org.ok("GET", "/audit-events?action=auth.signin_succeeded&limit=5")["data"][0]
    assert succeeded["details"]["method"] == "sso" and succeeded["details"]["provider_id"] == provider["id"]
    # The same form posted again is refused: its attempt is used.
    assert flight.post().status_code == 403
    assert org.failures() == ["attempt_replayed"]

    # A later sign-in updates the mapped name and groups; deactivated, the person is refused.
    idp.identity = (email, {"mail": [email], "displayName": ["Alice Renamed"], "groups": ["auditors"]})
    assert onward(Flight(provider["signInUrl"]).post()) == f"/o/{org.slug}/account"
    assert org.user(email)["displayName"] == "Alice Renamed"
    assert org.ok("GET", f"/groups/{engineers['id']}/members")["data"] == []
    assert [m["id"] for m in org.ok("GET", f"/groups/{auditors['id']}/members")["data"]] == [user["id"]]
    org.ok("POST", f"/users/{user['id']}/deactivate")
    assert Flight(provider["signInUrl"]).post().status_code == 403
    assert org.failures()[0] == "user_deactivated"


def test_a_signed_response_alone_is_accepted_only_when_the_provider_says_so(saml_org, idp):
    server, org, provider = saml_org
    person(idp, "rita")
    idp.sign_response, idp.sign_assertion = True, False
    assert Flight(provider["signInUrl"]).post().status_code == 403
    assert org.failures() == ["saml_signature_missing"]
    org.ok("PATCH", f"/identity-providers/{provider['id']}", json={"requireSignedAssertion": False})
    assert onward(Flight(provider["signInUrl"]).post()) == f"/o/{org.slug}/account"


def test_an_encrypted_assertion_is_decrypted_with_the_providers_sp_key(saml_org, idp):
    server, org, provider = saml_org
    email = person(idp, "enc")
    # For the SP certificate pysaml2 read from Rampart's metadata.
    idp.encrypt = True
    flight = Flight(provider["signInUrl"])
    assert "EncryptedAssertion" in flight.xml and email not in flight.xml
    assert onward(flight.post()) == f"/o/{org.slug}/account"
    assert org.user(email) is not None and org.failures() == []


def test_the_idps_mfa_counts_only_when_trusted_and_its_authn_context_says_so(saml_org, idp):
    server, org, provider = saml_org
    user = org.ok("POST", "/users", json={"email": f"mfa-{uuid.uuid4().hex[:6]}@corp.example.test", "displayName": "M"})
    policy = org.ok("POST", "/authentication-policies", json={"name": f"MFA {uuid.uuid4().hex[:6]}",
                                                              "settings": {"mfaRequired": True}})
    assert org.api("PUT", f"/authentication-policies/{policy['id']}/users/{user['id']}").status_code == 204
    idp.identity = (user["email"], {"mail": [user["email"]]})
    idp.authn_class = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
    enrol = f"/o/{org.slug}/account/mfa/enrol"
    # Not trusted: Rampart's own second factor follows (here its enrolment, the person has none).
    assert onward(Flight(provider["signInUrl"]).post()) == enrol
    org.ok("PATCH", f"/identity-providers/{provider['id']}", json={"trustIdpMfa": True})
    assert onward(Flight(provider["signInUrl"]).post()) == f"/o/{org.slug}/account"
    succeeded = org.ok("GET", "/audit-events?action=auth.signin_succeeded&limit=1")["data"][0]
    assert succeeded["details"]["provider_mfa"] is True
    # Trusted, but the IdP says a password was all: the step-up again.
    idp.authn_class = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    assert onward(Flight(provider["signInUrl"]).post()) == enrol
    # The list is the provider's: one naming only REFEDS MFA no longer takes MobileTwoFactorContract.
    org.ok("PATCH", f"/identity-providers/{provider['id']}", json={"mfaAuthnContexts": ["https://refeds.org/profile/mfa"]})
    idp.authn_class = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
    assert onward(Flight(provider["signInUrl"]).post()) == enrol


def test_test_connection_shows_the_attributes_or_the_error(server_factory, sqlite, rampart_bin, idp):
    server = server_factory(sqlite)
    org = Org(server, rampart_bin, sqlite)
    provider = saml_provider(org, idp, enabled=False)
    email = person(idp, "tess", groups=["g1"])
    link = org.ok("POST", f"/identity-providers/{provider['id']}/test")["signInUrl"]
    answer = Flight(link).post()
    assert answer.status_code == 200 and "Test finished" in answer.text
    result = org.ok("GET", f"/identity-providers/{provider['id']}/test")["result"]
    assert result["ok"] is True and result["email"] == email and result["groups"] == ["g1"]
    assert result["received"]["NameID"] == email and result["received"]["mail"] == email
    assert org.user(email) is None, "a test creates no account"

    # Signed with another key: the plain-words error names the certificate's fingerprint.
    idp.keys = make_keys(idp.workdir, "rolled-over")
    Flight(org.ok("POST", f"/identity-providers/{provider['id']}/test")["signInUrl"]).post()
    result = org.ok("GET", f"/identity-providers/{provider['id']}/test")["result"]
    assert result["ok"] is False and result["reason"] == "saml_certificate_not_configured"
    assert "not configured" in result["message"] and "fingerprint is" in result["message"]


# MARK: - The attack suite, against the real ACS


@pytest.fixture
def target(saml_org, idp):
    server, org, provider = saml_org
    email = person(idp, "victim", groups=["admins"])
    org.ok("POST", "/users", json={"email": email, "displayName": "Victim"})
    return server, org, provider, email


def refused(org: Org, answer: requests.Response, reason: str):
    """Refused, nobody signed in, and the newest `sso.signin_failed` event carries `reason`."""
    assert answer.status_code == 403, answer.text[-800:]
    assert "rampart_session=" not in answer.headers.get("Set-Cookie", "").replace("rampart_session=;", "")
    assert org.failures()[0] == reason


# XSW5-7 keep the signed assertion's ID on two elements: refused as malformed before the count.
FORGERIES = [
    ("XSW3", attacks.xsw3, "saml_assertion_count"),
    ("XSW4", attacks.xsw4, "saml_assertion_count"),
    ("XSW5", attacks.xsw5, "saml_malformed"),
    ("XSW6", attacks.xsw6, "saml_malformed"),
    ("XSW7", attacks.xsw7, "saml_malformed"),
    ("XSW8", attacks.xsw8, "saml_assertion_count"),
    ("signature removed", attacks.signature_removed, "saml_signature_missing"),
    ("two assertions", attacks.two_assertions, "saml_assertion_count"),
    ("DOCTYPE", attacks.doctype, "saml_doctype_forbidden"),
    ("external entity", attacks.external_entity, "saml_doctype_forbidden"),
    ("billion laughs", attacks.billion_laughs, "saml_doctype_forbidden"),
    ("XSLT transform", attacks.xslt_transform, "saml_transform_not_allowed"),
]


@pytest.mark.parametrize("name,forge,reason", FORGERIES, ids=[f[0] for f in FORGERIES])
def test_each_forged_response_is_refused_with_its_reason(target, name, forge, reason):
    server, org, provider, email = target
    flight = Flight(provider["signInUrl"])
    refused(org, flight.post(forge(flight.xml)), reason)
    assert org.failures() == [reason]
    assert org.ok("GET", f"/identity-providers/{provider['id']}")["recentFailures"][0]["reason"] == reason


def test_the_forgeries_fail_for_what_they_change(target):
    """The control: the genuine response, parsed and written again as the forgeries are, signs in."""
    server, org, provider, email = target
    flight = Flight(provider["signInUrl"])
    assert onward(flight.post(attacks.unchanged(flight.xml))) == f"/o/{org.slug}/account"


@pytest.mark.parametrize("name,forge,reason", [
    ("XSW1", attacks.xsw1, "saml_assertion_count"),
    ("XSW1 without the copy's assertion", attacks.xsw1_lean, "saml_signature_invalid"),
    ("XSW2", attacks.xsw2, "saml_assertion_count"),
], ids=["XSW1", "XSW1 lean", "XSW2"])
def test_wrapping_a_signed_response_is_refused(target, idp, name, forge, reason):
    """XSW1 and XSW2 move a signed Response: the provider accepts a signed Response alone here."""
    server, org, provider, email = target
    org.ok("PATCH", f"/identity-providers/{provider['id']}", json={"requireSignedAssertion": False})
    idp.sign_response, idp.sign_assertion = True, False
    flight = Flight(provider["signInUrl"])
    refused(org, flight.post(forge(flight.xml)), reason)


def test_a_comment_inside_name_id_never_shortens_it(target, idp):
    server, org, provider, email = target
    org.ok("PATCH", f"/identity-providers/{provider['id']}", json={"jit": False})
    longer = email + ".evil.test"
    idp.identity = (longer, {"mail": [longer]})
    flight = Flight(provider["signInUrl"])
    # Signed for the longer name; the comment would leave the victim's address in the first text node.
    refused(org, flight.post(attacks.comment_in_name_id(flight.xml)), "no_account")
    assert org.ok("GET", "/audit-events?action=sso.identity_linked")["data"] == []


def test_a_key_the_idp_never_had_an_old_algorithm_and_wrong_names(target, idp):
    server, org, provider, email = target
    checks = [
        ("re-signed with an attacker's key (its certificate in KeyInfo)", {"keys": make_keys(idp.workdir, "attacker")},
         "saml_certificate_not_configured"),
        ("RSA-SHA1", {"sign_alg": SIG_RSA_SHA1}, "saml_algorithm_not_allowed"),
        ("expired", {"clock_shift": -3600}, "saml_expired"),
        ("not yet valid", {"clock_shift": 3600}, "saml_not_yet_valid"),
    ]
    original = {name: getattr(idp, name) for name in ("keys", "sign_alg", "clock_shift")}
    for name, change, reason in checks:
        for attribute, value in change.items():
            setattr(idp, attribute, value)
        refused(org, Flight(provider["signInUrl"]).post(), reason)
        for attribute, value in original.items():
            setattr(idp, attribute, value)
    assert len(org.failures()) == len(checks)


def test_wrong_audience_recipient_and_destination(target, idp):
    server, org, provider, email = target
    # Audience: pysaml2 writes the SP entity ID it is told; another SP of the same IdP.
    other_sp = "http://sp.elsewhere.test/metadata"
    idp.add_sp(f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{other_sp}">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{provider['acsUrl']}" index="0"/>
</md:SPSSODescriptor></md:EntityDescriptor>""")
    idp.overrides = {"sp_entity_id": other_sp}
    refused(org, Flight(provider["signInUrl"]).post(), "saml_audience_mismatch")
    # Recipient: signed for another ACS; the (unsigned) Response's Destination put back.
    idp.overrides = {"destination": "http://sp.elsewhere.test/acs"}
    flight = Flight(provider["signInUrl"])
    forged = attacks.destination_changed(flight.xml, provider["acsUrl"])
    refused(org, flight.post(forged, acs=provider["acsUrl"]), "saml_recipient_mismatch")
    # Destination: the Response addressed to another ACS.
    idp.overrides = {}
    flight = Flight(provider["signInUrl"])
    refused(org, flight.post(attacks.destination_changed(flight.xml, "http://sp.elsewhere.test/acs")), "saml_destination_mismatch")


def test_unsolicited_reused_and_replayed_responses(target, idp):
    server, org, provider, email = target
    # Unsolicited while IdP-initiated sign-in is off (no RelayState, no attempt).
    first = Flight(provider["signInUrl"])
    refused(org, first.post(relay_state=False, browser=requests.Session()), "saml_unsolicited")
    # A response to an earlier request inside a newer attempt: InResponseTo is bound to the attempt.
    second = Flight(provider["signInUrl"])
    refused(org, second.post(first.xml), "saml_in_response_to_mismatch")
    # The first attempt's own response still signs in once; then its attempt is used.
    assert onward(first.post()) == f"/o/{org.slug}/account"
    refused(org, first.post(), "attempt_replayed")
    # Another browser holding the form (no cookie of the attempt) is refused.
    third = Flight(provider["signInUrl"])
    refused(org, third.post(browser=requests.Session()), "browser_mismatch")
    # With IdP-initiated sign-in on, the same assertion twice: the replay cache (in the database) refuses it.
    org.ok("PATCH", f"/identity-providers/{provider['id']}", json={"allowIdpInitiated": True})
    idp.overrides = {"in_response_to": None}
    unsolicited = Flight(provider["signInUrl"])
    assert onward(unsolicited.post(relay_state=False, browser=requests.Session())) == f"/o/{org.slug}/account"
    refused(org, unsolicited.post(relay_state=False, browser=requests.Session()), "saml_assertion_replayed")


def test_a_response_for_one_organisation_is_refused_at_anothers_acs(server_factory, sqlite, rampart_bin, idp):
    server = server_factory(sqlite)
    a, b = Org(server, rampart_bin, sqlite), Org(server, rampart_bin, sqlite)
    provider_a = saml_provider(a, idp)
    provider_b = saml_provider(b, idp)
    email = person(idp, "dana")
    # B's own sign-in attempt, answered with a response the IdP made for A.
    for_a = Flight(provider_a["signInUrl"])
    at_b = Flight(provider_b["signInUrl"])
    answer = at_b.post(for_a.xml)
    assert answer.status_code == 403
    assert b.failures() == ["saml_destination_mismatch"] and a.failures() == []
    assert b.user(email) is None and a.user(email) is None


def test_a_redirect_binding_message_that_inflates_past_the_limit(target):
    server, org, provider, email = target
    bomb = attacks.deflate_bomb()
    assert len(bomb) < 20_000
    answer = requests.get(provider["acsUrl"], params={"SAMLResponse": bomb}, timeout=30)
    refused(org, answer, "saml_too_large")
    # A small one is inflated and refused for its binding: responses come by HTTP-POST.
    small = attacks.deflate_bomb(size=200)
    refused(org, requests.get(provider["acsUrl"], params={"SAMLResponse": small}, timeout=30), "saml_binding_not_allowed")


# MARK: - A real browser


def test_an_admin_signs_into_the_console_through_pysaml2_in_chromium(server_factory, sqlite, rampart_bin, idp, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    from test_console_browser import Steps, find, make_driver, wait_for

    server = server_factory(sqlite)
    org = Org(server, rampart_bin, sqlite)
    admin = org.ok("GET", f"/users/{org.admin_id}")
    provider = saml_provider(org, idp)
    idp.identity = (admin["email"], {"mail": [admin["email"]], "displayName": ["The Admin"]})
    # A refused response first, for the provider's page to show.
    Flight(provider["signInUrl"]).post(relay_state=False, browser=requests.Session())
    driver = make_driver()
    steps = Steps(driver, tmp_path / "shots")
    try:
        driver.get(f"{server.base_url}/o/{org.slug}/signin")
        find(driver, By.ID, f"sso-{provider['id']}", steps).click()
        # pysaml2's page posts its form on load; Rampart's continue page takes the browser on.
        console_shows_provider(driver, steps, admin["email"], provider["id"], "acs-url", provider["acsUrl"])
        failures = find(driver, By.ID, "failures", steps).text
        assert "saml_unsolicited" in failures and "IdP-initiated sign-in is off" in failures, failures
        # The wizard: a SAML provider added by pasting the IdP's metadata.
        find(driver, By.LINK_TEXT, "Identity providers", steps).click()
        wait_for(driver, lambda d: d.find_elements(By.ID, "create-identity-provider"), "the add form", steps)
        Select(find(driver, By.ID, "preset", steps)).select_by_value("saml")
        find(driver, By.ID, "name", steps).send_keys("Pasted metadata")
        driver.execute_script("document.getElementById('metadata_xml').value = arguments[0]", idp.metadata())
        find(driver, By.ID, "add-identity-provider", steps).click()
        wait_for(driver, lambda d: d.find_elements(By.ID, "acs-url"), "the new provider's page", steps)
        steps.shot("pasted")
        # And one added by uploading the metadata file.
        document = tmp_path / "idp-metadata.xml"
        document.write_text(idp.metadata())
        find(driver, By.LINK_TEXT, "Identity providers", steps).click()
        wait_for(driver, lambda d: d.find_elements(By.ID, "create-identity-provider"), "the add form", steps)
        Select(find(driver, By.ID, "preset", steps)).select_by_value("saml")
        find(driver, By.ID, "name", steps).send_keys("Uploaded metadata")
        find(driver, By.ID, "metadata_file", steps).send_keys(str(document))
        find(driver, By.ID, "add-identity-provider", steps).click()
        wait_for(driver, lambda d: d.find_elements(By.ID, "acs-url"), "the uploaded provider's page", steps)
    finally:
        driver.quit()
    succeeded = org.ok("GET", "/audit-events?action=auth.signin_succeeded&limit=5")["data"][0]
    assert succeeded["details"]["method"] == "sso"
    for name in ("Pasted metadata", "Uploaded metadata"):
        added = [p for p in org.ok("GET", "/identity-providers")["data"] if p["name"] == name]
        assert added and added[0]["saml"]["idpEntityId"] == idp.entity_id and added[0]["saml"]["ssoUrl"] == idp.sso_url, name
        assert added[0]["saml"]["signingCertificateFingerprints"] == provider["saml"]["signingCertificateFingerprints"]


def test_the_cli_imports_saml_metadata_from_a_file_or_a_url(sqlite, rampart_bin, idp, tmp_path):
    org = new_org(rampart_bin, sqlite.args)
    tenant = ["--org", org["organization"]["slug"], *sqlite.args]
    document = tmp_path / "idp-metadata.xml"
    document.write_text(idp.metadata())
    created = run_cli_json(rampart_bin, "idp", "create", *tenant, "--preset", "saml", "--name", "From file",
                           "--metadata-file", str(document), "--public-url", "https://rampart.example", "--json")
    assert created["saml"]["idpEntityId"] == idp.entity_id and created["saml"]["ssoUrl"] == idp.sso_url
    assert created["acsUrl"] == f"https://rampart.example/o/{org['organization']['slug']}/sso/saml/{created['id']}/acs"
    fetched = run_cli_json(rampart_bin, "idp", "create", *tenant, "--preset", "saml", "--name", "From URL",
                           "--metadata-url", idp.entity_id, "--allow-idp-initiated", "true",
                           "--mfa-authn-context", "https://refeds.org/profile/mfa", "--json")
    assert fetched["saml"]["signingCertificates"] == created["saml"]["signingCertificates"]
    assert fetched["saml"]["allowIdpInitiated"] is True and fetched["saml"]["mfaAuthnContexts"] == ["https://refeds.org/profile/mfa"]
    shown = run_cli(rampart_bin, "idp", "show", *tenant, "--id", created["id"]).stdout
    assert "SP metadata URL" in shown and "ACS URL" in shown
    document.write_text("<!DOCTYPE x><x/>")
    bad = run_cli(rampart_bin, "idp", "create", *tenant, "--preset", "saml", "--name", "Bad", "--metadata-file", str(document),
                  check=False)
    assert bad.returncode != 0 and "metadataXml" in bad.stderr and "DOCTYPE" in bad.stderr
    assert len(run_cli_json(rampart_bin, "idp", "list", *tenant, "--json")["data"]) == 2
