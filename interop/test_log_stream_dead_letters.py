"""Dead letters of log streams (issue 16), against the local webhook and Splunk HEC receivers
(`http_receivers.py`), on SQLite and PostgreSQL: a receiver that refuses one batch
`deadLetterAfter` times turns it into a dead letter and the stream moves on; the dead letter
shows in the API, the CLI and the stream's health; a replay the receiver still refuses keeps it;
once the receiver is fixed, a replay delivers its events and every event of the log has arrived
(at-least-once holds: nothing acknowledged is lost). Another organisation sees none of it."""

from __future__ import annotations

import time

import pytest

import http_receivers as rx
from conftest import new_org, run_cli, run_cli_json
from test_log_stream_http import event_of, receivers, store, stream_body, wait_for  # noqa: F401 (fixtures)
from test_log_stream_syslog import all_events, api


def wait_for_dead_letter(server, token, stream_id: str, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        letters = api(server, token, "GET", f"/log-streams/{stream_id}/dead-letters", 200)["data"]
        if letters:
            return letters
        time.sleep(0.2)
    raise AssertionError(f"no dead letter: {api(server, token, 'GET', f'/log-streams/{stream_id}', 200)}")


@pytest.mark.parametrize("kind", ["webhook", "hec"])
def test_a_poisoned_batch_becomes_a_dead_letter_and_its_replay_delivers_it(kind, store, server_factory, rampart_bin, receivers):
    server = server_factory(store)
    org = new_org(rampart_bin, store.args)
    token = org["apiToken"]
    for i in range(5):
        api(server, token, "POST", "/users", 201, json={"email": f"u{i}@example.com", "displayName": f"User {i}"})
    # The first batch (the log so far and the stream's own creation) is refused twice: the stream's limit.
    receivers.fail_next(kind, "500", "500")
    stream = api(server, token, "POST", "/log-streams", 201, json=stream_body(kind, receivers, deadLetterAfter=2))
    assert stream["deadLetterAfter"] == 2 and stream["deadLetters"] == 0
    letters = wait_for_dead_letter(server, token, stream["id"])
    assert len(letters) == 1, letters
    letter = letters[0]
    batch_end = letter["lastSequence"]
    assert letter["firstSequence"] == 1 and letter["events"] == batch_end and letter["attempts"] == 2
    assert letter["error"].startswith("HTTP 500"), letter

    # The stream moved on: what came after the batch arrives, the batch does not (yet).
    api(server, token, "POST", "/users", 201, json={"email": "after@example.com", "displayName": "After"})
    head = all_events(server, token)[-1]["sequence"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and head not in {event_of(kind, r)["sequence"] for r in receivers.events(kind)}:
        time.sleep(0.2)
    arrived = {event_of(kind, r)["sequence"] for r in receivers.events(kind)}
    assert set(range(batch_end + 1, head + 1)) <= arrived and not arrived & set(range(1, batch_end + 1)), arrived
    dead_lettered = [event_of(kind, r) for r in receivers.events(kind) if event_of(kind, r)["action"] == "log_stream.dead_lettered"]
    assert dead_lettered and dead_lettered[0]["details"]["lastSequence"] == batch_end
    health = api(server, token, "GET", f"/log-streams/{stream['id']}", 200)
    assert health["deadLetters"] == 1 and health["cursor"] >= batch_end and health["failures"] == 0, health

    # The CLI shows the same dead letter.
    cli = ["--org", org["organization"]["slug"], *store.args]
    listed = run_cli_json(rampart_bin, "log-stream", "dead-letters", "--stream", stream["id"], *cli, "--json")
    assert [d["id"] for d in listed["data"]] == [letter["id"]]

    # Another organisation finds neither the dead letter nor a way to replay or discard it.
    other = new_org(rampart_bin, store.args)["apiToken"]
    path = f"/log-streams/{stream['id']}/dead-letters"
    api(server, other, "GET", path, 404)
    api(server, other, "POST", f"{path}/{letter['id']}/replay", 404)
    api(server, other, "DELETE", f"{path}/{letter['id']}", 404)

    # A replay the receiver still refuses says why and keeps the dead letter.
    receivers.fail_next(kind, "500")
    refused = api(server, token, "POST", f"{path}/{letter['id']}/replay", 502)
    assert refused["error"]["code"] == "receiver_unreachable" and "HTTP 500" in refused["error"]["message"]
    assert [d["id"] for d in api(server, token, "GET", path, 200)["data"]] == [letter["id"]]

    # Fixed: the replay delivers the batch, in order, and the dead letter is gone.
    assert api(server, token, "POST", f"{path}/{letter['id']}/replay", 200) == {"replayed": batch_end}
    assert api(server, token, "GET", path, 200)["data"] == []
    events = all_events(server, token)
    received = wait_for(receivers, kind, events[-1]["sequence"], "after the replay")
    by_seq = {e["sequence"]: e for e in events}
    for record in received:
        assert record == by_seq[record["sequence"]], "a replayed record is the event as the API shows it"
    replayed = [r["sequence"] for r in received if r["sequence"] <= batch_end]
    assert replayed == list(range(1, batch_end + 1)), "the dead letter's events arrive once each, in order"
    assert {e["action"] for e in events} >= {"log_stream.dead_lettered", "log_stream.dead_letter_replayed"}
    assert api(server, token, "GET", f"/log-streams/{stream['id']}", 200)["deadLetters"] == 0
    assert not receivers.refused, receivers.refused


def test_the_cli_replays_and_discards_dead_letters(sqlite, server_factory, rampart_bin, receivers):
    server = server_factory(sqlite)
    org = new_org(rampart_bin, sqlite.args)
    token = org["apiToken"]
    cli = ["--org", org["organization"]["slug"], *sqlite.args]
    receivers.fail_next("webhook", "500")
    stream = api(server, token, "POST", "/log-streams", 201, json=stream_body("webhook", receivers, deadLetterAfter=1))
    letter = wait_for_dead_letter(server, token, stream["id"])[0]
    refused = run_cli(rampart_bin, "log-stream", "update", "--stream", stream["id"], "--dead-letter-after", "0", *cli, check=False)
    assert refused.returncode != 0 and "deadLetterAfter" in refused.stderr, refused.stderr
    assert run_cli_json(rampart_bin, "log-stream", "update", "--stream", stream["id"], "--dead-letter-after", "3",
                        *cli, "--json")["deadLetterAfter"] == 3

    replayed = run_cli_json(rampart_bin, "log-stream", "replay", "--stream", stream["id"], "--dead-letter", letter["id"],
                            *cli, "--json")
    assert replayed == {"replayed": letter["events"]}
    got = [r["sequence"] for r in receivers.events("webhook")]
    assert set(range(letter["firstSequence"], letter["lastSequence"] + 1)) <= set(got)

    # Another batch given up, then discarded: it stays in the log, the stream does not send it.
    api(server, token, "PATCH", f"/log-streams/{stream['id']}", 200, json={"deadLetterAfter": 1})
    receivers.fail_next("webhook", "500")
    api(server, token, "POST", "/users", 201, json={"email": "later@example.com", "displayName": "Later"})
    second = wait_for_dead_letter(server, token, stream["id"])[0]
    discarded = run_cli_json(rampart_bin, "log-stream", "discard", "--stream", stream["id"], "--dead-letter", second["id"],
                             *cli, "--json")
    assert discarded == {"id": second["id"], "discarded": "true"}
    assert api(server, token, "GET", f"/log-streams/{stream['id']}/dead-letters", 200)["data"] == []
    actions = [e["action"] for e in all_events(server, token)]
    assert "log_stream.dead_letter_discarded" in actions and "log_stream.dead_letter_replayed" in actions
