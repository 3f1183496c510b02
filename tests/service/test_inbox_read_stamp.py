"""A file's read stamp tells whether it changed while read, without reading it again, unless
it had changed just before the read (a coarse file-system clock could hide a later write)."""

from __future__ import annotations

import os
from pathlib import Path

from cchc import inbox


def test_an_old_unchanged_file_needs_no_second_read(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"a,b\n1,2\n")
    later = path.stat().st_ctime_ns + inbox.TIMESTAMP_SLACK_NS + 1
    monkeypatch.setattr(inbox.time, "time_ns", lambda: later)
    stamp = inbox.read_stamp(path)
    assert inbox.unchanged_since(path, stamp) is True


def test_a_file_changed_just_before_the_read_must_be_read_again(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"a,b\n1,2\n")
    stamp = inbox.read_stamp(path)
    assert inbox.unchanged_since(path, stamp) is None


def test_a_rewrite_of_the_same_size_with_its_old_times_is_seen(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"a,b\n1,2\n")
    before = path.stat()
    later = before.st_ctime_ns + inbox.TIMESTAMP_SLACK_NS + 1
    monkeypatch.setattr(inbox.time, "time_ns", lambda: later)
    stamp = inbox.read_stamp(path)
    for _ in range(100_000):  # same size, same inode, once the file system's clock has moved
        path.write_bytes(b"a,b\n3,4\n")
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # modification time set back
        if path.stat().st_ctime_ns != before.st_ctime_ns:
            break
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert inbox.unchanged_since(path, stamp) is False


def test_a_grown_file_is_seen_changed(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"a,b\n1,2\n")
    stamp = inbox.read_stamp(path)
    with path.open("ab") as fh:
        fh.write(b"3,4\n")
    assert inbox.unchanged_since(path, stamp) is False
