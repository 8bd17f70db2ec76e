"""load_library: every release folder under data/releases/, validated together; the legacy layout; the default."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.errors import ConfigError
from bot.library.loader import LibraryError, load_library
from bot.release.citation import source_index
from bot.settings import load_settings
from tests.helpers import SHIPPED_RELEASE, copy_data_dir, write_release

SHIPPED_ID = "meti-2025-12-10-g7-idt"
NEWER_ID = "meti-2026-01-15-g7-trade"
NEWER_TITLE = ("G7貿易大臣会合に出席しました", "Attended the G7 Trade Ministers' Meeting")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return copy_data_dir(tmp_path / "data")


def _error(data_dir: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_library(load_settings(data_dir=data_dir))
    return caught.value


def test_the_shipped_data_is_a_library_of_one(data_dir: Path) -> None:
    library = load_library(load_settings(data_dir=data_dir))
    assert [e.id for e in library] == [SHIPPED_ID]
    entry = library.default
    assert entry.folder == data_dir / "releases" / SHIPPED_ID
    assert entry.lookup.release is entry.release
    assert len(entry.commitments) == 13
    assert {c.release_id for c in entry.commitments} == {SHIPPED_ID}
    assert library.commitments == entry.commitments


def test_a_second_folder_is_a_second_release_newest_first(data_dir: Path) -> None:
    write_release(data_dir / "releases" / NEWER_ID, NEWER_ID, title=NEWER_TITLE, commitment_prefix="trade-")
    library = load_library(load_settings(data_dir=data_dir))
    assert [e.id for e in library] == [NEWER_ID, SHIPPED_ID]
    assert library.default.id == NEWER_ID, "without G7BOT_DEFAULT_RELEASE the newest"
    newer = library.get(NEWER_ID)
    assert newer is not None and newer.release.title("en") == NEWER_TITLE[1]
    assert {c.release_id for c in newer.commitments} == {NEWER_ID}
    assert len(library.commitments) == 26
    assert len({c.id for c in library.commitments}) == 26
    # Its citations read its own original text, in its own folder.
    assert source_index(newer.release).folder == data_dir / "releases" / NEWER_ID


def test_g7bot_default_release_chooses_the_default(data_dir: Path) -> None:
    write_release(data_dir / "releases" / NEWER_ID, NEWER_ID, commitment_prefix=None)
    library = load_library(load_settings(data_dir=data_dir, default_release=SHIPPED_ID))
    assert library.default.id == SHIPPED_ID
    assert library.newest.id == NEWER_ID


def test_the_legacy_layout_is_a_library_of_one_with_a_line_on_how_to_move(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    legacy = tmp_path / "data"
    legacy.mkdir()
    for name in ("release.yml", "source.txt", "commitments.yml"):
        shutil.copy(SHIPPED_RELEASE / name, legacy / name)
    shutil.copy(SHIPPED_RELEASE.parents[1] / "schedule.yml", legacy / "schedule.yml")
    with caplog.at_level(logging.WARNING, logger="bot.library.loader"):
        library = load_library(load_settings(data_dir=legacy))
    assert [e.id for e in library] == [SHIPPED_ID]
    assert library.default.folder == legacy
    assert len(library.commitments) == 13
    assert source_index(library.default.release).folder == legacy
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.library.loader"]
    assert len(lines) == 1
    assert "releases/<release id>" in lines[0] and "source.txt" in lines[0]


def test_a_folder_must_be_named_as_its_release(data_dir: Path) -> None:
    folder = write_release(data_dir / "releases" / "g7-trade", NEWER_ID, commitment_prefix=None)
    error = _error(data_dir)
    assert error.file == str(folder / "release.yml")
    assert [field for field, _ in error.problems] == ["id"]
    assert "'g7-trade'" in error.problems[0][1] and repr(NEWER_ID) in error.problems[0][1]


def test_a_commitment_id_twice_in_the_library_names_both_files(data_dir: Path) -> None:
    folder = write_release(data_dir / "releases" / NEWER_ID, NEWER_ID, commitment_prefix="")
    error = _error(data_dir)
    text = error.describe()
    first = data_dir / "releases" / SHIPPED_ID / "commitments.yml"
    # The newer folder's id sorts after the shipped one's: it is the second file that repeats the ids.
    assert error.file == str(folder / "commitments.yml")
    assert [field for field, _ in error.problems] == [f"commitments.{i}.id" for i in range(13)]
    assert f"{folder / 'commitments.yml'}: commitments.0.id: 'fr-presidency' is in {first} too" in text


def test_a_commitment_of_another_release_is_refused(data_dir: Path) -> None:
    file = SHIPPED_RELEASE.parents[1] / "releases" / SHIPPED_ID / "commitments.yml"
    own = data_dir / "releases" / SHIPPED_ID / "commitments.yml"
    text = file.read_text(encoding="utf-8").replace(
        "  - id: fr-presidency\n", "  - id: fr-presidency\n    release_id: meti-2024-10-04-g7-rome\n", 1
    )
    own.write_text(text, encoding="utf-8")
    error = _error(data_dir)
    assert error.file == str(own)
    assert error.problems == [
        (
            "commitments.0.release_id",
            f"expected {SHIPPED_ID!r}, the release of this folder, got 'meti-2024-10-04-g7-rome'",
        )
    ]


def test_every_bad_folder_is_reported_at_once(data_dir: Path) -> None:
    releases = data_dir / "releases"
    bad_field = write_release(releases / "b-bad-field", "b-bad-field", commitment_prefix=None)
    path = bad_field / "release.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("published: 2026-01-15", "published: 2026-13-15"))
    misnamed = write_release(releases / "c-misnamed", "c-other", commitment_prefix=None)
    error = _error(data_dir)
    assert isinstance(error, LibraryError)
    assert [e.file for e in error.errors] == [str(path), str(misnamed / "release.yml")]
    lines = error.describe().splitlines()
    assert lines[0].startswith(f"{path}: published: ")
    assert lines[1].startswith(f"{misnamed / 'release.yml'}: id: ")
    # The good folder (the shipped one) is not among the problems.
    assert SHIPPED_ID not in error.describe()


def test_an_empty_library_says_where_releases_go(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "releases").mkdir(parents=True)
    error = _error(data)
    assert error.file == str(data / "releases")
    assert "releases/<release id>/release.yml" in error.describe()


def test_an_unknown_default_release_is_a_config_error_naming_the_variable(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("G7BOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("G7BOT_DEFAULT_RELEASE", "meti-1999-01-01-nothing")
    assert main(["ask", "summary"]) == 78
    err = capsys.readouterr().err
    assert "environment: G7BOT_DEFAULT_RELEASE: no release 'meti-1999-01-01-nothing'" in err
    assert SHIPPED_ID in err, "the releases there are are named"
    assert "Traceback" not in err
