"""Fuzzed data files: any mutation is refused with exit 78 naming the file (or accepted), never a traceback."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.__main__ import main
from bot.settings import ROOT
from tests.helpers import COMMITMENTS_YML, RELEASE_YML

FILES = (RELEASE_YML, COMMITMENTS_YML, "schedule.yml", "owners.yml", "manifest.yml")

# Values that PyYAML itself turns into an exception while parsing (dates it cannot build, an int
# it cannot convert), then values of every wrong type, and values too long for one Slack message.
RAISING_IN_PYYAML = ("2026-02-30", "2025-13-10", "2025-12-10 25:00:00", "0000-00-00", "!!int 0x", "!!float x")
BAD_VALUES = (
    *RAISING_IN_PYYAML,
    "1900-01-01",
    "20261211",
    "[1, 2]",
    "{a: 1}",
    "[]",
    "{}",
    "~",
    "''",
    "yes",
    "no",
    "-1",
    "0",
    "99999999999999999999999",
    ".inf",
    ".nan",
    "10:30",
    "!!binary zz",
    "!!python/object:os.system ls",
    "*nowhere",
    "&anchor",
    "'unterminated",
    '"\\uZZZZ"',
    "x" * 5000,
    "C0123456789",
    "Asia/Atlantis",
    '"61 9 * * MON"',
    '"0 9 30 2 *"',
)
_KEY_LINE = re.compile(rb"^(?P<indent>[ ]*(?:- )?)(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?P<rest>[ ].*)?$")


def _pristine() -> dict[str, bytes]:
    return {name: ((ROOT / "data" / name) if name != "manifest.yml" else ROOT / name).read_bytes() for name in FILES}


PRISTINE = _pristine()


@st.composite
def mutation(draw: st.DrawFn, name: str) -> bytes:
    """One to three edits of the file's bytes: the mistakes an admin (or a cut-off copy) makes."""
    data = PRISTINE[name]
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(EDITS))(draw, data, name)
    return data


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _key_lines(lines: list[bytes]) -> list[int]:
    return [i for i, line in enumerate(lines) if _KEY_LINE.match(line)] or [0]


def bad_value(draw: st.DrawFn, data: bytes, name: str) -> bytes:
    lines = _lines(data)
    i = draw(st.sampled_from(_key_lines(lines)))
    found = _KEY_LINE.match(lines[i])
    value = draw(st.sampled_from(BAD_VALUES)).encode()
    if found is not None:
        lines[i] = found["indent"] + found["key"] + b": " + value
    return b"\n".join(lines)


def drop_line(draw: st.DrawFn, data: bytes, name: str) -> bytes:
    lines = _lines(data)
    del lines[draw(st.integers(0, len(lines) - 1))]
    return b"\n".join(lines)


def unknown_key(draw: st.DrawFn, data: bytes, name: str) -> bytes:
    lines = _lines(data)
    i = draw(st.sampled_from(_key_lines(lines)))
    found = _KEY_LINE.match(lines[i])
    indent = found["indent"].replace(b"- ", b"  ") if found is not None else b""
    lines.insert(i + 1, indent + draw(st.sampled_from([b"zz_unknown: 1", b"nickname: x", b"due2: 2026-01-01"])))
    return b"\n".join(lines)


def duplicate_line(draw: st.DrawFn, data: bytes, name: str) -> bytes:
    lines = _lines(data)
    i = draw(st.sampled_from(_key_lines(lines)))
    found = _KEY_LINE.match(lines[i])
    # A key given twice (a list item's first key repeated as a sibling key).
    copy = found["indent"].replace(b"- ", b"  ") + lines[i][len(found["indent"]) :] if found else lines[i]
    lines.insert(i + 1, copy)
    return b"\n".join(lines)


def truncate(draw: st.DrawFn, data: bytes, name: str) -> bytes:
    if draw(st.booleans()):
        # At a line boundary: still valid YAML, silently shorter.
        lines = _lines(data)
        return b"\n".join(lines[: draw(st.integers(0, len(lines)))])
    return data[: draw(st.integers(0, len(data)))]


def not_utf8(draw: st.DrawFn, data: bytes, name: str) -> bytes:
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(st.sampled_from([b"\xff", b"\xc3(", b"\x82\xa0", b"\xed\xa0\x80"])) + data[at:]


def tab(draw: st.DrawFn, data: bytes, name: str) -> bytes:
    lines = _lines(data)
    indented = [i for i, line in enumerate(lines) if line.startswith(b"  ")] or [0]
    i = draw(st.sampled_from(indented))
    lines[i] = b"\t" + lines[i].lstrip(b" ")
    return b"\n".join(lines)


