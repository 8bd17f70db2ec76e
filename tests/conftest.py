"""Shared fixtures: a clean environment, the release, a Slack stand-in, and the bot driven by text."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.release.loader import load_release
from bot.release.lookup import ReleaseLookup
from bot.release.models import Release
from tests.slack_standin import SlackStandIn

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
# A fixed instant for pure tests: 2025-12-15 09:00 in Tokyo.
NOW = dt.datetime(2025, 12, 15, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's Slack tokens or bot settings."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "G7BOT_")) or name in {"PORT", "HOST"}:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def release() -> Release:
    return load_release()


@pytest.fixture(scope="session")
def lookup(release: Release) -> ReleaseLookup:
    return ReleaseLookup(release)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin
