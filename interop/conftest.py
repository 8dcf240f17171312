"""Shared fixtures for the interop suite: the `rampart` binary, servers on free ports,
stores (a SQLite data dir, or a database of the test's own on the throwaway PostgreSQL),
organisations made by the CLI.

Run through `scripts/test`, which builds the binary, starts PostgreSQL and sets
RAMPART_BIN, RAMPART_TEST_POSTGRES_OWNER_URL and RAMPART_TEST_POSTGRES_APP_URL.
Missing settings fail the tests instead of skipping them: a skipped interop test looks green.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import hashlib
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_CLUSTER = REPO_ROOT / "scripts" / "lib" / "pg-cluster"

READY_TIMEOUT = 60.0
CLI_TIMEOUT = 120.0


# --- small helpers ---------------------------------------------------------------------


def tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def find_free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str) -> str:
    """A short unique suffix, so that tests sharing one PostgreSQL database never collide."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# The CLI's defaults are relative to its cwd (./rampart-data); run it in a scratch dir so a
# forgotten flag never writes into the repository.
_CLI_CWD = tempfile.mkdtemp(prefix="rampart-interop-cwd-")
atexit.register(shutil.rmtree, _CLI_CWD, ignore_errors=True)


def run_cli(bin_path: str, *args: str, check: bool = True, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    """Run `rampart ARGS`; with check=True a non-zero exit fails the test with both streams."""
    cmd = [bin_path, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          cwd=_CLI_CWD)
    if check and proc.returncode != 0:
        pytest.fail(
            f"`{' '.join(cmd)}` exited {proc.returncode}\n--- stdout ---\n{tail(proc.stdout)}\n"
            f"--- stderr ---\n{tail(proc.stderr)}"
        )
    return proc


def run_cli_json(bin_path: str, *args: str) -> dict:
    proc = run_cli(bin_path, *args)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"`rampart {' '.join(args)}` did not print JSON ({exc}):\n{tail(proc.stdout)}")


def create_org(bin_path: str, store_args: list[str], name: str, email: str, *extra: str) -> dict:
    """`rampart org create --json`: {"organization", "adminUserId", "apiToken", "setupLink"}."""
    result = run_cli_json(bin_path, "org", "create", "--name", name, "--admin-email", email, *store_args, "--json", *extra)
    for key in ("organization", "adminUserId", "apiToken", "setupLink"):
        assert key in result, f"org create --json lacks {key!r}: {result}"
    return result


def new_org(bin_path: str, store_args: list[str], *extra: str) -> dict:
    """A fresh organisation with unique name and admin email."""
    name = unique("Interop Org")
    return create_org(bin_path, store_args, name, f"admin-{uuid.uuid4().hex[:8]}@example.test", *extra)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- stores ----------------------------------------------------------------------------


class Store:
    """Where a server keeps its data: CLI flags for the server and for admin commands."""

    def __init__(self, kind: str, args: list[str], data_dir: Path | None = None):
        self.kind = kind
        self.args = args
        self.data_dir = data_dir

    def __repr__(self) -> str:
        return f"Store({self.kind})"


def sqlite_store(path: Path) -> Store:
    path.mkdir(parents=True, exist_ok=True)
    return Store("sqlite", ["--data-dir", str(path)], data_dir=path)


def pg_urls_from_env() -> tuple[str, str]:
    owner = os.environ.get("RAMPART_TEST_POSTGRES_OWNER_URL")
    app = os.environ.get("RAMPART_TEST_POSTGRES_APP_URL")
    if not owner or not app:
        pytest.fail(
            "RAMPART_TEST_POSTGRES_OWNER_URL / RAMPART_TEST_POSTGRES_APP_URL are not set; "
            "run the suite through scripts/test, which starts a throwaway PostgreSQL"
        )
    return owner, app


def migrate_postgres(bin_path: str, owner_url: str, key_dir: Path) -> None:
    """Migrations run as the owner; the server later connects as rampart_app, which owns
    nothing and cannot bypass row-level security."""
    key_dir.mkdir(parents=True, exist_ok=True)
    run_cli(bin_path, "migrate", "--database", owner_url, "--data-dir", str(key_dir), "--grant-to", "rampart_app")


