"""The migrated Prefect database a new Prefect home starts from (cchc.prefect_template)."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from cchc import prefect_template as pt
from cchc.config import ServiceSettings, Settings
from cchc.prefect_env import configure_prefect

# A stand-in for Prefect's upgrade: writes a database with one schema revision where the child's
# database URL points, or fails on request (FAKE_FAIL=1: a half-written file and exit code 1;
# FAKE_FAIL=unmigrated: exit 0 without the revision table). FAKE_COUNT names a file it appends
# one line to per build; FAKE_PAUSE_S keeps it busy so concurrent callers overlap.
FAKE_BUILD = r"""
import os, sqlite3, sys, time
path = os.environ["PREFECT_API_DATABASE_CONNECTION_URL"].removeprefix("sqlite+aiosqlite:///")
assert os.path.dirname(path) == os.environ["PREFECT_HOME"], (path, os.environ["PREFECT_HOME"])
if os.environ.get("FAKE_COUNT"):
    with open(os.environ["FAKE_COUNT"], "a") as fh:
        fh.write("built\n")
time.sleep(float(os.environ.get("FAKE_PAUSE_S", "0")))
fail = os.environ.get("FAKE_FAIL")
if fail == "1":
    open(path, "wb").write(b"SQLite format 3\0 half")
    sys.exit(1)
con = sqlite3.connect(path)
con.execute("PRAGMA journal_mode = WAL")
con.execute("CREATE TABLE t (x)")
if fail != "unmigrated":
    con.execute("CREATE TABLE alembic_version (version_num TEXT)")
    con.execute("INSERT INTO alembic_version VALUES ('abc123')")
con.commit()
con.close()
"""
FAKE_COMMAND = [sys.executable, "-c", FAKE_BUILD]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch):
    """os.environ as it was after the test (configure_prefect sets variables directly), without
    any Prefect API or database URL from the outside."""
    saved = dict(os.environ)
    for name in ("PREFECT_HOME", "PREFECT_API_URL", pt.SWITCH_ENV, *pt.DATABASE_URL_ENVS):
        os.environ.pop(name, None)
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def cache(tmp_path: Path, clean_env, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache folder (and temp dir, for the fallback) holding no template yet."""
    folder = tmp_path / "cache"
    clean_env[pt.CACHE_ENV] = str(folder)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setattr(pt, "BUILD_COMMAND", FAKE_COMMAND)
    return folder


def _template(folder: Path) -> Path:
    """A template as if built earlier, under the installed Prefect's name."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / pt.template_name()
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE alembic_version (version_num TEXT)")
    con.execute("INSERT INTO alembic_version VALUES ('cached')")
    con.commit()
    con.close()
    return path


def _revision(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        con.close()


def test_the_template_name_follows_the_installed_prefect() -> None:
    import importlib.metadata

    name = pt.template_name()
    version = importlib.metadata.version("prefect")
    assert name is not None and name.startswith(f"prefect-{version}-") and name.endswith(".db")
    assert len(name.removeprefix(f"prefect-{version}-").removesuffix(".db")) >= 8


def test_a_new_home_gets_the_template(cache: Path, tmp_path: Path) -> None:
    template = _template(cache)
    home = tmp_path / "home"

    assert pt.start_from_template(home) is True

    assert (home / "prefect.db").read_bytes() == template.read_bytes()
    assert sorted(p.name for p in home.iterdir()) == ["prefect.db"]  # no partial copy left


@pytest.mark.parametrize("present", ["prefect.db", "prefect.db-wal", "prefect.db-journal"])
def test_an_existing_database_is_never_replaced(cache: Path, tmp_path: Path,
                                                present: str) -> None:
    _template(cache)
    home = tmp_path / "home"
    home.mkdir()
    (home / present).write_bytes(b"the user's runs")

    assert pt.start_from_template(home) is False

    assert (home / present).read_bytes() == b"the user's runs"
    assert sorted(p.name for p in home.iterdir()) == [present]


def test_a_database_that_appears_meanwhile_wins(cache: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process's database put in place between the check and the copy stays."""
    template = _template(cache)
    home = tmp_path / "home"
    home.mkdir()
    real_copy = pt.shutil.copyfile

    def copy_then_race(src, dst):
        (home / "prefect.db").write_bytes(b"theirs")
        return real_copy(src, dst)

    monkeypatch.setattr(pt.shutil, "copyfile", copy_then_race)

    assert pt.copy_template(template, home) is False

    assert (home / "prefect.db").read_bytes() == b"theirs"
    assert sorted(p.name for p in home.iterdir()) == ["prefect.db"]


