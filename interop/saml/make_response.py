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
import time

from pysaml2_idp import authn_response, idp_server, make_keys, sp_metadata

IDP_ENTITY_ID = "https://idp.peers.test/idp"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sp_entity_id")
    parser.add_argument("acs_url")
    parser.add_argument("out_dir")
    parser.add_argument("--in-response-to")
    parser.add_argument("--sign-response", action="store_true")
    parser.add_argument("--name", default="pysaml2")
    args = parser.parse_args()
    key, cert = make_keys(args.out_dir, f"{args.name}-idp")
    server = idp_server(IDP_ENTITY_ID, "https://idp.peers.test/sso", key, cert, [sp_metadata(args.sp_entity_id, args.acs_url)])
    issued = int(time.time())
    xml = authn_response(server, {"uid": ["alice"], "mail": ["alice@example.test"], "displayName": ["Alice Example"]},
                         "alice@example.test", args.in_response_to, args.acs_url, args.sp_entity_id,
                         sign_response=args.sign_response)
    with open(os.path.join(args.out_dir, f"{args.name}-response.b64"), "w") as f:
        f.write(base64.b64encode(xml.encode()).decode() + "\n")
    with open(os.path.join(args.out_dir, f"{args.name}-response.json"), "w") as f:
        json.dump({"idpEntityId": IDP_ENTITY_ID, "spEntityId": args.sp_entity_id, "acsUrl": args.acs_url,
                   "requestId": args.in_response_to, "validAt": issued + 60}, f, indent=2)
        f.write("\n")
    os.remove(key)  # the private key is not needed to validate, and not checked in


if __name__ == "__main__":
    main()
