"""`g7bot import` end to end: the folder it writes, twice the same, --replace, --id, --url, HTML, damaged texts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.importer.cli import EXIT_EXISTS, EXIT_NOTHING
from bot.release.loader import load_release
from tests.importer.helpers import FIXTURES, ORIGINAL


def _import(tmp_path: Path, *args: str) -> int:
    return main(["import", *args, "--into", str(tmp_path / "lib")])


def _section(report: str, name: str) -> list[str]:
    """The lines of one section of a rendered import report."""
    block = report.split(f"\n[{name}]\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines()]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_writes_a_loadable_release_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        _import(tmp_path, str(ORIGINAL), "--url", "https://www.meti.go.jp/press/2025/12/20251210001/20251210001.html")
        == 0
    )
    folder = tmp_path / "lib" / "meti-2025-12-10-g7"
    assert sorted(p.name for p in folder.iterdir()) == ["import-report.txt", "release.yml", "source.txt"]
    release = load_release(folder / "release.yml")
    assert release.source_file == "source.txt"
    assert release.url == "https://www.meti.go.jp/press/2025/12/20251210001/20251210001.html"
    assert (folder / "source.txt").read_text(encoding="utf-8") == ORIGINAL.read_text(encoding="utf-8")
    out = capsys.readouterr().out
    assert out.startswith("Import report")
    assert (folder / "import-report.txt").read_text(encoding="utf-8") in out


def test_same_file_twice_gives_identical_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["import", str(ORIGINAL), "--into", str(first)]) == 0
    assert main(["import", str(ORIGINAL), "--into", str(second)]) == 0
    name = "meti-2025-12-10-g7"
    assert _files(first / name) == _files(second / name)


def test_id_option(tmp_path: Path) -> None:
    assert _import(tmp_path, str(ORIGINAL), "--id", "g7-montreal") == 0
    assert load_release(tmp_path / "lib" / "g7-montreal" / "release.yml").id == "g7-montreal"


def test_refuses_to_overwrite_then_replace_keeps_the_previous_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.importer.cli import run_import
    from bot.release.gazetteer import shipped_gazetteer

    into = tmp_path / "lib"
    assert run_import(ORIGINAL, into=into, gazetteer=shipped_gazetteer()) == 0
    folder = into / "meti-2025-12-10-g7"
    first = _files(folder)
    (folder / "release.yml").write_text("# edited by hand\n", encoding="utf-8")
    (folder / "commitments.yml").write_text("# a person's follow-ups\n", encoding="utf-8")
    assert run_import(ORIGINAL, into=into, gazetteer=shipped_gazetteer()) == EXIT_EXISTS
    assert "--replace" in capsys.readouterr().err
    assert (folder / "release.yml").read_text(encoding="utf-8") == "# edited by hand\n"
    assert run_import(ORIGINAL, into=into, gazetteer=shipped_gazetteer(), replace=True) == 0
    assert str(folder / "previous" / "1") in capsys.readouterr().out
    assert (folder / "previous" / "1" / "release.yml").read_text(encoding="utf-8") == "# edited by hand\n"
    assert (folder / "previous" / "1" / "source.txt").read_bytes() == first["source.txt"]
    # What the import does not write stays where it is; the new files are the first import's again.
    assert (folder / "commitments.yml").read_text(encoding="utf-8") == "# a person's follow-ups\n"
    assert {n: b for n, b in _files(folder).items() if n in first} == first
    # A second replace keeps the first one's files too.
    assert run_import(ORIGINAL, into=into, gazetteer=shipped_gazetteer(), replace=True) == 0
    assert sorted(p.name for p in (folder / "previous").iterdir()) == ["1", "2"]
    assert (folder / "previous" / "2" / "release.yml").read_bytes() == first["release.yml"]
    load_release(folder / "release.yml")


def test_saved_html_page(tmp_path: Path) -> None:
    lines = (FIXTURES / "listing_circled.txt").read_text(encoding="utf-8").splitlines()
    body = "".join(f"<p>{line}</p>\n" for line in lines[1:])
    page = (
        "<!DOCTYPE html><html><head><title>x</title><script>var a = '2020年1月1日';</script></head><body>"
        f"<nav><ul><li><a href='/'>ホーム</a></li><li>ニュースリリース</li></ul></nav><main>{body}</main></body></html>"
    )
    html = tmp_path / "page.html"
    html.write_text(page, encoding="utf-8")
    assert _import(tmp_path, str(html)) == 0
    folder = tmp_path / "lib" / "meti-2023-05-22-apec"
    release = load_release(folder / "release.yml")
    assert len(release.bilaterals) == 4
    assert release.desks[1].topic.ja == "デジタル貿易について"
    assert "<p>" not in (folder / "source.txt").read_text(encoding="utf-8")


def test_truncated_text_reports_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ORIGINAL.read_text(encoding="utf-8")
    cut = tmp_path / "cut.txt"
    cut.write_text(text[: text.index("(5)カナダ")] + "(5)カナダのソロ", encoding="utf-8")
    assert _import(tmp_path, str(cut)) == 0
    report = (tmp_path / "lib" / "meti-2025-12-10-g7" / "import-report.txt").read_text(encoding="utf-8")
    assert "NOT READ: no contact block (担当, 本件の担当) was found" in _section(report, "contacts")
    assert any("desks: List should have at least 1 item" in line for line in _section(report, "validation"))
    # The cut heading (5) is reported, not guessed, and its line is listed as unused.
    assert any("could not read" in line for line in _section(report, "bilaterals"))
    assert "(5)カナダのソロ" in report.split("Source lines not used:")[1]
    assert "release.yml does not validate yet" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\xff\xfe garbage \x00", "ニュースリリース\n本文がありません。\n".encode()],
    ids=["empty", "binary", "no-date"],
)
def test_nothing_usable_exits_non_zero_and_writes_nothing(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    assert _import(tmp_path, str(bad)) == EXIT_NOTHING
    assert not (tmp_path / "lib").exists()


def test_damaged_text_never_a_traceback(tmp_path: Path) -> None:
    text = ORIGINAL.read_text(encoding="utf-8")
    # Lines shuffled, brackets and numbers broken: whatever is read is reported, no exception escapes.
    damaged = "\n".join(reversed(text.replace("(", "((").replace("内線 ", "内線 x").splitlines()))
    damaged = text.splitlines()[5] + "\n" + text.splitlines()[6] + "\n" + damaged
    path = tmp_path / "damaged.txt"
    path.write_text(damaged, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "import", str(path), "--into", str(tmp_path / "lib")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "G7BOT_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        },
    )
    assert "Traceback" not in done.stderr
    assert done.returncode == 0
    report = (tmp_path / "lib" / "meti-2025-12-10-g7" / "import-report.txt").read_text(encoding="utf-8")
    assert report in done.stdout
    assert [line for line in _section(report, "validation") if line.startswith("NOT READ: ")]
    assert "release.yml does not validate yet" in done.stderr


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _import(tmp_path, str(tmp_path / "nope.txt")) == EXIT_NOTHING
    assert "Cannot read" in capsys.readouterr().err
