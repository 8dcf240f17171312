"""What a new admin trips over in the CLI and the API (issue 17, defects 4, 5, 7, 9, 10): each
test runs the real `rampart` binary, and a real server where the API is involved."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from pathlib import Path

import requests

from conftest import CLI_TIMEOUT, bearer, new_org, run_cli, run_cli_json, sqlite_store


def cli(rampart_bin: str, *args: str) -> subprocess.CompletedProcess:
    return run_cli(rampart_bin, *args, check=False)


def event_rows(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def test_token_named_like_a_person_or_the_cli_reads_as_a_token(rampart_bin, server_factory, sqlite):
    """Defect 4: a token named `grace.allen@acme.test` or `rampart` made its actions look
    like Grace's or the CLI's in `rampart audit events`."""
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    slug = org["organization"]["slug"]
    for name in ("grace.allen@acme.test", "rampart"):
        created = run_cli_json(rampart_bin, "token", "create", "--org", slug, "--name", name, "--role", "org-admin",
                               *sqlite.args, "--json")
        email = f"made-by-{uuid.uuid4().hex[:8]}@example.test"
        r = requests.post(f"{server.api}/users", headers=bearer(created["secret"]),
                          json={"email": email, "displayName": "Made By Token"}, timeout=10)
        assert r.status_code == 201, r.text
        text = run_cli(rampart_bin, "audit", "events", "--org", slug, "--action", "user.created", *sqlite.args).stdout
        rows = event_rows(text, email)
        assert len(rows) == 1, text
        assert f"API token ‘{name}’" in rows[0], rows[0]
    # The CLI's own changes read as the system, never as a bare name a token could take.
    run_cli(rampart_bin, "user", "create", "--org", slug, "--email", "by-cli@example.test", "--name", "By CLI",
            *sqlite.args)
    text = run_cli(rampart_bin, "audit", "events", "--org", slug, "--action", "user.created", *sqlite.args).stdout
    assert "system (CLI)" in event_rows(text, "by-cli@example.test")[0], text


def test_audit_events_show_targets_and_details(rampart_bin, sqlite):
    """Defect 10: `audit events` showed no targets or details."""
    org = new_org(rampart_bin, sqlite.args)
    slug = org["organization"]["slug"]
    run_cli(rampart_bin, "product", "create", "--org", slug, "--name", "Payroll", "--kind", "chat",
            "--url", "https://payroll.example.test", *sqlite.args)
    text = run_cli(rampart_bin, "audit", "events", "--org", slug, "--action", "product.created", *sqlite.args).stdout
    header, row = text.splitlines()[0], event_rows(text, "product.created")[0]
    assert "TARGETS" in header and "DETAILS" in header, text
    assert "product Payroll" in row, row
    assert "kind=chat" in row and "url=https://payroll.example.test" in row, row


def test_audit_events_actor_takes_an_email(rampart_bin, sqlite):
    """Defect 10: `--actor` accepted only ids; an email names the user, and an unknown
    email is a clear not-found rather than an empty list."""
    org = new_org(rampart_bin, sqlite.args)
    slug = org["organization"]["slug"]
    result = cli(rampart_bin, "audit", "events", "--org", slug, "--actor", "nobody@example.test", *sqlite.args)
    assert result.returncode == 4, (result.returncode, result.stdout, result.stderr)
    assert "nobody@example.test" in result.stderr, result.stderr


def test_token_list_and_revoke_by_name(rampart_bin, sqlite):
    """Defect 10: `token revoke` by name said "not found"; `token list` omitted expiry and last use."""
    org = new_org(rampart_bin, sqlite.args)
    slug = org["organization"]["slug"]
    run_cli(rampart_bin, "token", "create", "--org", slug, "--name", "deploy-bot", "--role", "auditor",
            "--expires-in-days", "30", *sqlite.args)
    listing = run_cli(rampart_bin, "token", "list", "--org", slug, *sqlite.args).stdout
    header = listing.splitlines()[0]
    assert "EXPIRES" in header and "LAST USED" in header, listing
    row = event_rows(listing, "deploy-bot")[0]
    assert "never" in row and "20" in row, row  # an expiry date, and never used

    revoked = cli(rampart_bin, "token", "revoke", "--org", slug, "--token", "deploy-bot", *sqlite.args)
    assert revoked.returncode == 0, (revoked.stdout, revoked.stderr)
    assert "Revoked API token deploy-bot" in revoked.stdout, revoked.stdout
    tokens = run_cli_json(rampart_bin, "token", "list", "--org", slug, *sqlite.args, "--json")["data"]
    assert [t["revokedAt"] is not None for t in tokens if t["name"] == "deploy-bot"] == [True], tokens

    # Two unrevoked namesakes: the name is ambiguous and nothing is revoked.
    for _ in range(2):
        run_cli(rampart_bin, "token", "create", "--org", slug, "--name", "twin", "--role", "auditor", *sqlite.args)
    ambiguous = cli(rampart_bin, "token", "revoke", "--org", slug, "--token", "twin", *sqlite.args)
    assert ambiguous.returncode != 0 and "give the id" in ambiguous.stderr, (ambiguous.stdout, ambiguous.stderr)
    tokens = run_cli_json(rampart_bin, "token", "list", "--org", slug, *sqlite.args, "--json")["data"]
    assert all(t["revokedAt"] is None for t in tokens if t["name"] == "twin"), tokens


def test_user_list_has_a_header_and_roles(rampart_bin, sqlite):
    """Defect 10: `user list` had no header or roles column."""
    org = new_org(rampart_bin, sqlite.args)
    slug = org["organization"]["slug"]
    run_cli(rampart_bin, "user", "create", "--org", slug, "--email", "plain@example.test", "--name", "Plain",
            *sqlite.args)
    text = run_cli(rampart_bin, "user", "list", "--org", slug, *sqlite.args).stdout
    assert text.splitlines()[0].split()[:4] == ["ID", "STATUS", "EMAIL", "ROLES"], text
    assert "org-admin" in event_rows(text, org["adminUserId"])[0], text
    assert " - " in event_rows(text, "plain@example.test")[0], text


def test_plural_command_points_at_the_singular(rampart_bin, sqlite):
    """Defect 10: `rampart users list --org x` said "Unknown option '--org'"."""
    result = cli(rampart_bin, "users", "list", "--org", "acme", *sqlite.args)
    assert result.returncode != 0, result.stdout
    assert "rampart user" in result.stderr and "--org" not in result.stderr, result.stderr


def test_product_revoke_without_access_says_so_and_the_api_agrees(rampart_bin, server_factory, sqlite):
    """Defect 7: `product revoke` for a group that never had access claimed to remove it.
    The API answers a repeated grant or revoke as the first (204) and writes no second event."""
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    slug = org["organization"]["slug"]
    run_cli(rampart_bin, "product", "create", "--org", slug, "--name", "Wiki", "--kind", "wiki",
            "--url", "https://wiki.example.test", *sqlite.args)
    run_cli(rampart_bin, "group", "create", "--org", slug, "--name", "Staff", *sqlite.args)
    access = ["--org", slug, "--product", "Wiki", "--group", "Staff", *sqlite.args]

    never = run_cli(rampart_bin, "product", "revoke", *access).stdout
    assert "no longer" not in never and "nothing changed" in never, never
    granted = run_cli(rampart_bin, "product", "grant", *access).stdout
    assert "may now use" in granted, granted
    again = run_cli(rampart_bin, "product", "grant", *access).stdout
    assert "already" in again and "nothing changed" in again, again
    revoked = run_cli(rampart_bin, "product", "revoke", *access).stdout
    assert "may no longer use" in revoked, revoked

    token = bearer(org["apiToken"])
    product = requests.get(f"{server.api}/products", headers=token, timeout=10).json()["data"][0]["id"]
    group = requests.get(f"{server.api}/groups", headers=token, timeout=10).json()["data"][0]["id"]
    url = f"{server.api}/products/{product}/access/{group}"
    assert [requests.put(url, headers=token, timeout=10).status_code for _ in range(2)] == [204, 204]
    assert [requests.delete(url, headers=token, timeout=10).status_code for _ in range(2)] == [204, 204]
    events = run_cli_json(rampart_bin, "audit", "events", "--org", slug, "--action", "product.", *sqlite.args,
                          "--json")["data"]
    access = sorted(e["action"] for e in events if e["action"].startswith("product.access_"))
    assert access == ["product.access_granted"] * 2 + ["product.access_revoked"] * 2, events


def test_commands_refuse_to_create_a_store_and_name_the_one_they_opened(rampart_bin, tmp_path):
    """Defect 9: run where no store is, a command opened a new empty one (and `audit verify`
    said "No organizations to verify." with exit 0); not-found errors named no store."""
    empty = tmp_path / "nowhere"
    empty.mkdir()
    for args in (["audit", "verify"], ["user", "list", "--org", "acme"]):
        result = cli(rampart_bin, *args, "--data-dir", str(empty))
        assert result.returncode == 4, (args, result.returncode, result.stdout, result.stderr)
        assert str(empty / "rampart.sqlite") in result.stderr and "RAMPART_DATA_DIR" in result.stderr, result.stderr
    assert list(empty.iterdir()) == [], list(empty.iterdir())

    store = sqlite_store(tmp_path / "store")
    org = new_org(rampart_bin, store.args)
    missing = cli(rampart_bin, "user", "deactivate", "--org", org["organization"]["slug"], "--user",
                  "nobody@example.test", *store.args)
    assert missing.returncode == 4, (missing.stdout, missing.stderr)
    assert str(store.data_dir / "rampart.sqlite") in missing.stderr, missing.stderr


def test_a_port_in_use_is_reported_before_anything_is_announced(rampart_bin, tmp_path):
    """Defect 5: `serve --demo` printed "Rampart demo is ready." and the credentials, then
    died with `bind(...) Address already in use (errno: 98)`."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        data = tmp_path / "data"
        data.mkdir()
        result = subprocess.run([rampart_bin, "serve", "--demo", "--port", str(port), "--data-dir", str(data)],
                                capture_output=True, text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL,
                                cwd=tmp_path)
    assert result.returncode != 0, result.stdout
    assert "ready" not in result.stdout and "password" not in result.stdout.lower(), result.stdout
    assert f"127.0.0.1:{port}" in result.stderr, result.stderr
    assert "--port" in result.stderr and "RAMPART_PORT" in result.stderr, result.stderr
    assert "errno" not in result.stderr, result.stderr


def test_serve_announces_once_listening(rampart_bin, server_factory, sqlite):
    """The other half of defect 5: with a free port the demo banner still appears."""
    server = server_factory(sqlite, extra_args=["--demo"])
    stdout = Path(server._log_path("stdout")).read_text()
    for _ in range(50):
        if "Rampart demo is ready." in stdout:
            break
        time.sleep(0.1)
        stdout = Path(server._log_path("stdout")).read_text()
    assert "Rampart demo is ready." in stdout, stdout
    assert f"{server.base_url}/console" in stdout, stdout