def test_configure_prefect_copies_the_template_into_a_new_data_folder(cache: Path,
                                                                      tmp_path: Path) -> None:
    _template(cache)
    settings = Settings(data_dir=tmp_path / "data")

    configure_prefect(settings)

    assert _revision(settings.prefect_home / "prefect.db") == "cached"


@pytest.mark.parametrize("setting", ["service api url", "PREFECT_API_URL",
                                     *pt.DATABASE_URL_ENVS, pt.SWITCH_ENV])
def test_no_copy_when_prefect_does_not_use_the_home_database(cache: Path, tmp_path: Path,
                                                             clean_env, setting: str) -> None:
    _template(cache)
    service = ServiceSettings()
    if setting == "service api url":
        service = ServiceSettings(prefect_api_url="http://127.0.0.1:1/api")
    elif setting == pt.SWITCH_ENV:
        clean_env[setting] = "0"
    elif setting == "PREFECT_API_URL":
        clean_env[setting] = "http://127.0.0.1:1/api"
    else:
        clean_env[setting] = f"sqlite+aiosqlite:///{tmp_path / 'elsewhere.db'}"
    settings = Settings(data_dir=tmp_path / "data", service=service)

    configure_prefect(settings)

    assert settings.prefect_home.is_dir()
    assert not (settings.prefect_home / "prefect.db").exists()


