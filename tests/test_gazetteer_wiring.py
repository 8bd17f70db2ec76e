"""The gazetteer follows G7BOT_DATA_DIR, is checked by `g7bot check`, and `admin reload` picks up its edits."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.settings import load_settings
from bot.startup import start
from bot.transports.local import LOCAL_USER
from tests.helpers import RELEASE_IN_DATA

ROOT = Path(__file__).resolve().parents[1]
NO_MATCH = "No bilateral meeting matches"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    return data


def _titles(started: object, text: str) -> str:
    message = asyncio.run(started.ask(text))  # type: ignore[attr-defined]
    return str(message["text"])


def test_the_data_folder_s_gazetteer_is_used_and_reloaded(data_dir: Path) -> None:
    started = start(load_settings(data_dir=data_dir, admin_users=LOCAL_USER), local=True)
    assert NO_MATCH in _titles(started, "bilateral hexagone en")

    gazetteer = data_dir / "gazetteer.yml"
    gazetteer.write_text(
        gazetteer.read_text(encoding="utf-8").replace("names: [France,", "names: [Hexagone, France,", 1),
        encoding="utf-8",
    )
    assert NO_MATCH in _titles(started, "bilateral hexagone en"), "nothing changes before a reload"
    assert "reloaded" in _titles(started, "admin reload en")
    shown = _titles(started, "bilateral hexagone en")
    assert NO_MATCH not in shown
    assert "Le Hénanff" in shown


def test_a_data_folder_without_a_gazetteer_uses_the_shipped_one(data_dir: Path) -> None:
    (data_dir / "gazetteer.yml").unlink()
    started = start(load_settings(data_dir=data_dir), local=True)
    shown = _titles(started, "bilateral french republic en")
    assert NO_MATCH not in shown
    assert "Le Hénanff" in shown


def test_check_names_a_bad_gazetteer(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (data_dir / "gazetteer.yml").write_text("countries:\n  - code: FR\n    codez: [FR]\n", encoding="utf-8")
    monkeypatch.setenv("G7BOT_DATA_DIR", str(data_dir))
    assert main(["check"]) == 78
    err = capsys.readouterr().err
    assert f"{data_dir / 'gazetteer.yml'}: countries.0.codez" in err
    assert "Traceback" not in err


def test_citations_read_the_original_in_the_data_folder_from_the_start(data_dir: Path) -> None:
    # Digests and reminders cite too: the data folder's own original text is indexed at load and reload.
    from bot.release.citation import source_index

    started = start(load_settings(data_dir=data_dir, admin_users=LOCAL_USER), local=True)
    folder = data_dir / RELEASE_IN_DATA
    assert source_index(started.runtime.library.current.default.release).folder == folder
    assert "reloaded" in _titles(started, "admin reload en")
    assert source_index(started.runtime.library.current.default.release).folder == folder
