"""A bad file or setting stops `g7bot` at once with the file, the field and the reason: no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import ROOT


def run_bot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "G7BOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    return folder


@pytest.mark.parametrize(
    ("file", "old", "new", "field"),
    [
        pytest.param("schedule.yml", '"0 9 * * MON"', '"at nine"', "digests.0.cron", id="schedule-cron"),
        pytest.param("schedule.yml", "Europe/Paris", "Europe/Pariss", "digests.1.timezone", id="schedule-tz"),
        pytest.param("commitments.yml", "ref: fr}", "ref: xx}", "commitments.0.source.ref", id="commitment-ref"),
        pytest.param("release.yml", "code: FR", "code: [FR]", "bilaterals.7.code", id="release-code"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "console", "check"])
def test_a_bad_data_file_stops_with_file_and_field(
    data_dir: Path, tmp_path: Path, command: str, file: str, old: str, new: str, field: str
) -> None:
    path = data_dir / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    env = {
        "G7BOT_DATA_DIR": str(data_dir),
        "G7BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "HOST": "127.0.0.1",
        "PORT": "0",
    }
    result = run_bot(command, env=env)
    assert result.returncode == 78
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
