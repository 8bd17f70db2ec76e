"""A bad file or setting stops `g7bot` at once with the file, the field and the reason: no traceback."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.errors import ConfigError
from bot.settings import ROOT
from bot.startup import DatabaseUnavailable, open_store
from tests.helpers import COMMITMENTS_YML, RELEASE_YML, free_port


def run_bot(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS`; pass `cwd` (a temporary folder) for anything that opens the console's ./var log."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "G7BOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def serve_env(data_dir: Path, tmp_path: Path, **values: str) -> dict[str, str]:
    """Settings `serve` accepts in HTTP mode; nothing answers at SLACK_API_URL, so a bad file must stop it first."""
    return {
        "G7BOT_DATA_DIR": str(data_dir),
        "G7BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "HOST": "127.0.0.1",
        "PORT": "0",
        **values,
    }


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    return folder


def replace_once(path: Path, old: str, new: str) -> None:
    """Edit a copied data file as an admin would, checking the text to replace is there."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "field"),
    [
        pytest.param("schedule.yml", '"0 9 * * MON"', '"at nine"', "digests.0.cron", id="schedule-cron"),
        pytest.param("schedule.yml", "Europe/Paris", "Europe/Pariss", "digests.1.timezone", id="schedule-tz"),
        pytest.param(COMMITMENTS_YML, "ref: fr}", "ref: xx}", "commitments.0.source.ref", id="commitment-ref"),
        pytest.param(RELEASE_YML, "code: FR", "code: [FR]", "bilaterals.7.code", id="release-code"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "console", "check"])
def test_a_bad_data_file_stops_with_file_and_field(
    data_dir: Path, tmp_path: Path, command: str, file: str, old: str, new: str, field: str
) -> None:
    path = data_dir / file
    replace_once(path, old, new)
    result = run_bot(command, env=serve_env(data_dir, tmp_path), cwd=tmp_path)
    # The console answers without a valid schedule (a warning); everything else stops.
    assert result.returncode == (0 if command == "console" and file == "schedule.yml" else 78)
    assert f"{path}: {field}:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_bad_setting_names_the_variable(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = run_bot("serve", env={"PORT": "eighty", "SLACK_SIGNING_SECRET": "s", "G7BOT_DATABASE_URL": db})
    assert result.returncode == 78
    assert "PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_in_http_mode_needs_the_signing_secret(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = run_bot("serve", env={"SLACK_BOT_TOKEN": "xoxb-test", "G7BOT_DATABASE_URL": db})
    assert result.returncode == 78
    assert "SLACK_SIGNING_SECRET" in result.stderr


@pytest.mark.parametrize(
    ("file", "old", "new", "field"),
    [
        pytest.param(COMMITMENTS_YML, "due: 2026-12-11", "due: 2026-02-30", "commitments.0.due", id="due-feb-30"),
        pytest.param(RELEASE_YML, "published: 2025-12-10", "published: 2025-13-10", "published", id="month-13"),
        pytest.param(RELEASE_YML, "start: 2025-12-08", "start: 2025-12-32", "meeting.start", id="day-32"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "ask", "check"])
def test_an_impossible_date_is_a_config_error_not_a_traceback(
    data_dir: Path, tmp_path: Path, command: str, file: str, old: str, new: str, field: str
) -> None:
    """Before: PyYAML raised ValueError while parsing, exit 1 with a traceback and no field named."""
    path = data_dir / file
    replace_once(path, old, new)
    result = run_bot(
        command, *(["summary"] if command == "ask" else []), env=serve_env(data_dir, tmp_path), cwd=tmp_path
    )
    assert result.returncode == 78
    assert f"{path}: {field}: " in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("not a url", "expected a SQLAlchemy URL", id="malformed"),
        pytest.param("mysql://db.example/g7bot", "expected a SQLite or PostgreSQL URL", id="other-database"),
        pytest.param("postgresql+psycopg://u:secret@db.example:port/g7bot", "expected a SQLAlchemy URL", id="bad-port"),
        pytest.param(
            "postgresql+nodriver://db.example/g7bot",
            "expected a database driver that is installed",
            id="unknown-driver",
        ),
    ],
)
def test_a_bad_database_url_names_the_variable(data_dir: Path, tmp_path: Path, url: str, expected: str) -> None:
    result = run_bot("serve", env=serve_env(data_dir, tmp_path, G7BOT_DATABASE_URL=url), cwd=tmp_path)
    assert result.returncode == 78
    assert f"environment: G7BOT_DATABASE_URL: {expected}" in result.stderr
    assert "secret" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("file/sub/db.sqlite3", id="a-file-in-the-way"),
        pytest.param("folder", id="a-folder-not-a-file"),
        pytest.param("junk.sqlite3", id="not-a-database"),
    ],
)
def test_a_sqlite_path_that_cannot_be_used_is_a_config_error(data_dir: Path, tmp_path: Path, where: str) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    (tmp_path / "junk.sqlite3").write_text("not a database " * 100, encoding="utf-8")
    url = f"sqlite:///{tmp_path / where}"
    result = run_bot("serve", env=serve_env(data_dir, tmp_path, G7BOT_DATABASE_URL=url), cwd=tmp_path)
    assert result.returncode == 78
    assert "environment: G7BOT_DATABASE_URL: cannot " in result.stderr
    assert str(tmp_path / where) in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_that_stays_down_is_waited_for_then_exit_69(data_dir: Path, tmp_path: Path) -> None:
    """Not a config error (a supervisor should restart), and one log line per attempt, no traceback."""
    port = free_port()
    env = serve_env(
        data_dir,
        tmp_path,
        G7BOT_DATABASE_URL=f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{port}/test",
        G7BOT_DATABASE_WAIT_SECONDS="1.5",
    )
    result = run_bot("serve", env=env, cwd=tmp_path)
    assert result.returncode == 69
    attempts = [line for line in result.stderr.splitlines() if "WARNING bot.startup: database" in line]
    assert len(attempts) >= 2
    assert all("not reachable (attempt" in line for line in attempts)
    assert "did not answer within 1.5 s" in result.stderr
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


