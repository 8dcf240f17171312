"""A SAML response made by pysaml2 acting as the identity provider (the real peer, no web server).

    .venv/bin/python interop/saml/make_response.py SP_ENTITY_ID ACS_URL OUT_DIR [--in-response-to ID] [--sign-response]
        [--name NAME]

Writes OUT_DIR/NAME-idp.crt (a new key made with openssl; the key itself is deleted), NAME-response.b64
(the SAMLResponse as POSTed) and NAME-response.json (what a validator needs: the IdP entity ID, the
request ID and a time inside the response's validity window). NAME is pysaml2 unless given.
Tests/RampartSAMLTests/Fixtures holds two such sets, made with:

    .venv/bin/python interop/saml/make_response.py https://rampart.test/saml/sp/pysaml2 \
        https://rampart.test/saml/acs/pysaml2 Tests/RampartSAMLTests/Fixtures --in-response-to _req0123456789abcdef
    .venv/bin/python interop/saml/make_response.py https://rampart.test/saml/sp/pysaml2 \
        https://rampart.test/saml/acs/pysaml2 Tests/RampartSAMLTests/Fixtures --in-response-to _req0123456789abcdef \
        --sign-response --name pysaml2-signed-response
"""
import argparse
import base64
import json
import os
import subprocess
import time

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

IDP_ENTITY_ID = "https://idp.peers.test/idp"


def sp_metadata(entity_id, acs):
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:AssertionConsumerService Binding="{BINDING_HTTP_POST}" Location="{acs}" index="0"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sp_entity_id")
    parser.add_argument("acs_url")
    parser.add_argument("out_dir")
    parser.add_argument("--in-response-to")
    parser.add_argument("--sign-response", action="store_true")
    parser.add_argument("--name", default="pysaml2")
    args = parser.parse_args()
    key = os.path.join(args.out_dir, f"{args.name}-idp.key")
    cert = os.path.join(args.out_dir, f"{args.name}-idp.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-sha256", "-nodes", "-days", "3650",
                    "-keyout", key, "-out", cert, "-subj", "/CN=peers-idp"], check=True, capture_output=True)
    config = IdPConfig().load({
        "entityid": IDP_ENTITY_ID, "xmlsec_binary": "/usr/bin/xmlsec1", "key_file": key, "cert_file": cert,
        "metadata": {"inline": [sp_metadata(args.sp_entity_id, args.acs_url)]},
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [("https://idp.peers.test/sso", BINDING_HTTP_REDIRECT)]},
            "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
            "policy": {"default": {"lifetime": {"minutes": 15}, "attribute_restrictions": None, "name_form": NAME_FORMAT_URI}},
            "signing_algorithm": SIG_RSA_SHA256, "digest_algorithm": DIGEST_SHA256}},
    })
    issued = int(time.time())
    xml = str(Server(config=config).create_authn_response(
        identity={"uid": ["alice"], "mail": ["alice@example.test"], "displayName": ["Alice Example"]},
        in_response_to=args.in_response_to, destination=args.acs_url, sp_entity_id=args.sp_entity_id,
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text="alice@example.test"),
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
        sign_assertion=True, sign_response=args.sign_response, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256))
    with open(os.path.join(args.out_dir, f"{args.name}-response.b64"), "w") as f:
        f.write(base64.b64encode(xml.encode()).decode() + "\n")
    with open(os.path.join(args.out_dir, f"{args.name}-response.json"), "w") as f:
        json.dump({"idpEntityId": IDP_ENTITY_ID, "spEntityId": args.sp_entity_id, "acsUrl": args.acs_url,
                   "requestId": args.in_response_to, "validAt": issued + 60}, f, indent=2)
        f.write("\n")
    os.remove(key)  # the private key is not needed to validate, and not checked in


if __name__ == "__main__":
    main()
