"""A migrated Prefect database that a new Prefect home starts from.

A Prefect home without a database gets one at the first server start, by running every one of
Prefect's migrations (≈14 s on a 2-core machine), and every new data folder paid that again.
The migrated database depends only on the installed Prefect (its version and its migration
files), so it is built once per user, machine and Prefect version in a cache folder, then copied
into each new home: Prefect finds its schema at head and migrates nothing.

The template is built by Prefect's own ``prefect server database upgrade`` in a child process,
against a file in a temporary folder that is renamed into place only when complete; a lock file
keeps processes that start together (test workers) from building it twice. A home that already
has a database is never touched, and any failure leaves Prefect to migrate as before.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from hashlib import sha1
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_ENV = "CCHC_CACHE_DIR"
SWITCH_ENV = "CCHC_PREFECT_TEMPLATE"  # "0": never copy a template (Prefect migrates)
DB_NAME = "prefect.db"
# Prefect reads its database URL under either name; either one means "not SQLite in the home".
DATABASE_URL_ENVS = ("PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL")
BUILD_COMMAND: Sequence[str] = (sys.executable, "-m", "prefect", "server", "database", "upgrade",
                                "-y")
BUILD_TIMEOUT_S = 300.0
LOCK_TIMEOUT_S = BUILD_TIMEOUT_S + 30.0  # wait for another process's build rather than migrate
_REVISION_FILE = re.compile(r"^\d{4}_\d{2}_\d{2}_\d{6}_([0-9a-f]+)_")


class TemplateError(RuntimeError):
    """The template could not be built."""


def template_applies(api_url: str | None, env: Mapping[str, str]) -> bool:
    """True when Prefect's temporary server would create SQLite ``prefect.db`` in its home: no
    API URL (neither cchc's nor Prefect's) and no other database URL."""
    if api_url or env.get("PREFECT_API_URL"):
        return False
    return not any(env.get(name) for name in DATABASE_URL_ENVS)


def has_database(home: Path) -> bool:
    """A database (or what is left of one: its WAL or rollback journal) is in ``home``."""
    return any((home / name).exists()
               for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-journal"))


def cache_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """Where templates are kept, by preference: ``CCHC_CACHE_DIR``, else the user's cache
    (``$XDG_CACHE_HOME/cchc``, ``~/.cache/cchc``); then a private folder in the temp dir for
    users without a writable home (service accounts)."""
    env = os.environ if env is None else env
    if env.get(CACHE_ENV):
        first = Path(env[CACHE_ENV]).expanduser()
    elif env.get("XDG_CACHE_HOME"):
        first = Path(env["XDG_CACHE_HOME"]) / "cchc"
    else:
        first = Path.home() / ".cache" / "cchc"
    return [first, Path(tempfile.gettempdir()) / f"cchc-cache-{os.getuid()}"]


def template_name() -> str | None:
    """``prefect-<version>-<schema head>.db`` for the installed Prefect, found without importing
    it (Prefect reads PREFECT_HOME at import); None when Prefect is not installed."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        return None
    version = importlib.metadata.version("prefect")
    package = Path(next(iter(spec.submodule_search_locations)))
    versions = package / "server" / "database" / "_migrations" / "versions" / "sqlite"
    names = sorted(p.name for p in versions.glob("*.py")) if versions.is_dir() else []
    match = _REVISION_FILE.match(names[-1]) if names else None
    head = match.group(1) if match else sha1("\n".join(names).encode()).hexdigest()[:12]
    return f"prefect-{version}-{head}.db"


def _usable(folder: Path, private: bool) -> bool:
    """Writable (created if missing); a ``private`` folder (the temp-dir fallback, where other
    users can create names) must also be a real folder of this user that nobody else can use."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = folder.lstat()
    except OSError:
        return False
    if not folder.is_dir():
        return False
    if private and (folder.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077):
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def _build_env(folder: Path) -> dict[str, str]:
    """The child's environment: a throwaway Prefect home whose SQLite file is the only database
    it may touch (no API URL, no profile, no other database settings)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_API_DATABASE_", "PREFECT_SERVER_DATABASE_"))}
    for name in ("PREFECT_API_URL", "PREFECT_PROFILES_PATH", "PREFECT_PROFILE"):
        env.pop(name, None)
    env["PREFECT_HOME"] = str(folder)
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{folder / DB_NAME}"
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["DO_NOT_TRACK"] = "1"
    return env


