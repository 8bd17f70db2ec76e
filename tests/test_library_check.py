"""`g7bot check` validates the whole library and lists each release; untranslated fields warn, or fail with --strict."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import main
from tests.helpers import copy_data_dir, write_release

SHIPPED_ID = "meti-2025-12-10-g7-idt"
NEW_ID = "meti-2026-03-02-g20-osaka"
# An imported release whose English title is still the Japanese, listed as such.
UNTRANSLATED = ("G20貿易・デジタル経済大臣会合に出席しました", "G20貿易・デジタル経済大臣会合に出席しました")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = copy_data_dir(tmp_path / "data")
    monkeypatch.setenv("G7BOT_DATA_DIR", str(data))
    write_release(
        data / "releases" / NEW_ID,
        NEW_ID,
        published="2026-03-02",
        title=UNTRANSLATED,
        commitment_prefix=None,
        extra="untranslated:\n  - title\n",
    )
    return data


def test_check_lists_each_release_and_warns_of_untranslated_fields(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"]) == 0
    out, err = capsys.readouterr()
    listed = [line for line in out.splitlines() if "releases/" in line]
    assert listed == [
        f"ok  {data_dir / 'releases' / NEW_ID / 'release.yml'}  {NEW_ID}  2026-03-02  {UNTRANSLATED[0]}  "
        "(8 bilateral(s), 2 desk(s), 4 document(s), 0 commitment(s))",
        f"ok  {data_dir / 'releases' / SHIPPED_ID / 'release.yml'}  {SHIPPED_ID}  2025-12-10  "
        "井野経済産業副大臣がG7産業・デジタル・技術大臣会合に参加しました  "
        "(8 bilateral(s), 2 desk(s), 4 document(s), 13 commitment(s))",
    ]
    assert "2 release(s) loaded, 0 with problems" in out
    warning = f"{data_dir / 'releases' / NEW_ID / 'release.yml'}: title: warning: not yet translated"
    assert [line for line in err.splitlines() if "not yet translated" in line] == [
        warning + " (English replies show the Japanese, marked)"
    ]


def test_check_strict_makes_an_untranslated_field_an_error(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--strict"]) == 78
    err = capsys.readouterr().err
    assert f"{data_dir / 'releases' / NEW_ID / 'release.yml'}: title: error: not yet translated" in err
    assert "warning: not yet translated" not in err


def test_check_strict_passes_a_fully_translated_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("G7BOT_DATA_DIR", str(copy_data_dir(tmp_path / "shipped")))
    assert main(["check", "--strict"]) == 0
    assert "not yet translated" not in capsys.readouterr().err


def test_check_reports_every_bad_folder_and_still_lists_the_good_ones(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_release(data_dir / "releases" / "zz-misnamed", "zz-other", commitment_prefix="zz-")
    commitments = bad / "commitments.yml"
    commitments.write_text(commitments.read_text(encoding="utf-8").replace("due: 2026-12-11", "due: 2026-02-30"))
    assert main(["check"]) == 78
    out, err = capsys.readouterr()
    assert f"{bad / 'release.yml'}: id: expected 'zz-misnamed'" in err
    assert "2 release(s) loaded, 1 with problems" in out
    assert f"ok  {data_dir / 'releases' / SHIPPED_ID / 'release.yml'}" in out
    assert "Traceback" not in out + err
