"""Shared fixtures: a clean environment, the release, the delivery log, a Slack stand-in, the bot driven by text."""

from __future__ import annotations

import datetime as dt
import gc
import os
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

from bot.release.loader import load_release
from bot.release.lookup import ReleaseLookup
from bot.release.models import Release
from bot.schedule.store import Store
from tests.postgres import postgres_url
from tests.slack_standin import SlackStandIn

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
# Tests work in directories of their own: keep Hypothesis's examples (failures to replay) in the checkout's cache.
settings.register_profile("g7bot", database=DirectoryBasedExampleDatabase(ROOT / ".hypothesis" / "examples"))
settings.load_profile("g7bot")
# A fixed instant for pure tests: 2025-12-15 09:00 in Tokyo.
NOW = dt.datetime(2025, 12, 15, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session", autouse=True)
def _session_workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Module- and session-scoped fixtures run before any test's own directory: give them one too."""
    before = Path.cwd()
    os.chdir(tmp_path_factory.mktemp("workdir"))
    try:
        yield
    finally:
        os.chdir(before)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's Slack tokens or bot settings, or writes into the checkout.

    The bot's default delivery logs live under the working directory's var/: each test works in its own.
    """
    for name in list(os.environ):
        if name.startswith(("SLACK_", "G7BOT_")) or name in {"PORT", "HOST"}:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


# What a test run may leave in the checkout: the venv and the tools' caches.
_BEFORE = pytest.StashKey[set[str] | None]()
_ALLOWED_LEFTOVERS = (".venv/", ".pytest_cache/", ".mypy_cache/", ".ruff_cache/", ".hypothesis/", "g7bot.egg-info/")


def _checkout_state() -> set[str] | None:
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None  # not a git checkout (an sdist, say): nothing to compare
    # New files only ("??" untracked, "!!" ignored), not source a developer is writing meanwhile.
    return {
        line[3:]
        for line in out.splitlines()
        if line[:2] in {"??", "!!"}
        and not line[3:].startswith(_ALLOWED_LEFTOVERS)
        and "__pycache__/" not in line
        and not line.endswith((".py", ".yml", ".md"))
    }


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_BEFORE] = _checkout_state()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_BEFORE, None)
    after = _checkout_state()
    if before is None or after is None:
        return
    changed = sorted(after - before)
    if changed:
        session.config.get_terminal_writer().line(
            "tests changed the checkout (every test must use its own temporary files):\n  " + "\n  ".join(changed),
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED



@pytest.fixture(scope="session")
def release() -> Release:
    return load_release()


@pytest.fixture(scope="session")
def lookup(release: Release) -> ReleaseLookup:
    return ReleaseLookup(release)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own: a SQLite file in its directory, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'g7bot.sqlite3'}"
    else:
        with postgres_url() as url:
            yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store(store_url) as s:
        yield s


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin
    # A client socket of a request aborted half-way (the fence tests) can outlive the stand-in under
    # aiohttp 3.14; collect it here, quietly, rather than let its ResourceWarning fail the next test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
