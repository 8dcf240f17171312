"""`rampart serve --io-threads`: the number of NIO event-loop threads the server runs, counted
from the process's own thread names, its default for each store, and a clear refusal of a
count it cannot use."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
import requests

from conftest import bearer, new_org, run_cli

# NIO names the threads of its shared event loops NIO-SGLTN-<group>-#<n>.
EVENT_LOOP_THREAD_PREFIX = "NIO-SGLTN-"


def event_loop_threads(pid: int) -> int:
    names = [Path(task, "comm").read_text().strip() for task in Path(f"/proc/{pid}/task").iterdir()]
    return sum(name.startswith(EVENT_LOOP_THREAD_PREFIX) for name in names)


def serves_a_request(server, token: str) -> None:
    answer = requests.get(f"{server.api}/organization", headers=bearer(token), timeout=10)
    assert answer.status_code == 200, f"{answer.status_code} {answer.text}"


@pytest.mark.parametrize("count", [1, 3])
def test_io_threads_sets_the_event_loop_count(rampart_bin, server_factory, sqlite, count):
    org = new_org(rampart_bin, sqlite.args)
    server = server_factory(sqlite, extra_args=["--io-threads", str(count)])
    serves_a_request(server, org["apiToken"])
    assert event_loop_threads(server.proc.pid) == count


def usable_cores() -> int:
    """The cores NIO counts: this process's CPU affinity, or a cgroup v2 quota if that is lower."""
    cores = len(os.sched_getaffinity(0))
    cpu_max = Path("/sys/fs/cgroup/cpu.max")
    if cpu_max.exists():
        quota, period = cpu_max.read_text().split()
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    return cores


def test_io_threads_default_is_half_the_cores_on_sqlite(rampart_bin, server_factory, sqlite):
    org = new_org(rampart_bin, sqlite.args)
    server = server_factory(sqlite)
    serves_a_request(server, org["apiToken"])
    assert event_loop_threads(server.proc.pid) == max(1, usable_cores() // 2)


def test_io_threads_default_is_one_per_core_on_postgres(rampart_bin, server_factory, postgres):
    org = new_org(rampart_bin, postgres.args)
    server = server_factory(postgres)
    serves_a_request(server, org["apiToken"])
    assert event_loop_threads(server.proc.pid) == usable_cores()


@pytest.mark.parametrize("value", ["0", "257", "many"])
def test_io_threads_out_of_range_is_refused(rampart_bin, sqlite, value):
    proc = run_cli(rampart_bin, "serve", *sqlite.args, "--port", "1", "--io-threads", value, check=False)
    assert proc.returncode == 64, proc.stderr
    assert "--io-threads" in proc.stderr, proc.stderr
    assert not (sqlite.data_dir / "rampart.sqlite").exists(), "a refused start must not create the store"
