"""Which window a pull reads: ``[since, until)`` in UTC, from the stored watermark by default.

Every system pages by update time the same way, so one rule serves them all: given bounds are
taken as they are; without ``since`` the pull starts at the stream's watermark (or, for a
warehouse that never pulled, at the configured first instant); without ``until`` it ends a
minute in the past, because the source's last second may still be moving and a window closed in
the past lets the client detect changes made during the pull (``sources.api``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

LAG = timedelta(minutes=1)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant; a naive value is taken as UTC (the APIs' convention)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def iso_z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pull_window(
    since: str | None, until: str | None, *, watermark: datetime | None, initial_since: str,
    now: datetime | None = None,
) -> tuple[str, str]:
    """The window ``(since, until)`` as ISO UTC text; ValueError when it is empty."""
    since_dt = parse_instant(since) if since else (watermark or parse_instant(initial_since))
    now = (now or datetime.now(UTC)).replace(microsecond=0) - LAG
    until_dt = parse_instant(until) if until else now
    if until_dt <= since_dt:
        raise ValueError(f"empty window: since {since_dt} is not before until {until_dt}")
    return iso_z(since_dt), iso_z(until_dt)