def postgres_store(app_url: str, key_dir: Path) -> Store:
    """On PostgreSQL the data dir holds only the key-encryption key; every command and server
    on one database must share it, as the nodes of a real deployment do."""
    key_dir.mkdir(parents=True, exist_ok=True)
    return Store("postgres", ["--database", app_url, "--data-dir", str(key_dir)])


class PgCluster:
    """A throwaway PostgreSQL of a test's own, made with the same recipe as scripts/test
    (scripts/lib/pg-cluster), for tests that stop the database under a running server."""

    def __init__(self):
        # Directly under /tmp: pytest's tmp_path lies under a 0700 directory that the
        # postgres user cannot traverse.
        self.dir = Path(tempfile.mkdtemp(prefix="rampart-pg-interop-"))
        self.owner_url = ""
        self.app_url = ""

    def _run(self, action: str) -> str:
        proc = subprocess.run(
            [str(PG_CLUSTER), action, str(self.dir)], capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            pytest.fail(f"pg-cluster {action} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def start(self) -> None:
        for line in self._run("start").splitlines():
            key, _, value = line.partition("=")
            if key == "RAMPART_TEST_POSTGRES_OWNER_URL":
                self.owner_url = value
            elif key == "RAMPART_TEST_POSTGRES_APP_URL":
                self.app_url = value
        assert self.owner_url and self.app_url, "pg-cluster start printed no URLs"

    def stop(self) -> None:
        self._run("stop")

    def destroy(self) -> None:
        self._run("destroy")


# --- servers ---------------------------------------------------------------------------


class RampartServer:
    """`rampart serve` on a free port of 127.0.0.1, output kept in files (a pipe nobody reads
    would block the server), ready when GET /readyz answers 200."""

    def __init__(self, bin_path: str, store: Store, log_dir: Path, port: int | None = None,
                 extra_args: list[str] | None = None):
        self.bin_path = bin_path
        self.store = store
        self.port = port or find_free_port()
        self.extra_args = list(extra_args or [])
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.stopping = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v1"

    def command(self) -> list[str]:
        return [
            self.bin_path, "serve", "--host", "127.0.0.1", "--port", str(self.port),
            "--public-url", self.base_url, *self.store.args, *self.default_args(), *self.extra_args,
        ]

    def default_args(self) -> list[str]:
        """The audit checkpointer looks at the heads every min(--audit-checkpoint-seconds, 10)
        seconds and a graceful stop waits for its current pause: with the default (300 s) every
        stop took 10-12 s, a third of the suite's time. At 1 s a stop takes about 2 s; a test
        that sets its own interval keeps it."""
        return [] if "--audit-checkpoint-seconds" in self.extra_args else ["--audit-checkpoint-seconds", "1"]

    def _log_path(self, stream: str) -> Path:
        return self.log_dir / f"server-{self.port}-{self.starts}.{stream}"

    def start(self, wait: bool = True) -> "RampartServer":
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        self.starts += 1
        self.stopping = False
        stdout = open(self._log_path("stdout"), "w")
        stderr = open(self._log_path("stderr"), "w")
        try:
            self.proc = subprocess.Popen(
                self.command(), stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, cwd=self.log_dir,
            )
        finally:
            stdout.close()
            stderr.close()
        if wait:
            self.wait_ready()
        return self

    def output(self, stream: str) -> str:
        """What this start of the server has written to STREAM so far."""
        path = self._log_path(stream)
        return path.read_text(errors="replace") if path.exists() else ""

    def output_tail(self, lines: int = 40) -> str:
        return "\n".join(f"--- server {stream} (tail) ---\n{tail(self.output(stream), lines)}"
                         for stream in ("stdout", "stderr"))

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                pytest.fail(f"rampart serve exited with {self.proc.returncode} before it was ready\n"
                            f"{' '.join(self.command())}\n{self.output_tail()}")
            try:
                r = requests.get(f"{self.base_url}/readyz", timeout=2)
                if r.status_code == 200:
                    return
                last = f"{r.status_code} {r.text[:200]}"
            except requests.RequestException as exc:
                last = type(exc).__name__
            time.sleep(0.2)
        pytest.fail(f"rampart serve not ready within {timeout:.0f}s (last /readyz: {last})\n{self.output_tail()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send SIG and, for SIGKILL, reap the process so the port is free again."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        if sig == signal.SIGKILL:
            self.proc.wait(timeout=30)

    def request_stop(self) -> None:
        """SIGTERM without waiting, so that several servers shut down at the same time."""
        if self.proc is not None and self.proc.poll() is None and not self.stopping:
            self.proc.send_signal(signal.SIGTERM)
            self.stopping = True

    def stop(self, timeout: float = 15.0) -> int | None:
        """Graceful stop (SIGTERM); SIGKILL if it does not exit in time."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.request_stop()
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            return None

    def restart(self) -> "RampartServer":
        """Same port, same store: what an operator does after a crash."""
        self.stop()
        return self.start()


@pytest.fixture(scope="session")
def rampart_bin() -> str:
    path = os.environ.get("RAMPART_BIN")
    if not path:
        pytest.fail("RAMPART_BIN is not set; run the suite through scripts/test")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"RAMPART_BIN={path} is not an executable file")
    return path


@pytest.fixture
def free_port() -> int:
    return find_free_port()


@pytest.fixture
def server_factory(rampart_bin, tmp_path):
    """make(store, **kw) -> a started RampartServer; every server is stopped at teardown."""
    servers: list[RampartServer] = []

    def make(store: Store, start: bool = True, **kwargs) -> RampartServer:
        server = RampartServer(rampart_bin, store, tmp_path / f"logs-{len(servers)}", **kwargs)
        servers.append(server)
        if start:
            server.start()
        return server

    yield make
    for server in servers:
        server.request_stop()
    for server in servers:
        server.stop()


@pytest.fixture
def sqlite(tmp_path) -> Store:
    return sqlite_store(tmp_path / "data")


PG_TEMPLATE = "rampart_interop_template"


def with_database(url: str, name: str) -> str:
    """URL with its database name replaced."""
    return url.rsplit("/", 1)[0] + "/" + name


def psql(url: str, *statements: str) -> None:
    cmd = ["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    for statement in statements:
        cmd += ["-c", statement]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"psql failed ({proc.returncode}): {proc.stderr.strip()}")


@pytest.fixture(scope="session")
def pg_template(rampart_bin) -> str:
    """A migrated, empty database on the shared PostgreSQL that every test copies. Each
    pytest-xdist worker brings it up to date once, one worker at a time."""
    owner, _ = pg_urls_from_env()
    lock_path = Path(tempfile.gettempdir()) / ("rampart-interop-pg-" + hashlib.sha256(owner.encode()).hexdigest()[:16] + ".lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            psql(owner, f"CREATE DATABASE {PG_TEMPLATE}")
        except RuntimeError as error:
            if "already exists" not in str(error):
                raise
        # The template holds no organisation, so no key is wrapped by the key migrate makes.
        key_dir = Path(tempfile.mkdtemp(prefix="rampart-interop-template-keys-"))
        try:
            migrate_postgres(rampart_bin, with_database(owner, PG_TEMPLATE), key_dir)
        finally:
            shutil.rmtree(key_dir, ignore_errors=True)
    return PG_TEMPLATE


@pytest.fixture(scope="session")
def pg_databases(pg_template):
    """The databases this worker made; dropped when its session ends, after every server stopped."""
    made: list[str] = []
    yield made
    owner, _ = pg_urls_from_env()
    for name in made:
        try:
            psql(owner, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except RuntimeError:
            pass


@pytest.fixture
def postgres(pg_template, pg_databases, tmp_path) -> Store:
    """A database of the test's own, copied from the migrated template. Every `rampart serve`
    sweeps every organisation of its database (log streams, back-channel logouts, checkpoints),
    as the nodes of one deployment do; a database per test keeps one test's servers from
    delivering, leasing or waiting on another's, so tests on PostgreSQL run in parallel like
    the rest."""
    owner, app = pg_urls_from_env()
    name = "interop_" + uuid.uuid4().hex[:16]
    # A copy fails while anything is connected to the template, such as another worker's
    # migration that has only just disconnected.
    for attempt in range(50):
        try:
            psql(owner, f"CREATE DATABASE {name} TEMPLATE {pg_template}")
            break
        except RuntimeError as error:
            if "being accessed by other users" not in str(error) or attempt == 49:
                raise
            time.sleep(0.2)
    pg_databases.append(name)
    return postgres_store(with_database(app, name), tmp_path / "pg-keys")


@pytest.fixture
def pg_cluster():
    cluster = PgCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
