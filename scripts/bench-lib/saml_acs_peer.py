"""The peer of `rampart-bench saml-acs`: python3-saml (OneLogin_Saml2_Response.is_valid, strict, signed
assertion wanted) validating the same responses, on as many processes as there are cores.

    .venv/bin/python scripts/bench-lib/saml_acs_peer.py DIR [PROCESSES]

DIR is what `rampart-bench saml-acs --out DIR` wrote. Prints one JSON line.
"""
import json
import multiprocessing
import os
import sys
import time
from urllib.parse import urlsplit

from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings

DIRECTORY = sys.argv[1]


def settings():
    facts = json.load(open(os.path.join(DIRECTORY, "settings.json")))
    certificate = open(os.path.join(DIRECTORY, "idp.crt")).read()
    acs = urlsplit(facts["acsUrl"])
    saml_settings = OneLogin_Saml2_Settings({
        "strict": True,
        "sp": {"entityId": facts["spEntityId"],
               "assertionConsumerService": {"url": facts["acsUrl"], "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"}},
        "idp": {"entityId": facts["idpEntityId"], "singleSignOnService": {"url": "https://idp.bench.test/sso"},
                "x509cert": certificate},
        "security": {"wantAssertionsSigned": True, "rejectDeprecatedAlgorithm": True},
    }, sp_validation_only=True)
    request_data = {"https": "on", "http_host": acs.hostname, "server_port": 443, "script_name": acs.path}
    return saml_settings, request_data, facts["requestId"]


def validate(chunk):
    saml_settings, request_data, request_id = settings()
    accepted = 0
    for response in chunk:
        if OneLogin_Saml2_Response(saml_settings, response).is_valid(request_data, request_id, raise_exceptions=False):
            accepted += 1
    return accepted


def main():
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count()
    responses = [line for line in open(os.path.join(DIRECTORY, "responses.b64")).read().split("\n") if line]
    chunks = [responses[i::processes] for i in range(processes)]
    with multiprocessing.Pool(processes) as pool:
        pool.map(validate, [chunk[:1] for chunk in chunks])  # imports and settings warmed in every process
        start = time.perf_counter()
        accepted = sum(pool.map(validate, chunks))
        seconds = time.perf_counter() - start
    print(json.dumps({"peer": "python3-saml", "responses": len(responses), "processes": processes,
                      "responsesPerSecond": int(len(responses) / seconds), "allAccepted": accepted == len(responses)}))


if __name__ == "__main__":
    main()
