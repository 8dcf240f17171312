"""pysaml2's identity provider (saml2.server.Server), written by others, as the interop tests use it:
`idp_server` builds it for make_response.py (no web server), and `PySAML2IdP` serves it over HTTP for
interop/test_sso_saml.py — its metadata at /metadata, the HTTP-Redirect binding's single sign-on
endpoint at /sso, answering with pysaml2's HTTP-POST form (RSA-SHA256, SHA-256 digests, the assertion
signed). The person it signs in is whoever the test sets in `identity`: there is no login form.
"""
from __future__ import annotations

import contextlib
import functools
import os
import socket
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import parse_qs, urlparse

import saml2.assertion
import saml2.entity
import saml2.sigver
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

PASSWORD_CLASS = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def make_keys(directory: str, name: str) -> tuple[str, str]:
    """A new RSA-2048 key and self-signed certificate, made with openssl as an IdP admin would."""
    key, cert = os.path.join(directory, f"{name}.key"), os.path.join(directory, f"{name}.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-sha256", "-nodes", "-days", "3650",
                    "-keyout", key, "-out", cert, "-subj", f"/CN={name}"], check=True, capture_output=True)
    return key, cert


def sp_metadata(entity_id: str, acs: str) -> str:
    """The least SP metadata pysaml2 needs to answer an SP (make_response.py has no Rampart to ask)."""
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location="{acs}" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"""


def idp_config(entity_id: str, sso_url: str, key: str, cert: str, sp_metadata_documents: list[str],
               lifetime_minutes: int = 15) -> IdPConfig:
    return IdPConfig().load({
        "entityid": entity_id, "xmlsec_binary": "/usr/bin/xmlsec1", "key_file": key, "cert_file": cert,
        "metadata": {"inline": sp_metadata_documents},
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(sso_url, BINDING_HTTP_REDIRECT)]},
            "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
            "policy": {"default": {"lifetime": {"minutes": lifetime_minutes}, "attribute_restrictions": None,
                                   "name_form": NAME_FORMAT_URI}},
            "signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256}},
    })


def idp_server(entity_id: str, sso_url: str, key: str, cert: str, sp_metadata_documents: list[str],
               lifetime_minutes: int = 15) -> Server:
    return Server(config=idp_config(entity_id, sso_url, key, cert, sp_metadata_documents, lifetime_minutes))


AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"


def authn_response(server: Server, identity: dict, name_id: str, in_response_to: str | None, destination: str,
                   sp_entity_id: str, sign_response: bool = False, sign_assertion: bool = True,
                   sign_alg: str = SIG_RSA_SHA256, authn_class: str = PASSWORD_CLASS, encrypt: bool = False) -> str:
    """A signed Response as pysaml2 writes it (the assertion signed, the Response too if asked). With
    `encrypt`, the assertion is encrypted (AES-256-CBC, RSA-OAEP) for the SP's encryption certificate
    in its metadata: pysaml2's own choice, 3DES-CBC, no longer encrypts with OpenSSL 3."""
    encryption = contextlib.nullcontext()
    if encrypt:
        server.sec.encrypt_assertion = functools.partial(type(server.sec).encrypt_assertion, server.sec, key_type="aes-256")
        encryption = mock.patch.object(saml2.entity, "pre_encryption_part",
                                       functools.partial(saml2.sigver.pre_encryption_part, msg_enc=AES256_CBC))
    with encryption:
        return str(server.create_authn_response(
            identity=identity, in_response_to=in_response_to, destination=destination, sp_entity_id=sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=name_id), authn={"class_ref": authn_class},
            sign_assertion=sign_assertion, sign_response=sign_response, sign_alg=sign_alg, digest_alg=DIGEST_SHA256,
            encrypt_assertion=encrypt))


@contextlib.contextmanager
def clock_shifted(seconds: int):
    """pysaml2 writing as if its clock were `seconds` ahead (negative: behind): NotBefore and the lifetimes move."""
    from datetime import datetime, timedelta, timezone

    from saml2 import time_util

    def shifted_instant(format=time_util.TIME_FORMAT, time_stamp=0):
        return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime(format)

    original = time_util.time_in_a_while

    def shifted_while(*args, **kwargs):
        return original(*args, **kwargs) + timedelta(seconds=seconds)

    with mock.patch.object(saml2.assertion, "instant", shifted_instant), \
            mock.patch.object(time_util, "time_in_a_while", shifted_while):
        yield


class PySAML2IdP:
    """pysaml2's IdP on a loopback port. Tests set `identity` (the person), and may change how the
    next answers are made: `sign_alg`, `sign_response`, `sign_assertion`, `encrypt`, `keys` (another key pair), `overrides`
    (destination, audience, in_response_to) and `clock_shift`."""

    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix="rampart-pysaml2-idp-")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.entity_id = f"{self.base}/metadata"
        self.sso_url = f"{self.base}/sso"
        self.keys = make_keys(self.workdir, "pysaml2-idp")
        self.sp_metadata: list[str] = []
        self.identity: tuple[str, dict] | None = None
        self.authn_class = PASSWORD_CLASS
        self.sign_alg = SIG_RSA_SHA256
        self.sign_response = False
        self.sign_assertion = True
        self.encrypt = False
        self.overrides: dict = {}
        self.clock_shift = 0
        self.requests: list[dict] = []
        self.last_response: str | None = None
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def add_sp(self, metadata_xml: str):
        """Trusts an SP by its metadata (Rampart's, read from the provider's metadataUrl)."""
        self.sp_metadata.append(metadata_xml)

    def server(self) -> Server:
        key, cert = self.keys
        return idp_server(self.entity_id, self.sso_url, key, cert, self.sp_metadata)

    def metadata(self) -> str:
        return str(entity_descriptor(self.server().config))

    def certificate(self) -> str:
        with open(self.keys[1]) as f:
            return f.read()

    def answer(self, saml_request: str, relay_state: str | None) -> str:
        """The auto-submitting HTTP-POST form pysaml2 answers an AuthnRequest with."""
        with self._lock:
            server = self.server()
            request = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
            acs = request.assertion_consumer_service_url
            self.requests.append({"id": request.id, "issuer": request.issuer.text, "acs": acs})
            name_id, identity = self.identity
            options = dict(destination=acs, sp_entity_id=request.issuer.text, in_response_to=request.id)
            options.update(self.overrides)
            with clock_shifted(self.clock_shift):
                xml = authn_response(server, identity, name_id, sign_response=self.sign_response,
                                     sign_assertion=self.sign_assertion, sign_alg=self.sign_alg,
                                     authn_class=self.authn_class, encrypt=self.encrypt, **options)
            self.last_response = xml
            post = server.apply_binding(BINDING_HTTP_POST, xml, destination=options["destination"], relay_state=relay_state,
                                        response=True)
            return post["data"]

    def _handler(self):
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: str, content_type: str):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlparse(self.path)
                if url.path == "/metadata":
                    return self._send(200, idp.metadata(), "application/samlmetadata+xml")
                if url.path == "/sso":
                    query = parse_qs(url.query)
                    try:
                        page = idp.answer(query["SAMLRequest"][0], query.get("RelayState", [None])[0])
                    except Exception as error:  # the test reads the reason in the page
                        return self._send(400, f"pysaml2 refused the request: {error!r}", "text/plain")
                    return self._send(200, page, "text/html")
                self._send(404, "not found", "text/plain")

        return Handler
