"""An older g7bot meeting a database a newer one migrated: one clear line, exit 78, and the database left as it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.__main__ import EXIT_CONFIG, main
from bot.errors import DatabaseTooNew
from bot.schedule.store import Store, head_revision
from tests.slack_standin import SlackStandIn

# A revision no migration of this code has (a newer g7bot's): the head's id with a suffix, never a real one.
NEWER = f"{head_revision()}_from_a_newer_g7bot"


def _migrated_by_a_newer_g7bot(url: str) -> None:
    """A database at this code's head, then marked as a newer g7bot leaves it."""
    Store(url).close()
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": NEWER})
    finally:
        engine.dispose()


def _version_and_tables(url: str) -> tuple[list[str], list[str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            versions = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
            return versions, sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_the_store_refuses_a_revision_it_does_not_know(store_url: str) -> None:
    _migrated_by_a_newer_g7bot(store_url)
    before = _version_and_tables(store_url)
    with pytest.raises(DatabaseTooNew) as caught:
        Store(store_url)
    error = caught.value
    assert (error.revision, error.head) == (NEWER, head_revision())
    said = str(error)
    assert NEWER in said and head_revision() in said
    assert "upgrade g7bot" in said
    assert "\n" not in said
    assert _version_and_tables(store_url) == before, "nothing is migrated, stamped or dropped"


def test_a_known_older_revision_still_upgrades(store_url: str) -> None:
    # The refusal is for unknown revisions only: a database one migration behind is brought to head.
    Store(store_url).close()
    engine = create_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()})
    finally:
        engine.dispose()
    with Store(store_url):
        pass
    assert _version_and_tables(store_url)[0] == [head_revision()]


def test_serve_stops_with_one_line_naming_the_revision(
    store_url: str,
    tmp_path: Path,
    slack: SlackStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _migrated_by_a_newer_g7bot(store_url)
    for name, value in {
        "SLACK_BOT_TOKEN": "xoxb-newer-db-0000",
        "SLACK_SIGNING_SECRET": "newer-db-signing-secret",
        "SLACK_API_URL": slack.api_url,
        "G7BOT_DATABASE_URL": store_url,
        "G7BOT_DATABASE_WAIT_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    assert main(["serve"]) == EXIT_CONFIG

    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("g7bot:")]
    assert len(lines) == 1, err
    assert NEWER in lines[0] and "upgrade g7bot" in lines[0]
    assert "Traceback" not in err
    assert not slack.posts()
