"""A throwaway PostgreSQL server on 127.0.0.1 for the database tests.

The test set-up (``scripts/test.sh``) installs Debian's PostgreSQL when it is missing; this
module starts a fresh cluster in a temporary directory on a free port, yields its SQLAlchemy URL,
and stops it afterwards. As root, the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def available() -> bool:
    return _bin("initdb") is not None and _bin("pg_ctl") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class PostgresServer:
    """A running test cluster: ``url`` to connect, ``stop()`` and ``start()`` to take it away
    and bring it back on the same port (the audit tests' database outage)."""

    def __init__(self, pg_ctl: str, data: Path, workdir: Path, port: int) -> None:
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        self._pg_ctl, self._data, self._workdir, self._port = pg_ctl, data, workdir, port

    def start(self) -> None:
        options = f"-p {self._port} -k {self._workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self._workdir / "log")
        subprocess.run(
            _as_server_user([self._pg_ctl, "-D", str(self._data), "-o", options, "-l", log, "-w", "start"]),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_server_user([self._pg_ctl, "-D", str(self._data), "-m", mode, "-w", "stop"]),
            check=False,
            capture_output=True,
            timeout=60,
        )


@contextmanager
def postgres_cluster() -> Iterator[PostgresServer]:
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError("PostgreSQL is not installed (scripts/test.sh installs Debian's postgresql)")
    workdir = Path(tempfile.mkdtemp(prefix="dli-cds-pg-"))
    data = workdir / "data"
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    subprocess.run(
        _as_server_user([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = PostgresServer(pg_ctl, data, workdir, _free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[str]:
    with postgres_cluster() as server:
        yield server.url
