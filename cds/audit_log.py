"""The audit log: every answered call's record is durable before its answer leaves.

The one audit path for every door (order-sign, feedback, and the order-select, order-dispatch,
DTR and PAS routes as they are added). Its public API:

- ``await audit_log.record(entry)`` returns once the row is committed in the database or, while
  the database is unreachable, written and fsynced in the local journal (``cds/audit_journal.py``);
  it raises :class:`~cds.errors.StorageUnavailable` (answered 503) when neither takes it.
  ``entry`` maps the columns of the ``audit`` table (``cds/db.py``); missing ones are NULL, a
  missing required one (``at``, ``service``, ``endpoint``, ``status``, ``latency_ms``) is a
  ``ValueError`` at once.
- ``audit_log.record_blocking(entry)``: the same for a thread without an event loop.
- In ``cds/http.py`` (every door's routes) a route ends with ``return await http.audit(audit, response, started)``,
  that is ``_audit(database, audit, response, started)``:
  the same four arguments as before, now awaited, returning the response to send (the route's
  own, or a 503 OperationOutcome when the record could not be stored). A call left un-awaited is
  an error under ``mypy --strict`` (unused coroutine), so a merge cannot miss one.

Group commit: one writer thread takes every row handed over since its last commit and stores
them in one transaction; all the requests waiting meanwhile await that one commit (an asyncio
future each, settled with one ``call_soon_threadsafe`` per event loop and batch), so the event
loop never blocks on the disk or the network. ``group_window_seconds`` can hold each commit
back to gather more rows; ``python -m benchmarks.audit`` measured no consistent gain from it
(README), so the default is 0: commit at once, the rows arriving during a commit form the next
group. A call waits at most ``RECORD_TIMEOUT_SECONDS`` (then StorageUnavailable).

A failed write is retried with backoff for up to ``retry_seconds``; then the database counts as
unreachable and rows go to the journal (without waiting on the database) until a replay of the
journal succeeds, probed with exponential backoff. Every row carries an idempotency key
(``entry_key``), so a row replayed twice (a crash mid-replay, a commit whose acknowledgement was
lost) is stored once. ``status()`` says how many rows wait; the logs say so while offline.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cds.audit_journal import AuditJournal
from cds.errors import StorageUnavailable

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 0.02  # the first wait after a failed write; doubles per failure
PROBE_MAX_SECONDS = 5.0  # the longest wait between replay attempts while the database is down
OFFLINE_LOG_SECONDS = 10.0  # how often the waiting rows are logged while the database is down
# The longest a call waits for its row (a database statement that hangs instead of failing):
# then it is answered 503, though the row may still be stored later.
RECORD_TIMEOUT_SECONDS = 10.0

Insert = Callable[[list[dict[str, Any]]], None]
Prepare = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(slots=True)
class _Item:
    row: dict[str, Any]
    loop: asyncio.AbstractEventLoop | None  # None: a concurrent.futures.Future (record_blocking)
    future: asyncio.Future[None] | concurrent.futures.Future[None]


class AuditLog:
    def __init__(
        self,
        insert: Insert,
        prepare: Prepare,
        journal: AuditJournal,
        *,
        group_window_seconds: float = 0.0,
        retry_seconds: float = 0.5,
    ) -> None:
        self._insert = insert
        self._prepare = prepare  # on the caller's side: raises ValueError, cleans what a database refuses
        self._journal = journal
        self._window = group_window_seconds
        self._retry_seconds = retry_seconds
        self._queue: list[_Item] = []
        self._in_flight = 0
        self._journaled = 0
        self._replay_due = False
        self._cond = threading.Condition()
        self._closing = False
        self._stop = threading.Event()  # interrupts backoff waits on close
        self._offline = False  # new rows go straight to the journal
        self._database_ok = True  # the last write to the database succeeded
        self._next_probe = 0.0
        self._probe_backoff = RETRY_FIRST_SECONDS
        self._last_offline_log = 0.0
        self._thread: threading.Thread | None = None
        self._start()

    def _start(self) -> None:
        """Adopt orphaned journals, then start the writer (again, after a close: an app whose
        lifespan ended and which is served once more, as test clients do)."""
        self._closing = False
        self._stop.clear()
        try:  # before the writer starts: status() counts the adopted rows from the outset
            self._journal.adopt_orphans()
        except OSError:
            log.exception("could not read the audit journal folder %s", self._journal.folder)
        self._update_journaled()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public API
    async def record(self, entry: dict[str, Any]) -> None:
        """Return once ``entry`` is durable (database or journal); else StorageUnavailable."""
        row = _keyed(self._prepare(entry))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._submit(_Item(row, loop, future))
        timer = loop.call_later(RECORD_TIMEOUT_SECONDS, _expire, future)  # cheaper than wait_for
        try:
            await future
        finally:
            timer.cancel()

    def record_blocking(self, entry: dict[str, Any], timeout: float | None = RECORD_TIMEOUT_SECONDS) -> None:
        row = _keyed(self._prepare(entry))
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._submit(_Item(row, None, future))
        try:
            future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise StorageUnavailable(f"the audit row was not stored within {timeout} s") from None

    def status(self) -> dict[str, Any]:
        """For ``/health`` and logs: rows not yet in the database, and where they are."""
        queued = len(self._queue) + self._in_flight
        return {
            "database": "reachable" if self._database_ok else "unreachable",
            "waiting": queued + self._journaled,
            "journaled": self._journaled,
        }

    @property
    def waiting(self) -> int:
        return int(self.status()["waiting"])

    def close(self, timeout: float = 30.0) -> None:
        """Store what was handed over (database or journal) and stop the writer; a later row
        starts it again."""
        with self._cond:
            thread = self._thread
            if thread is None:
                return
            self._closing = True
            self._cond.notify()
        thread.join(timeout)
        self._stop.set()
        thread.join(5)
        if self._journaled:
            log.warning(
                "stopping with %d audit rows in the journal %s: the next start replays them",
                self._journaled,
                self._journal.folder,
            )
        with self._cond:
            self._journal.close()
            self._thread = None

    def _submit(self, item: _Item) -> None:
        with self._cond:
            if self._thread is None:
                self._start()
            elif self._closing:
                raise StorageUnavailable("the audit log is closed (the service is stopping)")
            self._queue.append(item)
            self._cond.notify()

    # ------------------------------------------------------------------ the writer thread
    def _run(self) -> None:
        while True:
            batch, closing = self._take()
            if batch:
                self._store(batch)
            if self._replay_due and time.monotonic() >= self._next_probe:
                self._replay_chunk()
            elif self._offline and not self._replay_due:
                self._offline = False  # nothing journaled (it could not take rows): try the database
            if closing and not batch:
                while self._replay_due and not self._offline and not self._stop.is_set():  # a last drain
                    self._replay_chunk()
                return

    def _take(self) -> tuple[list[_Item], bool]:
        with self._cond:
            if not self._queue and not self._closing:
                wait = None
                if self._replay_due:
                    wait = max(0.0, self._next_probe - time.monotonic())
                self._cond.wait(wait)
            hold = bool(self._window and self._queue and not self._closing)
        if hold:  # gather more rows for this commit (measured: no gain, see the docstring)
            self._stop.wait(self._window)
        with self._cond:
            batch, self._queue = self._queue, []
            self._in_flight = len(batch)
            return batch, self._closing

    def _store(self, batch: list[_Item]) -> None:
        rows = [item.row for item in batch]
        error: StorageUnavailable | None = None
        try:
            if self._offline or not self._insert_with_retry(rows):
                self._journal.append(rows)
                self._update_journaled()
                self._log_offline()
        except StorageUnavailable as exc:
            log.error(
                "%d audit rows could be stored neither in the database nor in the journal: %s", len(rows), exc
            )
            error = exc
        except Exception as exc:  # never leave a request waiting for ever
            log.exception("audit writer failed")
            error = StorageUnavailable(f"the audit writer failed: {type(exc).__name__}")
        self._in_flight = 0
        _resolve(batch, error)

    def _insert_with_retry(self, rows: list[dict[str, Any]]) -> bool:
        deadline = time.monotonic() + self._retry_seconds
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                self._insert(rows)
                self._database_ok = True
                return True
            except Exception as exc:
                failure = exc
            if time.monotonic() + delay > deadline or self._stop.is_set():
                break
            self._stop.wait(delay)
            delay *= 2
        log.error(
            "database unreachable (%s: %s): audit rows go to the journal in %s",
            type(failure).__name__,
            str(failure).splitlines()[0][:200] if str(failure) else "",
            self._journal.folder,
        )
        self._offline = True
        self._database_ok = False
        self._probe_backoff = RETRY_FIRST_SECONDS
        self._next_probe = time.monotonic() + self._probe_backoff
        return False

    def _replay_chunk(self) -> None:
        replayed = self._journal.replayed
        try:
            done = self._journal.replay_chunk(self._insert)
        except Exception:
            self._offline = True
            self._database_ok = False
            self._probe_backoff = min(self._probe_backoff * 2, PROBE_MAX_SECONDS)
            self._next_probe = time.monotonic() + self._probe_backoff
            self._log_offline()
            return
        self._update_journaled()
        if self._journal.replayed > replayed:
            self._database_ok = True
        self._probe_backoff = RETRY_FIRST_SECONDS
        self._next_probe = 0.0
        if done:
            if self._offline:
                log.warning("database reachable again: the audit journal is replayed")
            self._offline = False

    def _update_journaled(self) -> None:
        self._journaled = self._journal.waiting
        self._replay_due = self._journal.has_files

    def _log_offline(self) -> None:
        now = time.monotonic()
        if now - self._last_offline_log >= OFFLINE_LOG_SECONDS:
            self._last_offline_log = now
            log.warning("database unreachable: %d audit rows wait in the journal", self._journaled)


def _keyed(row: dict[str, Any]) -> dict[str, Any]:
    if not row.get("entry_key"):
        row["entry_key"] = uuid.uuid4().hex  # a fresh dict from prepare: the caller's is untouched
    return row


def _resolve(batch: list[_Item], error: StorageUnavailable | None) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for item in batch:
        if item.loop is None:
            blocking = item.future
            assert isinstance(blocking, concurrent.futures.Future)
            if error is None:
                blocking.set_result(None)
            else:
                blocking.set_exception(StorageUnavailable(error.message, error.where))
        else:
            assert isinstance(item.future, asyncio.Future)
            by_loop.setdefault(item.loop, []).append(item.future)
    for loop, futures in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, futures, error)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(
            StorageUnavailable(f"the audit row was not stored within {RECORD_TIMEOUT_SECONDS} s")
        )


def _settle(futures: list[asyncio.Future[None]], error: StorageUnavailable | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(StorageUnavailable(error.message, error.where))
