"""The clock of the ``dli-cds`` commands: ``--now`` (an ISO date-time with an offset), else the
current UTC time. The commands pass it to the decision core like the HTTP layer passes its own."""

from __future__ import annotations

import datetime as dt


def clock(text: str | None) -> dt.datetime:
    """``--now``'s value as an aware datetime; ValueError (one line, for the CLI) when it is not
    an ISO date-time or has no offset."""
    if not text:
        return dt.datetime.now(dt.UTC)
    try:
        now = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--now: {text!r} is not an ISO date-time") from None
    if now.tzinfo is None:
        raise ValueError(f"--now: {text!r} has no offset (write Z or +HH:MM)")
    return now