def test_answers_do_not_need_the_schedule_but_serve_does(data_dir: Path, tmp_path: Path) -> None:
    path = data_dir / "schedule.yml"
    path.write_text(path.read_text(encoding="utf-8").replace('"0 9 * * MON"', '"at nine"', 1), encoding="utf-8")
    env = serve_env(data_dir, tmp_path)

    answered = run_bot("ask", "summary", "en", env=env, cwd=tmp_path)
    assert answered.returncode == 0
    assert "G7 Industry, Digital and Technology Ministers' Meeting" in answered.stdout
    assert "warning: the schedule is not valid" in answered.stderr
    assert f"{path}: digests.0.cron: " in answered.stderr

    console = run_bot("console", env=env, cwd=tmp_path)
    assert console.returncode == 0
    assert f"{path}: digests.0.cron: " in console.stderr

    checked = run_bot("check", env=env, cwd=tmp_path)
    assert checked.returncode == 78
    assert f"ok  {data_dir / RELEASE_YML}" in checked.stdout
    assert f"{path}: digests.0.cron: " in checked.stderr

    served = run_bot("serve", env=env, cwd=tmp_path)
    assert served.returncode == 78
    assert f"{path}: digests.0.cron: " in served.stderr
    assert (tmp_path / "var" / "g7bot-console.sqlite3").exists()  # the console's log, in its working directory


def test_check_warns_about_the_placeholder_channels(data_dir: Path, tmp_path: Path) -> None:
    result = run_bot("check", env=serve_env(data_dir, tmp_path), cwd=tmp_path)
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert f"{data_dir / 'schedule.yml'}: digests.0.channel: warning: C0123456789 is a placeholder" in warnings[0]
    assert any(line.startswith(f"{data_dir / COMMITMENTS_YML}: commitments.0.channel:") for line in warnings)
    channels = [line for line in warnings if "owners.yml" not in line]
    assert len(channels) == 4
    # data/owners.yml's example user and user group ids are placeholders too.
    owners = f"{data_dir / 'owners.yml'}: owners.0.users.0: warning: U0123456789"
    assert any(line.startswith(owners) for line in warnings)


# --- waiting for the database, in process with a fake clock -----------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def flaky(failures: int, reason: str = "connection refused") -> tuple[list[str], Callable[[str], Any]]:
    calls: list[str] = []

    def connect(url: str) -> Any:
        calls.append(url)
        if len(calls) <= failures:
            raise OperationalError("SELECT 1", {}, Exception(reason))
        return "store"

    return calls, connect


URL = "postgresql+psycopg://g7bot:hunter2@db.example/g7bot"


