"""The inbox folder's rules: which paths may be ingested, and where a file goes afterwards.

A clerk drops exports into ``data/inbox``. A file is taken only if it lies inside the inbox and
is a regular file, not a symbolic link (a link could point anywhere on the machine). After its
load it moves to ``archive/`` (loaded, or already loaded before) or to ``rejected/`` with a
``<name>.reason.txt`` beside it, so nothing is lost and the inbox holds only unprocessed files.
What is kept there is a copy without identity or phone numbers (``cchc.redacted_copy``): the
original is the clerk's, and no identity number stays under ``data/``.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cchc.config import Settings

ACCEPTED_SUFFIXES = (".xlsx", ".csv")
IGNORED_PREFIXES = (".", "~$")
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".reason.txt")


class InboxPathError(ValueError):
    """A path that must not be ingested from the inbox."""


def is_candidate(path: Path) -> bool:
    """True for names that look like a finished export (not a temp or partial file)."""
    name = path.name
    if name.startswith(IGNORED_PREFIXES) or name.lower().endswith(IGNORED_SUFFIXES):
        return False
    return name.lower().endswith(ACCEPTED_SUFFIXES)


def checked_inbox_path(settings: Settings, path: str | Path) -> Path:
    """The absolute path if it is a regular file directly inside the inbox, else InboxPathError."""
    inbox = settings.inbox_dir.resolve()
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = inbox / candidate
    if candidate.is_symlink():
        raise InboxPathError(f"{candidate}: symbolic links are not ingested")
    resolved = candidate.resolve()
    if resolved.parent != inbox:
        raise InboxPathError(f"{candidate}: only files directly inside {inbox} are ingested")
    if not resolved.is_file():
        raise InboxPathError(f"{candidate}: not a regular file")
    return resolved


def open_for_writing(path: Path) -> bool:
    """True while some process still has ``path`` open for writing (a copy not finished).

    Linux: a read lease cannot be taken on a file that any process, of any user, has open for
    writing (EAGAIN). Where a lease is not allowed (not the file's owner, a filesystem without
    leases) the open files of the processes we can see are looked at instead."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return False
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
            return True
    except AttributeError:  # not Linux
        pass
    finally:
        os.close(fd)
    return _written_by_a_visible_process(path)


def _written_by_a_visible_process(path: Path) -> bool:
    target = str(path.resolve())
    proc = Path("/proc")
    if not proc.is_dir():
        return False
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            fds = list((pid_dir / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) != target:
                    continue
                info = (pid_dir / "fdinfo" / fd.name).read_text()
            except OSError:
                continue
            flags = next((int(line.split()[1], 8) for line in info.splitlines()
                          if line.startswith("flags:")), 0)
            if flags & (os.O_WRONLY | os.O_RDWR):
                return True
    return False


FileFingerprint = tuple[int, int, int]  # size, mtime_ns, inode


def fingerprint(path: Path) -> FileFingerprint:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns, st.st_ino)


# A file system's clock may be coarse (FAT keeps two seconds): a write within one tick of the
# last change can leave the times as they were. Past this margin, a later write shows.
TIMESTAMP_SLACK_NS = 10 * 1_000_000_000


@dataclass(frozen=True)
class ReadStamp:
    """A file's state when a read began: its fingerprint and status-change time (which no
    writer can set back, unlike the modification time), and the clock then."""

    fingerprint: FileFingerprint
    ctime_ns: int
    taken_ns: int


def read_stamp(path: Path) -> ReadStamp:
    taken = time.time_ns()
    st = path.stat()
    return ReadStamp((st.st_size, st.st_mtime_ns, st.st_ino), st.st_ctime_ns, taken)


def unchanged_since(path: Path, stamp: ReadStamp) -> bool | None:
    """False when ``path`` changed since ``stamp``; True when its state shows it did not (its
    last change was well before the read began, so any later write would have moved its
    status-change time); None when only reading it again can tell: it had changed within
    ``TIMESTAMP_SLACK_NS`` of the read. Spares a multi-gigabyte export a second read."""
    st = path.stat()
    now = (st.st_size, st.st_mtime_ns, st.st_ino)
    if now != stamp.fingerprint or st.st_ctime_ns != stamp.ctime_ns:
        return False
    if stamp.ctime_ns < stamp.taken_ns - TIMESTAMP_SLACK_NS:
        return True
    return None


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/<stamp>-name`` when a file of that name is already there."""
    target = folder / name
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{stamp}-{name}"
    return target


def _keep_redacted(settings: Settings, path: Path, target: Path) -> None:
    """Keep a copy of ``path`` without identity numbers at ``target`` and delete the original
    (cchc.redacted_copy); a symbolic link is moved as a link, its target never read."""
    if path.is_symlink() or not path.is_file():
        shutil.move(str(path), target)
        return
    from cchc.redacted_copy import write_redacted_copy
    from sources.idhash import id_hash_key

    write_redacted_copy(path, target, id_hash_key(settings))
    path.unlink()


def archive(settings: Settings, path: Path) -> Path:
    """Move a processed file to archive/ (as a copy without identity numbers)."""
    settings.archive_dir.mkdir(parents=True, exist_ok=True)
    target = _free_name(settings.archive_dir, path.name)
    _keep_redacted(settings, path, target)
    return target


def reject(settings: Settings, path: Path, reason: str) -> Path:
    """Move a file to rejected/ (as a copy without identity numbers) with the reason beside it."""
    from sources.idhash import id_hash_key, scrub_bytes

    settings.rejected_dir.mkdir(parents=True, exist_ok=True)
    target = _free_name(settings.rejected_dir, path.name)
    _keep_redacted(settings, path, target)
    text = scrub_bytes((reason.rstrip() + "\n").encode("utf-8"), id_hash_key(settings))
    target.with_name(target.name + ".reason.txt").write_bytes(text)
    return target


# A file whose reading killed the process this many times is rejected instead of read again: a
# file that crashes the reader (an allocation abort, a segfault in a native library) must not
# take the service down at every start.
MAX_CRASHES = 2


class crash_guard:  # noqa: N801 (used as a context manager, like contextlib's)
    """Count reads of this content that never finished; ``with`` yields how many earlier reads
    died.

    A marker per content hash holds the number of reads started and not finished; it is removed
    when the read ends in any way the process survives (success, rejection, exception), so only
    a process that died leaves it behind. (A class, not a generator: a generator's cleanup would
    also run when the object is merely garbage-collected.)"""

    def __init__(self, settings: Settings, sha256: str) -> None:
        self.marker = settings.data_dir / "state" / "reads" / sha256

    def __enter__(self) -> int:
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        died = int(self.marker.read_text() or 0) if self.marker.is_file() else 0
        self.marker.write_text(str(died + 1))
        return died

    def __exit__(self, *exc: object) -> None:
        self.marker.unlink(missing_ok=True)
