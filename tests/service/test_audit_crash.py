"""The audit trail against the real server (uvicorn subprocesses), issue 17: every call answered
200 has its audit row, whatever happens after the answer.

- SQLite, 2 workers: several clients send order-sign calls, the whole process group is killed
  (SIGKILL) mid-load, the server is started again; three rounds, no row missing.
- PostgreSQL (the project's test cluster), 2 workers: the database is stopped mid-load and
  started again; calls answered meanwhile were journaled and are replayed, each exactly once.
- A full disk: the server runs under a file-size limit (RLIMIT_FSIZE) and the database is down;
  once the journal cannot grow, calls are answered 503 with an OperationOutcome.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests import postgres_server

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "/cds-services/dli-order-sign"
CLIENTS = 6
REQUEST = json.loads(
    (ROOT / "fhir-examples" / "01-meets-aml-relapse-prevention" / "request.json").read_text()
)
PAUSE = threading.Event()  # never set: waits that are not timed assertions


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``uvicorn cds.asgi:app`` in its own process group, as ``dli-cds serve`` runs it."""

    def __init__(self, env: dict[str, str], workers: int, file_size_limit: int | None = None) -> None:
        self.env = env
        self.workers = workers
        self.file_size_limit = file_size_limit
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        limit = self.file_size_limit

        def limit_files() -> None:
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "cds.asgi:app", "--host", "127.0.0.1", "--port", str(self.port)]
            + ["--workers", str(self.workers), "--no-access-log", "--log-level", "warning"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=limit_files if limit is not None else None,
        )
        for _ in range(600):
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            PAUSE.wait(0.1)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


class Load:
    """Clients each sending order-sign calls in a loop; ``answered`` holds the hookInstance of
    every call answered 200, ``refused`` the bodies of 503 answers."""

    def __init__(self, server: Server, clients: int = CLIENTS) -> None:
        self.server = server
        self.answered: list[str] = []
        self.refused: list[dict[str, Any]] = []
        self.unexpected: list[int] = []
        self.stop = threading.Event()
        self.grew = threading.Condition()
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def _client(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=30) as client:
            while not self.stop.is_set():
                hook = str(uuid.uuid4())
                try:
                    response = client.post(SERVICE, json=REQUEST | {"hookInstance": hook})
                except httpx.HTTPError:
                    PAUSE.wait(0.01)  # the server is down or restarting: try again
                    continue
                with self.grew:
                    if response.status_code == 200:
                        self.answered.append(hook)
                    elif response.status_code == 503:
                        self.refused.append(response.json())
                    else:
                        self.unexpected.append(response.status_code)
                    self.grew.notify_all()

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def wait_for(self, answered: int) -> None:
        with self.grew:
            if not self.grew.wait_for(lambda: len(self.answered) >= answered, timeout=120):
                raise AssertionError(f"only {len(self.answered)} calls answered, {answered} expected")


def _audit_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT hook_instance, COUNT(*) FROM audit WHERE hook_instance IS NOT NULL GROUP BY hook_instance"
                )
            )
            return {str(hook): int(count) for hook, count in rows}
    finally:
        engine.dispose()


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return dict(
        os.environ,
        DLI_CDS_DATABASE_URL=database_url,
        DLI_CDS_AUDIT_JOURNAL_DIR=str(tmp_path / "journal"),
        DLI_CDS_LOG_LEVEL="warning",
        DLI_CDS_WORKBENCH="false",
    )


def test_sigkill_mid_load_loses_no_answered_call(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
    server = Server(_env(tmp_path, url), workers=2)
    server.start()
    try:
        for round_ in range(3):
            with Load(server) as load:
                load.wait_for(150)
                server.kill()  # SIGKILL to the whole process group, clients still sending
            server.start()
            counts = _audit_counts(url)
            missing = [hook for hook in load.answered if hook not in counts]
            assert missing == [], (
                f"round {round_ + 1}: {len(missing)} of {len(load.answered)} answered calls lost"
            )
            assert all(counts[hook] == 1 for hook in load.answered)
            assert load.unexpected == [] and load.refused == []
    finally:
        server.stop()


@contextmanager
def _postgres() -> Iterator[postgres_server.PostgresServer]:
    if not postgres_server.available():
        pytest.fail("PostgreSQL is not installed: scripts/test.sh installs Debian's postgresql")
    with postgres_server.postgres_cluster() as cluster:
        yield cluster


def _wait_for_rows(url: str, hooks: list[str]) -> dict[str, int]:
    """The audit counts once every hook in ``hooks`` is stored (replays run in the background)."""
    for _ in range(600):
        counts = _audit_counts(url)
        if all(hook in counts for hook in hooks):
            return counts
        PAUSE.wait(0.1)
    return _audit_counts(url)


def test_a_postgresql_outage_mid_load_is_journaled_and_replayed_once(tmp_path: Path) -> None:
    with _postgres() as database:
        server = Server(_env(tmp_path, database.url), workers=2)
        server.start()
        try:
            with Load(server) as load:
                load.wait_for(100)
                database.stop()
                during = len(load.answered)
                load.wait_for(during + 100)  # answered while the database is down: journaled
                database.start()
                load.wait_for(len(load.answered) + 100)
            counts = _wait_for_rows(database.url, load.answered)
            missing = [hook for hook in load.answered if hook not in counts]
            assert missing == [], f"{len(missing)} of {len(load.answered)} answered calls lost"
            assert {hook: n for hook, n in counts.items() if n > 1} == {}
            assert load.unexpected == [] and load.refused == []
        finally:
            server.stop()
        assert list((tmp_path / "journal").glob("*.journal")) == []  # replayed and removed


def test_a_full_disk_with_the_database_down_answers_503(tmp_path: Path) -> None:
    with _postgres() as database:
        server = Server(_env(tmp_path, database.url), workers=1, file_size_limit=64 * 1024)
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:

                def call() -> tuple[str, httpx.Response]:
                    hook = str(uuid.uuid4())
                    return hook, client.post(SERVICE, json=REQUEST | {"hookInstance": hook})

                answered = [
                    hook for hook, response in (call() for _ in range(5)) if response.status_code == 200
                ]
                assert len(answered) == 5
                database.stop()
                refused: list[httpx.Response] = []
                for _ in range(300):
                    hook, response = call()
                    if response.status_code == 200:
                        answered.append(hook)
                    else:
                        refused.append(response)
                        break
                assert len(answered) > 5, "no call was journaled while the database was down"
                (response,) = refused
                assert response.status_code == 503
                issue = response.json()["issue"][0]
                assert response.json()["resourceType"] == "OperationOutcome" and issue["code"] == "transient"
                health = client.get("/health").json()
                assert health["status"] == "degraded" and health["audit"]["journaled"] == len(answered) - 5
                database.start()
                counts = _wait_for_rows(database.url, answered)
                assert sorted(counts) == sorted(answered) and set(counts.values()) == {1}
                hook, response = call()  # the journal replayed, the disk has room again
                assert response.status_code == 200 and hook in _audit_counts(database.url)
        finally:
            server.stop()