def test_a_database_that_comes_back_is_waited_for_with_backoff(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    calls, connect = flaky(3)
    with caplog.at_level(logging.WARNING, logger="bot.startup"):
        store = open_store(
            URL,
            setting="G7BOT_DATABASE_URL",
            wait_seconds=60,
            connect=connect,
            sleep=clock.sleep,
            monotonic=lambda: clock.now,
        )
    assert store == "store"
    assert len(calls) == 4
    assert clock.sleeps == [0.5, 1.0, 2.0]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert lines[0] == (
        "database postgresql+psycopg://g7bot:***@db.example/g7bot not reachable (attempt 1): connection refused; "
        "trying again in 0.5 s"
    )
    assert not any("hunter2" in line for line in lines)


def test_a_database_that_stays_down_gives_up_after_the_wait() -> None:
    clock = FakeClock()
    _, connect = flaky(10**6)
    with pytest.raises(DatabaseUnavailable, match=r"did not answer within 20 s .* last error: connection refused"):
        open_store(
            URL,
            setting="G7BOT_DATABASE_URL",
            wait_seconds=20,
            connect=connect,
            sleep=clock.sleep,
            monotonic=lambda: clock.now,
        )
    assert sum(clock.sleeps) == pytest.approx(20)
    assert max(clock.sleeps) <= 10  # backoff is capped, so a database back after a while is seen soon


def test_a_database_that_refuses_the_url_is_a_config_error_at_once() -> None:
    clock = FakeClock()
    calls, connect = flaky(10**6, 'FATAL:  database "g7bot" does not exist')
    with pytest.raises(ConfigError) as info:
        open_store(
            URL,
            setting="G7BOT_DATABASE_URL",
            wait_seconds=60,
            connect=connect,
            sleep=clock.sleep,
            monotonic=lambda: clock.now,
        )
    assert len(calls) == 1
    assert clock.sleeps == []
    assert info.value.problems[0][0] == "G7BOT_DATABASE_URL"
    assert 'database "g7bot" does not exist' in info.value.problems[0][1]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        pytest.param("G7BOT_LOG_LEVEL", "loud", "expected one of DEBUG, INFO", id="log-level"),
        pytest.param("G7BOT_DATABASE_WAIT_SECONDS", "-1", "greater than or equal to 0", id="negative-wait"),
        pytest.param("G7BOT_GRACE_MINUTES", "inf", "less than or equal to 10080", id="infinite-grace"),
        pytest.param("G7BOT_LEASE_SECONDS", "1e12", "less than or equal to 86400", id="huge-lease"),
        pytest.param("G7BOT_DATABASE_URL", "sqlite:/relative", "expected a SQLAlchemy URL", id="bad-url"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str, expected: str
) -> None:
    """In process: `main` turns it into exit 78, where it used to be a traceback (log level) or a late crash."""
    from bot.__main__ import main

    monkeypatch.setenv(variable, value)
    assert main(["check"]) == 78
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0] == "g7bot: configuration error"
    assert lines[1].startswith(f"environment: {variable}: ")
    assert expected in err


def test_main_in_process_leaves_logging_as_it_found_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: `ask` left bot.schedule at ERROR, hiding every later warning in the same process."""
    from bot.__main__ import main

    monkeypatch.chdir(tmp_path)
    before = {name: logging.getLogger(name).level for name in ("bot.schedule", "apscheduler")}
    assert main(["ask", "help", "en"]) == 0
    assert {name: logging.getLogger(name).level for name in before} == before
    assert "summary" in capsys.readouterr().out


def test_a_locked_sqlite_file_is_waited_for_not_a_config_error(tmp_path: Path) -> None:
    clock = FakeClock()
    calls, connect = flaky(1, "database is locked")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert open_store(url, setting="G7BOT_DATABASE_URL", wait_seconds=5, connect=connect, sleep=clock.sleep) == "store"
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("url", "wait", "expected"),
    [
        pytest.param(URL, 60, URL + "?connect_timeout=10", id="capped-at-10"),
        pytest.param(URL, 2.5, URL + "?connect_timeout=3", id="within-the-wait"),
        pytest.param(URL + "?connect_timeout=30", 60, URL + "?connect_timeout=30", id="own-timeout-kept"),
        pytest.param("sqlite:///x.sqlite3", 60, "sqlite:///x.sqlite3", id="sqlite-untouched"),
    ],
)
def test_each_connection_attempt_is_bounded(url: str, wait: float, expected: str) -> None:
    """A database host that drops packets must not hold an attempt for minutes past the wait."""
    calls, connect = flaky(0)
    open_store(url, setting="G7BOT_DATABASE_URL", wait_seconds=wait, connect=connect)
    assert calls == [expected]
