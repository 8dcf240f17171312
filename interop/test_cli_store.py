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