def control_character(draw: st.DrawFn, data: bytes, name: str) -> bytes:
    at = draw(st.integers(0, len(data)))
    characters = [b"\x00", b"\x07", b"\x1b", b"\r"]
    return data[:at] + draw(st.sampled_from(characters)) + data[at:]


EDITS: tuple[Callable[[st.DrawFn, bytes, str], bytes], ...] = (
    bad_value,
    bad_value,
    drop_line,
    unknown_key,
    duplicate_line,
    truncate,
    not_utf8,
    tab,
    control_character,
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of data/ and manifest.yml the bot reads, in a working directory of its own (./var for ask)."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copy(ROOT / "manifest.yml", tmp_path / "manifest.yml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("G7BOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("G7BOT_MANIFEST", str(tmp_path / "manifest.yml"))
    yield tmp_path


def target(workdir: Path, name: str) -> Path:
    return workdir / name if name == "manifest.yml" else workdir / "data" / name


def restore(workdir: Path) -> None:
    for name in FILES:
        target(workdir, name).write_bytes(PRISTINE[name])


def assert_clear_outcome(rc: int, out: str, err: str, *, mutated: Path, workdir: Path, command: str) -> None:
    assert "Traceback" not in out + err
    assert rc in (0, 78), err
    if rc == 0:
        return
    paths = [str(target(workdir, n)) for n in FILES]
    problem_lines = [line for line in err.splitlines() if line.startswith((*paths, "environment"))]
    assert problem_lines, err
    # The mutated file is named, unless a still-valid release broke the commitments' references to it.
    named = {p for p in paths if any(line.startswith(f"{p}: ") for line in problem_lines)}
    assert str(mutated) in named or (mutated.name == "release.yml" and named), err
    allowed = ("g7bot: configuration error", "g7bot: warning:", "ok  ")
    for line in err.splitlines():
        assert line.startswith((*paths, "environment", *allowed)), f"{command}: stray line {line!r} in\n{err}"


@pytest.mark.parametrize("name", FILES)
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_mutated_file_is_refused_by_name_or_accepted(
    workdir: Path, capsys: pytest.CaptureFixture[str], name: str, data: st.DataObject
) -> None:
    restore(workdir)
    mutated = target(workdir, name)
    mutated.write_bytes(data.draw(mutation(name), label="file"))
    for argv in (["check"], ["ask", "summary"]):
        rc = main(argv)
        out, err = capsys.readouterr()
        assert_clear_outcome(rc, out, err, mutated=mutated, workdir=workdir, command=argv[0])
        if argv == ["ask", "summary"] and rc == 0 and name == "schedule.yml":
            # A broken schedule does not stop answers; `check` has already said what is wrong with it.
            assert "summary" not in err


@pytest.mark.parametrize(
    ("name", "edit", "field"),
    [
        pytest.param(COMMITMENTS_YML, (b"due: 2026-12-11", b"due: 2026-02-30"), "commitments.0.due", id="feb-30"),
        pytest.param(RELEASE_YML, (b"published: 2025-12-10", b"published: 2025-13-10"), "published", id="month-13"),
        pytest.param("schedule.yml", (b"timezone: Asia/Tokyo", b"timezone:\t[Asia/Tokyo"), "line", id="tab-flow"),
        pytest.param("schedule.yml", (b"lang: en", b"lang: \xff"), "line", id="not-utf8"),
    ],
)
def test_known_crashes_are_clear_errors(
    workdir: Path, capsys: pytest.CaptureFixture[str], name: str, edit: tuple[bytes, bytes], field: str
) -> None:
    path = target(workdir, name)
    old, new = edit
    assert old in PRISTINE[name]
    path.write_bytes(PRISTINE[name].replace(old, new, 1))
    assert main(["check"]) == 78
    _, err = capsys.readouterr()
    assert f"{path}: {field}" in err
    assert "Traceback" not in err


def test_an_impossible_date_in_the_manifest(workdir: Path) -> None:
    path = target(workdir, "manifest.yml")
    path.write_bytes(PRISTINE["manifest.yml"].replace(b"_metadata:", b"x_date: 2025-13-10\n_metadata:", 1))
    assert main(["check"]) == 78


def test_a_control_character_in_the_manifest_is_one_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = target(workdir, "manifest.yml")
    path.write_bytes(b"\x00" + PRISTINE["manifest.yml"])
    assert main(["check"]) == 78
    _, err = capsys.readouterr()
    assert [line for line in err.splitlines() if "manifest.yml" in line or line.startswith(" ")] == [
        f"{path}: line 1: not valid YAML: special characters are not allowed (character U+0000)"
    ]
