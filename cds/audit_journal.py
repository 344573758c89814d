"""The audit journal: a local append-only file that holds audit rows while the database is down.

Each process writes its own file, ``<pid>-<random>.journal`` in the journal folder, and holds an
exclusive ``flock`` on it for as long as it is open; the kernel releases the lock when the process
dies, however it dies. A file nobody holds a lock on is an orphan (its writer is gone): any process
of the service adopts it and replays it. Rows are JSON lines, each with its idempotency key
(``entry_key``); a batch is one ``write`` followed by ``fsync`` before any of its calls is answered.
A write that fails (disk full, file-size limit, the configured ``max_bytes``) is cut back off the
file, so a later batch never follows a torn line; a line torn by a crash is at the file's end and
belongs to a call that was never answered: replay skips it.

Replay inserts a chunk of rows at a time (the database ignores keys it already has, so a crash in
the middle of a replay duplicates nothing) and deletes the file once every row is in.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from cds.errors import StorageUnavailable

log = logging.getLogger(__name__)

REPLAY_CHUNK_ROWS = 500
SUFFIX = ".journal"


class JournalFull(StorageUnavailable):
    """The journal cannot take a row: its size limit, a full disk or another write error."""


@dataclass
class _File:
    path: Path
    fd: int
    size: int  # bytes known good (whole lines)
    read_offset: int = 0  # replay progress
    rows: int = 0  # rows not yet replayed


def encode(row: dict[str, Any]) -> bytes:
    return orjson.dumps(row) + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    row: dict[str, Any] = orjson.loads(line)
    if isinstance(row.get("at"), str):
        row["at"] = dt.datetime.fromisoformat(row["at"])
    return row


class AuditJournal:
    """Not thread-safe: only the audit writer thread uses it."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._own: _File | None = None  # the file this process appends to
        self._adopted: list[_File] = []  # orphans (and full own files) waiting for replay
        self.replayed = 0  # rows inserted by replays (duplicates the database skipped included)

    # ------------------------------------------------------------------ writing
    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append ``rows`` durably (written and fsynced) or raise :class:`JournalFull`."""
        data = b"".join(encode(row) for row in rows)
        if self.size() + len(data) > self.max_bytes:
            raise JournalFull(f"audit journal {self.folder} is at its limit of {self.max_bytes} bytes")
        own = self._own or self._create()
        try:
            view = memoryview(data)
            while view:
                written = os.write(own.fd, view)
                view = view[written:]
            os.fsync(own.fd)
        except OSError as exc:
            self._cut_back(own)
            raise JournalFull(f"audit journal {own.path} cannot take {len(rows)} rows: {exc}") from exc
        own.size += len(data)
        own.rows += len(rows)

    def _create(self) -> _File:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{os.getpid()}-{uuid.uuid4().hex[:12]}{SUFFIX}"
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _fsync_folder(self.folder)  # the new name survives a power loss too
        except OSError as exc:
            raise JournalFull(f"audit journal cannot be created in {self.folder}: {exc}") from exc
        self._own = _File(path, fd, 0)
        log.warning("audit rows now go to the journal %s", path)
        return self._own

    def _cut_back(self, own: _File) -> None:
        try:
            os.ftruncate(own.fd, own.size)
            os.fsync(own.fd)
        except OSError:  # cannot even cut it back: retire the file, the next append starts another
            log.exception("audit journal %s: could not cut back a failed write", own.path)
            self._own = None
            self._adopted.append(own)

    # ------------------------------------------------------------------ reading
    def adopt_orphans(self) -> None:
        """Take over the journal files of processes that are gone (nobody holds their lock)."""
        if not self.folder.is_dir():
            return
        mine = {f.path for f in self._adopted} | ({self._own.path} if self._own else set())
        for path in sorted(self.folder.glob(f"*{SUFFIX}")):
            if path in mine:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue  # replayed and removed by another process meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # a live process writes it
                continue
            if not path.exists():  # removed between open and lock: already replayed
                os.close(fd)
                continue
            orphan = _File(path, fd, os.fstat(fd).st_size)
            with open(path, "rb") as counting:
                orphan.rows = sum(1 for line in counting if line.endswith(b"\n"))
            log.warning(
                "adopting the audit journal %s (%d rows) of a process that is gone", path, orphan.rows
            )
            self._adopted.append(orphan)

    @property
    def waiting(self) -> int:
        """Rows in journal files not yet replayed into the database."""
        return sum(f.rows for f in self._files())

    @property
    def has_files(self) -> bool:
        return bool(self._own or self._adopted)

    def size(self) -> int:
        return sum(f.size - f.read_offset for f in self._files())

    def _files(self) -> list[_File]:
        return self._adopted + ([self._own] if self._own else [])

    def replay_chunk(self, insert: Callable[[list[dict[str, Any]]], None]) -> bool:
        """Insert the next chunk of journaled rows with ``insert`` (which raises if the database
        is still down); True once every file is replayed and deleted."""
        files = self._files()
        if not files:
            return True
        current = files[0]
        rows, consumed = self._read_chunk(current)
        if rows:
            insert(rows)
            self.replayed += len(rows)
        current.read_offset += consumed
        current.rows = max(0, current.rows - len(rows))
        if current.read_offset >= current.size:
            self._remove(current)
        return not self._files()

    def _read_chunk(self, file: _File) -> tuple[list[dict[str, Any]], int]:
        window = 4 * 1024 * 1024
        while True:  # widen the window until it holds a whole line (or the file's end)
            end = min(file.size, file.read_offset + window)
            data = os.pread(file.fd, end - file.read_offset, file.read_offset)
            if b"\n" in data or end >= file.size:
                break
            window *= 2
        complete = data.split(b"\n")[:-1]  # the last piece is empty or a partial line
        rows: list[dict[str, Any]] = []
        consumed = 0
        for line in complete[:REPLAY_CHUNK_ROWS]:
            try:
                rows.append(decode(line))
            except (orjson.JSONDecodeError, ValueError):
                log.error(
                    "audit journal %s: skipping an unreadable line at byte %d",
                    file.path,
                    file.read_offset + consumed,
                )
            consumed += len(line) + 1
        if not complete and end >= file.size:
            consumed = len(data)  # only a torn tail is left: its call was never answered
            if consumed:
                log.warning("audit journal %s: a torn last line (%d bytes) skipped", file.path, consumed)
        return rows, consumed

    def _remove(self, file: _File) -> None:
        try:
            file.path.unlink(missing_ok=True)
            _fsync_folder(self.folder)
        finally:
            os.close(file.fd)
        if file is self._own:
            self._own = None
        else:
            self._adopted.remove(file)
        log.warning("audit journal %s replayed into the database and removed", file.path)

    def close(self) -> None:
        for file in self._files():
            os.close(file.fd)
        self._own = None
        self._adopted = []


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
