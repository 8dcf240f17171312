"""Defect 9 of issue 17: the CLI must open the store the server uses, wherever it runs."""

from __future__ import annotations

import os
import subprocess

from conftest import new_org, sqlite_store


def test_commands_honour_rampart_data_dir(rampart_bin, tmp_path):
    store = sqlite_store(tmp_path / "store")
    org = new_org(rampart_bin, store.args)
    slug = org["organization"]["slug"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "RAMPART_DATA_DIR": str(store.data_dir)}
    env.pop("RAMPART_DATABASE", None)
    result = subprocess.run([rampart_bin, "user", "list", "--org", slug, "--json"], cwd=elsewhere, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, (result.returncode, result.stdout[-500:], result.stderr[-500:])
    assert "@example.test" in result.stdout, result.stdout[-500:]
    assert not (elsewhere / "rampart-data").exists(), "a new store was created in the current directory"


def test_reactivating_an_active_user_says_nothing_changed(rampart_bin, tmp_path):
    """Defect 7: `user reactivate` on an active user printed "Reactivated"."""
    store = sqlite_store(tmp_path / "store")
    org = new_org(rampart_bin, store.args)
    slug = org["organization"]["slug"]
    admin = org["adminUserId"]
    result = subprocess.run([rampart_bin, "user", "reactivate", "--org", slug, "--user", admin, *store.args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Reactivated" not in result.stdout, result.stdout
    assert "already active" in result.stdout and "nothing changed" in result.stdout, result.stdout
    events = subprocess.run([rampart_bin, "audit", "events", "--org", slug, "--action", "user.", *store.args, "--json"],
                            capture_output=True, text=True, timeout=60)
    assert "user.reactivated" not in events.stdout, events.stdout[-500:]


def test_version(rampart_bin):
    """Defect 10: `rampart --version` was missing."""
    result = subprocess.run([rampart_bin, "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stdout.strip() and result.stdout.strip()[0].isdigit(), result.stdout
