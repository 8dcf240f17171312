"""The audit log's proofs in the console, in a real browser: an event's "prove" link shows its
inclusion proof, whose downloaded file hashlib (RFC 9162 §2.1.3.2) and `rampart audit prove`, run
from another directory, both check; a witness pastes the checkpoint it kept, with the spaces and
line breaks a pretty-printer puts in, and the console proves the newest tree extends it."""

from __future__ import annotations

import json

import requests
from selenium.webdriver.common.by import By

from conftest import create_org, run_cli
from test_audit_checkpoints import add_users, wait_for, witnessed, witnessed_server
from test_audit_inclusion_proofs import proves
from test_console_browser import Steps, csp_violations, fill, find, make_driver, submit
from test_console_first_hour import sign_in


def test_prove_an_event_and_a_held_checkpoint_in_the_browser(rampart_bin, server_factory, sqlite, tmp_path):
    witness = tmp_path / "witness.jsonl"
    server = witnessed_server(server_factory, sqlite, witness)
    admin = "admin@proofs.example.test"
    org = create_org(rampart_bin, sqlite.args, "Proofs in the console", admin, "--public-url", server.base_url)
    org_id = org["organization"]["id"]
    add_users(server.base_url, org["apiToken"], 7, "console-proof")
    held = wait_for(lambda: next((c for c in witnessed(witness) if c["orgId"] == org_id and c.get("treeRoot")), None))

    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        sign_in(driver, steps, server, org, admin)
        driver.get(f"{server.base_url}/console/audit")
        steps.shot("audit")
        links = driver.find_elements(By.CSS_SELECTOR, "a.prove")
        assert links, f"no event has a prove link\n{steps.context()}"
        sequence = int(links[-1].get_attribute("id").removeprefix("prove-"))
        links[-1].click()
        steps.shot("inclusion")
        verdict = find(driver, By.ID, "verdict", steps).text
        assert verdict.startswith(f"Proven: event {sequence} is in the tree"), steps.context()
        driver.set_window_size(390, 900)
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the proof's hashes push the page sideways on a phone by {overflow}px\n{steps.context()}"
        driver.set_window_size(1280, 800)

        # The file the page offers is the proof itself: others' code and the CLI check it.
        href = find(driver, By.ID, "download-proof", steps).get_attribute("href")
        cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
        download = requests.get(href, cookies=cookies, timeout=10)
        assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"], download.text
        proof = download.json()
        assert proof["sequence"] == sequence and proves(proof)
        assert proof["eventHash"] == find(driver, By.ID, "event-hash", steps).text
        saved = tmp_path / "elsewhere" / "proof.json"
        saved.parent.mkdir()
        saved.write_bytes(download.content)
        offline = run_cli(rampart_bin, "audit", "prove", "--proof", str(saved), "--trust-key", held["publicKey"], check=False)
        assert offline.returncode == 0 and f"event {sequence} proven" in offline.stdout, offline.stdout + offline.stderr
        assert requests.get(href, timeout=10, allow_redirects=False).status_code in (302, 303), "no session, no proof"

        # Back to the log, as it was.
        driver.back()
        assert driver.find_elements(By.ID, f"prove-{sequence}"), steps.context()

        # The witness's checkpoint, pasted as a pretty-printer writes it.
        find(driver, By.ID, "prove-checkpoint", steps).click()
        submit(driver, steps, "prove-consistency")
        steps.shot("empty-consistency")
        assert "Give the size of the tree you hold" in find(driver, By.ID, "proof-error", steps).text, steps.context()
        fill(driver, steps, held=json.dumps(held, indent=2))
        submit(driver, steps, "prove-consistency")
        steps.shot("consistency")
        verdict = find(driver, By.ID, "verdict", steps).text
        assert verdict.startswith(f"Proven: the tree of the first {held['sequence']} events, as the checkpoint you hold"), (
            steps.context())
        assert find(driver, By.ID, "first-root", steps).text == held["treeRoot"]

        # A root the witness never got: not proven, said in words.
        fill(driver, steps, held=json.dumps(dict(held, treeRoot="ab" * 32)))
        submit(driver, steps, "prove-consistency")
        assert find(driver, By.ID, "verdict", steps).text.startswith("Not proven: the first checkpoint"), steps.context()
        assert not csp_violations(driver)
    finally:
        driver.quit()