def test_a_missing_template_is_built_then_copied(cache: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"

    assert pt.start_from_template(home) is True

    template = cache / pt.template_name()
    assert _revision(template) == "abc123"
    assert (home / "prefect.db").read_bytes() == template.read_bytes()
    # the build's write-ahead log is folded into the file: the file alone is the database
    assert sorted(p.name for p in cache.iterdir()) == sorted([template.name,
                                                              f"{template.name}.lock"])


@pytest.mark.parametrize("failure", ["1", "unmigrated"])
def test_a_failing_build_leaves_no_template_and_prefect_migrates(
        cache: Path, tmp_path: Path, clean_env, caplog: pytest.LogCaptureFixture,
        failure: str) -> None:
    clean_env["FAKE_FAIL"] = failure
    home = tmp_path / "home"

    with caplog.at_level(logging.WARNING, logger="cchc.prefect_template"):
        assert pt.start_from_template(home) is False

    assert "Prefect migrates a new database instead" in caplog.text
    assert not (cache / pt.template_name()).exists()
    assert [p.name for p in cache.iterdir()] == [f"{pt.template_name()}.lock"]  # no build left
    assert not (home / "prefect.db").exists()


def test_a_build_that_hangs_is_given_up(tmp_path: Path, clean_env) -> None:
    clean_env["FAKE_PAUSE_S"] = "30"
    target = tmp_path / "t.db"

    with pytest.raises(pt.TemplateError, match="took over"):
        pt.build_template(target, FAKE_COMMAND, timeout_s=1)

    assert list(tmp_path.iterdir()) == []


def test_concurrent_processes_build_the_template_once(tmp_path: Path, clean_env) -> None:
    counter = tmp_path / "builds"
    clean_env["FAKE_COUNT"] = str(counter)
    clean_env["FAKE_PAUSE_S"] = "2"
    folder = tmp_path / "cache"
    folder.mkdir()
    script = ("import sys; from pathlib import Path; import cchc.prefect_template as pt; "
              f"pt.BUILD_COMMAND = {FAKE_COMMAND!r}; "
              "print(pt.ensure_template(Path(sys.argv[1]), 'prefect-x.db'))")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(folder)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outputs = [proc.communicate(timeout=120) for proc in procs]

    assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
    assert {out.strip() for out, _ in outputs} == {str(folder / "prefect-x.db")}
    assert counter.read_text().splitlines() == ["built"]
    assert _revision(folder / "prefect-x.db") == "abc123"


def test_cache_folder_preference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    fallback = tmp_path / f"cchc-cache-{os.getuid()}"
    assert pt.cache_dirs({pt.CACHE_ENV: "/c", "XDG_CACHE_HOME": "/x"}) == [Path("/c"), fallback]
    assert pt.cache_dirs({"XDG_CACHE_HOME": "/x"}) == [Path("/x/cchc"), fallback]
    monkeypatch.setenv("HOME", "/h")
    assert pt.cache_dirs({}) == [Path("/h/.cache/cchc"), fallback]


def test_an_unwritable_cache_falls_back_to_a_private_temp_folder(cache: Path, tmp_path: Path,
                                                                 clean_env) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    clean_env[pt.CACHE_ENV] = str(blocker / "cache")  # cannot be created
    home = tmp_path / "home"

    assert pt.start_from_template(home) is True

    fallback = Path(tempfile.gettempdir()) / f"cchc-cache-{os.getuid()}"
    assert (fallback / pt.template_name()).is_file()
    assert fallback.stat().st_mode & 0o777 == 0o700


def test_a_shared_temp_folder_is_not_trusted(cache: Path, tmp_path: Path, clean_env,
                                             caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    clean_env[pt.CACHE_ENV] = str(blocker / "cache")
    fallback = Path(tempfile.gettempdir()) / f"cchc-cache-{os.getuid()}"
    _template(fallback)  # planted in a folder anybody can write to
    fallback.chmod(0o777)
    home = tmp_path / "home"

    with caplog.at_level(logging.WARNING, logger="cchc.prefect_template"):
        assert pt.start_from_template(home) is False

    assert "no writable cache folder" in caplog.text
    assert not (home / "prefect.db").exists()


class _Stop(Exception):
    """Raised where the server would be started: everything before it has run."""


@pytest.mark.parametrize("database_url", [None, "postgresql+asyncpg://prefect@db:5432/prefect"])
def test_the_served_prefect_server_starts_from_the_template_on_sqlite_only(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        database_url: str | None) -> None:
    from cchc.service import prefect_server

    _template(cache)
    home = tmp_path / "home"

    def stop(*args, **kwargs):
        raise _Stop

    monkeypatch.setattr(prefect_server, "port_in_use", stop)
    with pytest.raises(_Stop), prefect_server.start_prefect_server(
            home, port=4999, auth_string="s", database_url=database_url):
        pass

    assert (home / "prefect.db").exists() is (database_url is None)


# Runs in a new Prefect home with the root logger at INFO, so alembic's lines show: "Context
# impl" when Prefect's server checks the schema, "Running upgrade" for each migration it runs.
TRIVIAL_FLOW = """
from prefect import flow

@flow
def add_one(x: int) -> int:
    return x + 1

print("result", add_one(41))
"""


@pytest.mark.server
@pytest.mark.integration
def test_a_temporary_server_on_the_template_migrates_nothing_and_runs_a_flow(
        tmp_path: Path, clean_env) -> None:
    """The real thing: Prefect's own upgrade builds the template (once per machine, in the
    user's cache unless CCHC_CACHE_DIR says otherwise), a new home gets a copy, and Prefect's
    temporary server starts on it without a migration."""
    home = tmp_path / "home"
    assert pt.start_from_template(home) is True
    template = pt.find_template()
    assert template is not None
    assert template.name.endswith(f"-{_revision(template)}.db")  # named by its schema head

    env = {**clean_env, "PREFECT_HOME": str(home), "PREFECT_LOGGING_ROOT_LEVEL": "INFO",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"}
    done = subprocess.run([sys.executable, "-c", TRIVIAL_FLOW], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    output = done.stdout + done.stderr

    assert done.returncode == 0, output[-3000:]
    assert "result 42" in done.stdout
    assert "alembic.runtime.migration - Context impl SQLiteImpl" in output  # the check ran
    assert "Running upgrade" not in output