def _migrated_head(path: Path) -> str:
    """The schema revision of a finished build, its write-ahead log folded into the file (so
    the file alone is the whole database); fails when the migrations did not finish."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = con.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error as exc:
        raise TemplateError(f"the built database is not usable: {exc}") from None
    finally:
        con.close()
    if len(rows) != 1:
        raise TemplateError(f"the built database has {len(rows)} schema revisions, not 1")
    return rows[0][0]


def build_template(target: Path, command: Sequence[str] | None = None,
                   timeout_s: float = BUILD_TIMEOUT_S) -> Path:
    """Migrate a new database with ``command`` (Prefect's upgrade) and rename it to ``target``.
    On any failure nothing is left at ``target`` and the temporary folder is removed."""
    folder = Path(tempfile.mkdtemp(prefix=f".build-{target.name}-", dir=target.parent))
    try:
        # run in the throwaway folder: no prefect.toml or .env of the caller's folder applies
        done = subprocess.run(list(command or BUILD_COMMAND), env=_build_env(folder), cwd=folder,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout_s, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise TemplateError(f"Prefect's database upgrade exited with code "
                                f"{done.returncode}: {' | '.join(tail)}")
        built = folder / DB_NAME
        if not built.is_file():
            raise TemplateError(f"Prefect's database upgrade made no {DB_NAME}")
        _migrated_head(built)
        os.replace(built, target)
    except subprocess.TimeoutExpired:
        raise TemplateError(f"Prefect's database upgrade took over {timeout_s:.0f} s") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return target


def ensure_template(folder: Path, name: str) -> Path:
    """The template ``folder/name``, built first if missing (once, under a lock)."""
    from filelock import FileLock, Timeout

    target = folder / name
    if target.is_file():
        return target
    try:
        with FileLock(str(folder / f"{name}.lock"), timeout=LOCK_TIMEOUT_S):
            if target.is_file():  # another process built it while we waited
                return target
            for leftover in folder.glob(f".build-{name}-*"):  # a killed build's
                shutil.rmtree(leftover, ignore_errors=True)
            print(f"preparing Prefect's database once for Prefect {name.split('-')[1]} "
                  f"(in {folder}) ...", file=sys.stderr, flush=True)
            start = time.monotonic()
            build_template(target)
            log.info("built %s in %.1f s", target, time.monotonic() - start)
            return target
    except Timeout:
        raise TemplateError(f"another process held {folder / name}.lock for "
                            f"{LOCK_TIMEOUT_S:.0f} s") from None


def find_template(env: Mapping[str, str] | None = None) -> Path | None:
    """The template for the installed Prefect: one already in a cache folder, else one built in
    the first usable cache folder; None when there is no Prefect or no usable folder."""
    name = template_name()
    if name is None:
        return None
    folders = cache_dirs(env)
    private = {folders[-1]}  # the temp-dir fallback: trusted only when it is ours alone
    for folder in folders:
        if (folder / name).is_file() and (folder not in private or _usable(folder, True)):
            return folder / name
    for folder in folders:
        if _usable(folder, folder in private):
            return ensure_template(folder, name)
    log.warning("no writable cache folder for Prefect's database template (tried %s; set %s): "
                "Prefect migrates a new database itself", ", ".join(map(str, folders)), CACHE_ENV)
    return None


def copy_template(template: Path, home: Path) -> bool:
    """Copy ``template`` to ``home/prefect.db`` unless a database is there: written under a
    temporary name, then linked in place, which fails rather than replace a database another
    process put there meanwhile. True when copied."""
    if has_database(home):
        return False
    home.mkdir(parents=True, exist_ok=True)
    target = home / DB_NAME
    partial = home / f".{DB_NAME}.{os.getpid()}.partial"
    try:
        shutil.copyfile(template, partial)
        try:
            os.link(partial, target)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: rename, a database present wins
            if target.exists():
                return False
            os.replace(partial, target)
        return True
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


def start_from_template(home: Path, env: Mapping[str, str] | None = None) -> bool:
    """Give a new Prefect ``home`` the migrated template database; True when it got one.
    Never raises: on any failure Prefect migrates a new database as it always did."""
    switch = (os.environ if env is None else env).get(SWITCH_ENV, "").strip().lower()
    if switch in {"0", "false", "no", "off"}:
        return False
    try:
        if has_database(home):
            return False
        template = find_template(env)
        return template is not None and copy_template(template, home)
    except Exception as exc:  # a faster start must never stop a command
        log.warning("could not start Prefect's home %s from the migrated template (%s: %s); "
                    "Prefect migrates a new database instead", home, type(exc).__name__, exc)
        return False
