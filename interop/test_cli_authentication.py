"""The admin side of people's authentication with the `rampart` command line, run from another
directory on SQLite and on PostgreSQL: policies and their assignments, a user's effective
policy, sessions and factors made by a real sign-in and TOTP enrolment (pyotp), MFA reset, a
forced password reset whose link works, and password hashes imported one by one or from a
file (bcrypt from the bcrypt package, PBKDF2 from hashlib). Bad input gets a clear message, a
non-zero exit and changes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import uuid

import bcrypt
import pyotp
import pytest
import requests

from conftest import create_org, run_cli, run_cli_json, sqlite_store, unique

PASSWORD = "violet tractor evening 77"


def cli(bin_path, store, *args):
    return run_cli_json(bin_path, *args, *store.args, "--json")


def refused(bin_path, store, *args, exit_code=None):
    proc = run_cli(bin_path, *args, *store.args, check=False)
    assert proc.returncode != 0, proc.stdout
    if exit_code is not None:
        assert proc.returncode == exit_code, (proc.returncode, proc.stderr)
    assert proc.stderr.lower().startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


def events(bin_path, store, slug, *filters):
    return cli(bin_path, store, "audit", "events", "--org", slug, "--limit", "200", *filters)["data"]


def django_pbkdf2(password: str, salt: str = "pepper", iterations: int = 2000) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]*)"', html).group(1)


def sign_in(session: requests.Session, base: str, slug: str, email: str, password: str) -> requests.Response:
    page = session.get(f"{base}/o/{slug}/signin", timeout=10)
    return session.post(f"{base}/o/{slug}/signin", data={"csrf": csrf(page.text), "email": email, "password": password},
                        allow_redirects=False, timeout=30)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    return sqlite_store(tmp_path / "data") if request.param == "sqlite" else request.getfixturevalue("postgres")


@pytest.fixture
def acme(rampart_bin, store):
    slug = f"acme-{uuid.uuid4().hex[:8]}"
    org = create_org(rampart_bin, store.args, "Acme", "admin@acme.example.test", "--slug", slug)
    user = cli(rampart_bin, store, "user", "create", "--org", slug, "--email", "Ada@acme.example.test", "--name", "Ada Lovelace")
    return store, slug, org, user


def test_policies_assignments_and_effective_policy(rampart_bin, acme):
    store, slug, _, ada = acme
    listed = cli(rampart_bin, store, "policy", "list", "--org", slug)["data"]
    assert [p["isDefault"] for p in listed] == [True]
    before = cli(rampart_bin, store, "user", "effective-policy", "--org", slug, "--user", ada["id"])
    assert before["source"] == "default" and before["policies"][0]["id"] == listed[0]["id"]

    strict = cli(rampart_bin, store, "policy", "create", "--org", slug, "--name", "Strict",
                 "--settings", '{"mfaRequired": true, "idleTimeoutSeconds": 600}')
    assert strict["settings"]["mfaRequired"] is True and strict["settings"]["idleTimeoutSeconds"] == 600
    shown = cli(rampart_bin, store, "policy", "show", "--org", slug, "--policy", "strict")
    assert shown.pop("assignments") == [], "one policy shown alone says where it is assigned"
    assert shown == {key: value for key, value in strict.items() if key != "assignments"}
    updated = cli(rampart_bin, store, "policy", "update", "--org", slug, "--policy", strict["id"],
                  "--settings", '{"ipAllowlist": ["10.0.0.0/8", "2001:db8::/32"]}')
    assert updated["settings"]["ipAllowlist"] == ["10.0.0.0/8", "2001:db8::/32"]
    assert updated["settings"]["idleTimeoutSeconds"] == 600, "settings not named keep their values"

    # Assigned to a group (by name) that Ada is in, then to Ada herself (by email, any case).
    cli(rampart_bin, store, "group", "create", "--org", slug, "--name", "Engineers")
    cli(rampart_bin, store, "group", "add-member", "--org", slug, "--group", "Engineers", "--user", ada["id"])
    cli(rampart_bin, store, "policy", "assign", "--org", slug, "--policy", "Strict", "--group", "engineers")
    via_group = cli(rampart_bin, store, "user", "effective-policy", "--org", slug, "--user", "ada@acme.example.test")
    assert via_group["source"] == "groups" and via_group["policies"][0]["groupName"] == "Engineers"
    assert via_group["settings"]["mfaRequired"] is True
    text = run_cli(rampart_bin, "user", "effective-policy", "--org", slug, "--user", ada["id"], *store.args).stdout
    assert "Strict" in text and "through group Engineers" in text and "mfaRequired: true" in text, text

    cli(rampart_bin, store, "policy", "unassign", "--org", slug, "--policy", "Strict", "--group", "Engineers")
    cli(rampart_bin, store, "policy", "assign", "--org", slug, "--policy", "Strict", "--user", "ADA@acme.example.test")
    direct = cli(rampart_bin, store, "user", "effective-policy", "--org", slug, "--user", ada["id"])
    assert direct["source"] == "user" and direct["policies"][0]["id"] == strict["id"]

    # Bad input: a clear message, a non-zero exit, nothing changed.
    seen = len(events(rampart_bin, store, slug))
    assert "No authentication policy 'Lax'" in refused(rampart_bin, store, "policy", "assign", "--org", slug,
                                                       "--policy", "Lax", "--user", ada["id"], exit_code=4)
    assert "No user 'nobody@acme.example.test'" in refused(rampart_bin, store, "policy", "assign", "--org", slug,
                                                           "--policy", "Strict", "--user", "nobody@acme.example.test",
                                                           exit_code=4)
    assert "--user" in refused(rampart_bin, store, "policy", "assign", "--org", slug, "--policy", "Strict")
    assert "settings.idleTimeoutSeconds" in refused(rampart_bin, store, "policy", "update", "--org", slug, "--policy",
                                                    "Strict", "--settings", '{"idleTimeoutSeconds": "soon"}', exit_code=2)
    assert "settings.colour" in refused(rampart_bin, store, "policy", "create", "--org", slug, "--name", "Odd",
                                        "--settings", '{"colour": "red"}', exit_code=2)
    assert "not valid JSON" in refused(rampart_bin, store, "policy", "create", "--org", slug, "--name", "Odd",
                                       "--settings", "{mfa", exit_code=2)
    assert "default" in refused(rampart_bin, store, "policy", "delete", "--org", slug, "--policy", "default", exit_code=2)
    assert "default" in refused(rampart_bin, store, "policy", "assign", "--org", slug, "--policy", "default",
                                "--user", ada["id"], exit_code=2)
    assert len(events(rampart_bin, store, slug)) == seen
    shown = cli(rampart_bin, store, "policy", "show", "--org", slug, "--policy", "Strict")
    assert [a["id"] for a in shown.pop("assignments")] == [ada["id"]]
    assert shown == {key: value for key, value in updated.items() if key != "assignments"}
    assert [p["name"] for p in cli(rampart_bin, store, "policy", "list", "--org", slug)["data"]][1:] == ["Strict"]

    cli(rampart_bin, store, "policy", "delete", "--org", slug, "--policy", "Strict")
    assert cli(rampart_bin, store, "user", "effective-policy", "--org", slug, "--user", ada["id"])["source"] == "default"
    actions = [e["action"] for e in events(rampart_bin, store, slug)]
    assert actions[:7] == ["auth_policy.deleted", "auth_policy.assigned", "auth_policy.assigned", "auth_policy.assigned",
                           "group.member_added", "group.created", "auth_policy.updated"], actions
    assert all(e["actor"]["type"] == "system" for e in events(rampart_bin, store, slug, "--action", "auth_policy.created"))
    assert run_cli(rampart_bin, "audit", "verify", "--org", slug, *store.args).returncode == 0


def test_sessions_factors_reset_and_forced_reset(rampart_bin, server_factory, store):
    server = server_factory(store)
    base = server.base_url
    org = create_org(rampart_bin, store.args, unique("Auth CLI"), f"admin-{uuid.uuid4().hex[:8]}@cli.example.test",
                     "--public-url", base)
    slug = org["organization"]["slug"]
    email = f"member-{uuid.uuid4().hex[:8]}@cli.example.test"
    cli(rampart_bin, store, "user", "create", "--org", slug, "--email", email, "--name", "Mia Member")

    # The forced reset prints its link once; the link sets a password that signs in.
    reset = cli(rampart_bin, store, "user", "force-password-reset", "--org", slug, "--user", email, "--public-url", base)
    assert reset["url"].startswith(f"{base}/o/{slug}/reset?token=") and reset["sessionsEnded"] == 0
    browser = requests.Session()
    page = browser.get(reset["url"], timeout=10)
    done = browser.post(f"{base}/o/{slug}/reset", data={"token": reset["token"], "csrf": csrf(page.text),
                                                       "password": PASSWORD, "password_confirm": PASSWORD},
                        allow_redirects=False, timeout=30)
    assert done.status_code == 303, done.text
    assert sign_in(browser, base, slug, email, PASSWORD).headers["Location"] == f"/o/{slug}/account"

    # Enrol TOTP with pyotp's code, in a second browser from another device.
    enrol = browser.get(f"{base}/o/{slug}/account/mfa/enrol", timeout=10)
    secret = re.search(r'id="totp-secret"[^>]*>([^<]*)<', enrol.text).group(1).strip()
    answer = browser.post(f"{base}/o/{slug}/account/mfa/enrol", data={"csrf": csrf(enrol.text), "code": pyotp.TOTP(secret).now()},
                          timeout=30)
    assert answer.status_code == 200, answer.text[-2000:]
    other = requests.Session()
    other.headers["User-Agent"] = "Interop Phone/1.0"
    assert sign_in(other, base, slug, email, PASSWORD).status_code == 303

    sessions = cli(rampart_bin, store, "user", "sessions", "--org", slug, "--user", email)["data"]
    assert len(sessions) == 2 and {s["ip"] for s in sessions} == {"127.0.0.1"}
    assert "Interop Phone/1.0" in {s["userAgent"] for s in sessions}
    text = run_cli(rampart_bin, "user", "sessions", "--org", slug, "--user", email, *store.args).stdout
    assert "LAST SEEN" in text and "Interop Phone/1.0" in text, text
    factors = cli(rampart_bin, store, "user", "factors", "--org", slug, "--user", email)
    assert [f["kind"] for f in factors["data"]] == ["totp"] and factors["unusedRecoveryCodes"] == 10

    # Bad input first: nothing changes.
    assert "Session not found" in refused(rampart_bin, store, "user", "end-sessions", "--org", slug, "--user", email,
                                   "--session", str(uuid.uuid4()), exit_code=4)
    assert "No user" in refused(rampart_bin, store, "user", "reset-mfa", "--org", slug, "--user", "ghost@cli.example.test",
                                exit_code=4)
    assert "--session" in refused(rampart_bin, store, "user", "end-sessions", "--org", slug, "--user", email)
    assert len(cli(rampart_bin, store, "user", "sessions", "--org", slug, "--user", email)["data"]) == 2

    phone = next(s for s in sessions if s["userAgent"] == "Interop Phone/1.0")
    assert cli(rampart_bin, store, "user", "end-sessions", "--org", slug, "--user", email, "--session", phone["id"]) == {"ended": 1}
    assert other.get(f"{base}/o/{slug}/account", allow_redirects=False, timeout=10).status_code != 200
    assert browser.get(f"{base}/o/{slug}/account", allow_redirects=False, timeout=10).status_code == 200
    assert cli(rampart_bin, store, "user", "end-sessions", "--org", slug, "--user", email, "--all") == {"ended": 1}
    assert browser.get(f"{base}/o/{slug}/account", allow_redirects=False, timeout=10).status_code != 200
    assert cli(rampart_bin, store, "user", "sessions", "--org", slug, "--user", email)["data"] == []

    assert cli(rampart_bin, store, "user", "reset-mfa", "--org", slug, "--user", email) == {
        "factorsRemoved": 1, "recoveryCodesRemoved": 10}
    after = cli(rampart_bin, store, "user", "factors", "--org", slug, "--user", email)
    assert after == {"data": [], "unusedRecoveryCodes": 0}
    again = run_cli(rampart_bin, "user", "reset-mfa", "--org", slug, "--user", email, *store.args).stdout
    assert "nothing changed" in again

    # A deactivated user gets no reset link; the refusal changes nothing.
    cli(rampart_bin, store, "user", "deactivate", "--org", slug, "--user", email)
    seen = len(events(rampart_bin, store, slug))
    assert "reactivate" in refused(rampart_bin, store, "user", "force-password-reset", "--org", slug, "--user", email,
                                   exit_code=2)
    assert len(events(rampart_bin, store, slug)) == seen
    cli(rampart_bin, store, "user", "reactivate", "--org", slug, "--user", email)

    # The link text for people names the link once and where its address came from.
    human = run_cli(rampart_bin, "user", "force-password-reset", "--org", slug, "--user", email, *store.args).stdout
    assert human.count("/reset?token=") == 1 and "shown once" in human, human
    actions = [e["action"] for e in events(rampart_bin, store, slug, "--target", cli(
        rampart_bin, store, "user", "list", "--org", slug, "--email", email)["data"][0]["id"])]
    assert actions.count("auth.sessions_ended") == 2 and actions.count("mfa.reset") == 1, actions
    assert actions.count("auth.password_reset_forced") == 2, actions
    assert run_cli(rampart_bin, "audit", "verify", "--org", slug, *store.args).returncode == 0


def test_import_hashes_one_and_from_files(rampart_bin, server_factory, store, tmp_path):
    server = server_factory(store)
    base = server.base_url
    org = create_org(rampart_bin, store.args, unique("Import CLI"), f"admin-{uuid.uuid4().hex[:8]}@imp.example.test",
                     "--public-url", base)
    slug = org["organization"]["slug"]
    emails = [f"u{n}-{uuid.uuid4().hex[:6]}@imp.example.test" for n in range(4)]
    for email in emails:
        cli(rampart_bin, store, "user", "create", "--org", slug, "--email", email, "--name", "Imported Person")

    one = cli(rampart_bin, store, "user", "import-hash", "--org", slug, "--user", emails[0],
              "--hash", bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode())
    assert one == {"scheme": "bcrypt"}
    assert sign_in(requests.Session(), base, slug, emails[0], PASSWORD).status_code == 303

    # From standard input, so the hash stays out of the shell's history and the process list.
    piped = subprocess.run([rampart_bin, "user", "import-hash", "--org", slug, "--user", emails[3], "--hash", "-",
                            *store.args, "--json"], input=django_pbkdf2(PASSWORD, salt="piped") + "\n",
                           capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert piped.returncode == 0 and json.loads(piped.stdout) == {"scheme": "pbkdf2-sha256"}, piped.stderr
    assert sign_in(requests.Session(), base, slug, emails[3], PASSWORD).status_code == 303

    seen = len(events(rampart_bin, store, slug))
    assert "hash" in refused(rampart_bin, store, "user", "import-hash", "--org", slug, "--user", emails[1],
                             "--hash", "md5$abc$def", exit_code=2)
    assert "No user" in refused(rampart_bin, store, "user", "import-hash", "--org", slug, "--user", "ghost@imp.example.test",
                                "--hash", django_pbkdf2(PASSWORD), exit_code=4)
    assert len(events(rampart_bin, store, slug)) == seen

    jsonl = tmp_path / "hashes.jsonl"
    jsonl.write_text("\n".join([
        json.dumps({"email": emails[1], "hash": django_pbkdf2(PASSWORD)}),
        json.dumps({"email": "ghost@imp.example.test", "hash": django_pbkdf2(PASSWORD)}),
        json.dumps({"email": emails[2], "hash": "not-a-hash"}),
        "{broken",
        "",
    ]) + "\n")
    proc = run_cli(rampart_bin, "user", "import-hashes", "--org", slug, "--file", str(jsonl), *store.args, "--json", check=False)
    assert proc.returncode == 2, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["imported"] == 1
    assert [r["line"] for r in summary["refused"]] == [2, 3, 4]
    reasons = [r["reason"] for r in summary["refused"]]
    assert "No user" in reasons[0] and "'hash'" in reasons[1] and "JSON" in reasons[2], reasons
    assert "not-a-hash" not in proc.stdout + proc.stderr, "a hash is never echoed"
    assert sign_in(requests.Session(), base, slug, emails[1], PASSWORD).status_code == 303
    assert sign_in(requests.Session(), base, slug, emails[2], PASSWORD).status_code != 303, "a refused line changed nothing"

    csv = tmp_path / "hashes.csv"
    csv.write_text(f"email,hash\n{emails[2]},{bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()}\n"
                   f"\"{emails[3]}\",\"{django_pbkdf2(PASSWORD, salt='salt2')}\"\nonly-one-field\n")
    proc = run_cli(rampart_bin, "user", "import-hashes", "--org", slug, "--file", str(csv), *store.args, check=False)
    assert proc.returncode == 2 and "Imported 2 hash(es); refused 1 line(s)." in proc.stdout, proc.stdout
    assert "line 4:" in proc.stdout, proc.stdout
    for email in emails[2:]:
        assert sign_in(requests.Session(), base, slug, email, PASSWORD).status_code == 303, email

    imported = events(rampart_bin, store, slug, "--action", "auth.password_hash_imported")
    assert len(imported) == 5 and {e["details"]["scheme"] for e in imported} == {"bcrypt", "pbkdf2-sha256"}, imported
    unknown_format = tmp_path / "hashes.txt"
    unknown_format.write_text(f"{emails[0]},{django_pbkdf2('other password 123')}\n")
    assert "--format" in refused(rampart_bin, store, "user", "import-hashes", "--org", slug, "--file", str(unknown_format),
                                 exit_code=2)
    assert "Cannot read" in refused(rampart_bin, store, "user", "import-hashes", "--org", slug, "--file",
                                    str(tmp_path / "absent.csv"), exit_code=4)
    assert len(events(rampart_bin, store, slug, "--action", "auth.password_hash_imported")) == 5
