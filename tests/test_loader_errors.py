"""A bad release file gives a ConfigError that names the file and the offending field (or YAML position)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.datafiles import load_yaml_model
from bot.errors import ConfigError
from bot.release.loader import load_release
from bot.release.models import Release


def _text(ja: str, en: str) -> dict[str, str]:
    return {"ja": ja, "en": en}


# The smallest release the model accepts; each case below breaks one thing in a copy of it.
MINIMAL: dict[str, Any] = {
    "id": "test-release",
    "publisher": _text("経済産業省", "METI"),
    "published": "2025-12-10",
    "title": _text("タイトル", "Title"),
    "source_file": "source.txt",
    "meeting": {
        "name": _text("会合", "Meeting"),
        "start": "2025-12-08",
        "end": "2025-12-09",
        "trip_start": "2025-12-07",
        "trip_end": "2025-12-11",
        "city": _text("モントリオール", "Montréal"),
        "country": _text("カナダ", "Canada"),
        "presidency": _text("カナダ", "Canada"),
        "delegation": [{"name": _text("井野", "Ino (井野)"), "title": _text("副大臣", "Vice-Minister")}],
        "topics": [_text("AI", "AI")],
        "japan_said": [_text("発信", "Said")],
    },
    "outcomes": [{"id": "declaration", "title": _text("宣言", "Declaration"), "points": [_text("点", "Point")]}],
    "bilaterals": [
        {
            "id": "us",
            "number": 1,
            "counterpart": {"name": _text("キミット", "Kimmitt"), "title": _text("次官", "Under Secretary")},
            "organisation": _text("米国", "United States"),
            "code": "US",
            "japan_participants": [_text("井野副大臣", "Vice-Minister Ino (井野)")],
            "topics": [_text("AI", "AI")],
            "summary": _text("議論", "Discussed"),
        }
    ],
    "desks": [
        {
            "id": "general",
            "topic": _text("全般", "General"),
            "bureau": _text("通商政策局", "Trade Policy Bureau"),
            "office": _text("国際経済部", "International Economic Affairs Department"),
            "lead": _text("森川", "Morikawa (森川)"),
            "staff": [_text("飯野", "Iino (飯野)")],
            "phone": "03-3501-1511",
            "extension": "3051",
            "email_as_published": "someone★meti.go.jp",
            "keywords": ["general"],
        }
    ],
}


def _write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    change(data)
    return data


def _error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_release(path)
    return info.value


def test_minimal_release_loads(tmp_path: Path) -> None:
    """The base of every case below is valid, so each failure is caused by its one change."""
    release = load_release(_write(tmp_path / "release.yml", MINIMAL))
    assert release.bilaterals[0].code == "US"
    assert release.desks[0].email == "someone@meti.go.jp"


BROKEN: list[Any] = [
    pytest.param(lambda d: d["bilaterals"][0].pop("code"), "bilaterals.0.code", "Field required", id="missing-field"),
    pytest.param(lambda d: d.pop("desks"), "desks", "Field required", id="missing-section"),
    pytest.param(
        lambda d: d["meeting"]["delegation"][0]["name"].pop("en"),
        "meeting.delegation.0.name.en",
        "Field required",
        id="missing-nested-text",
    ),
    pytest.param(
        lambda d: d["bilaterals"][0].update(number="first"),
        "bilaterals.0.number",
        "valid integer",
        id="wrong-type-int",
    ),
    pytest.param(lambda d: d["meeting"].update(start="8 December"), "meeting.start", "date", id="wrong-type-date"),
    pytest.param(
        lambda d: d["outcomes"][0].update(points="one point"),
        "outcomes.0.points",
        "valid list",
        id="wrong-type-list",
    ),
    pytest.param(
        lambda d: d["bilaterals"][0].update(number=0),
        "bilaterals.0.number",
        "greater than",
        id="out-of-range",
    ),
    pytest.param(
        lambda d: d["desks"][0].update(email_as_published="someone@meti.go.jp"),
        "desks.0.email_as_published",
        "pattern",
        id="bad-pattern",
    ),
    pytest.param(
        lambda d: d["bilaterals"][0].update(nickname="x"),
        "bilaterals.0.nickname",
        "unknown key: expected one of id, number, counterpart, organisation, code,",
        id="unknown-field",
    ),
    pytest.param(
        lambda d: d["meeting"].update(end="2025-12-12"),
        "meeting",
        "trip_start <= start <= end <= trip_end",
        id="dates-out-of-order",
    ),
    pytest.param(
        lambda d: d["bilaterals"].append(copy.deepcopy(d["bilaterals"][0])),
        "(top level)",
        "ids must be unique",
        id="duplicate-ids",
    ),
    # Bounds that keep one answer within one Slack message.
    pytest.param(
        lambda d: d["bilaterals"][0]["organisation"].update(en="X" * 151),
        "bilaterals.0.organisation.en",
        "at most 150 characters",
        id="label-too-long-for-a-header",
    ),
    pytest.param(
        lambda d: d["bilaterals"][0]["summary"].update(ja="議" * 1501),
        "bilaterals.0.summary.ja",
        "at most 1500 characters",
        id="text-too-long-for-a-section",
    ),
    pytest.param(
        lambda d: d["outcomes"][0].update(points=[_text("点", "Point")] * 21),
        "outcomes.0.points",
        "at most 20 items",
        id="too-many-points",
    ),
    pytest.param(
        lambda d: d["bilaterals"][0].update(aliases=["a" * 65]),
        "bilaterals.0.aliases.0",
        "at most 64 characters",
        id="alias-too-long",
    ),
    pytest.param(lambda d: d.update(published="1025-12-10"), "published", "between 2000 and 2100", id="year-1025"),
    pytest.param(lambda d: d.update(published=20251210), "published", "got the number", id="number-as-date"),
]


@pytest.mark.parametrize(("change", "field", "reason"), BROKEN)
def test_invalid_field_names_file_and_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], field: str, reason: str
) -> None:
    path = _write(tmp_path / "release.yml", _broken(change))
    error = _error(path)
    assert error.file == str(path)
    assert [f for f, _ in error.problems] == [field]
    assert reason in error.problems[0][1]
    assert str(error).startswith(f"{path}: {field}: ")
    assert reason in str(error)


def test_every_problem_is_reported_on_its_own_line(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["bilaterals"][0].pop("code")
        d["desks"][0].update(extension="ext. 3051")

    path = _write(tmp_path / "release.yml", _broken(change))
    error = _error(path)
    assert {f for f, _ in error.problems} == {"bilaterals.0.code", "desks.0.extension"}
    lines = str(error).splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{path}: ") for line in lines)


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        pytest.param("id: a\n  bad: indentation\n", "line 2, column 6", "mapping values", id="bad-indent"),
        pytest.param("id: a\ntitle: {ja: x\n", "line 3, column 1", "expected ',' or '}'", id="unclosed-flow"),
        pytest.param("id: a\nlist: [1, 2\nx: 3\n", "line 3, column 2", "expected ',' or ']'", id="unclosed-list"),
    ],
)
def test_invalid_yaml_names_line_and_column(tmp_path: Path, text: str, where: str, problem: str) -> None:
    path = tmp_path / "release.yml"
    path.write_text(text, encoding="utf-8")
    error = _error(path)
    assert error.file == str(path)
    assert error.problems[0][0] == where
    assert str(error).startswith(f"{path}: {where}: not valid YAML")
    assert problem in str(error)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "release.yml"
    error = _error(path)
    assert error.problems == [("(file)", "file not found")]
    assert str(error) == f"{path}: (file): file not found"


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "release.yml"
    path.write_bytes(b"id: a\ntitle: \xff\xfe\n")
    error = _error(path)
    assert error.problems == [("line 2", "expected UTF-8 text, got the byte 0xff (save it as UTF-8)")]
    assert str(path) in str(error)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        pytest.param("published", "2025-13-10", "valid date", id="month-13"),
        pytest.param("meeting.start", "2025-02-30", "day value is outside expected range", id="february-30"),
        pytest.param("meeting.end", "2025-12-32", "valid date", id="day-32"),
        pytest.param("published", "2025-12-10 25:00:00", "valid date", id="hour-25"),
    ],
)
def test_an_impossible_date_names_the_field(tmp_path: Path, field: str, value: str, reason: str) -> None:
    """PyYAML would build the date while parsing and raise a bare ValueError; the field must be named."""
    path = tmp_path / "release.yml"
    dumped = yaml.safe_dump(MINIMAL, allow_unicode=True, sort_keys=False)
    key = field.rsplit(".", 1)[-1]
    old = f"{key}: '{MINIMAL[key] if key in MINIMAL else MINIMAL['meeting'][key]}'"
    assert old in dumped
    path.write_text(dumped.replace(old, f"{key}: {value}", 1), encoding="utf-8")
    error = _error(path)
    assert [f for f, _ in error.problems] == [field]
    assert reason in error.problems[0][1]


def test_an_unquoted_valid_date_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "release.yml"
    dumped = yaml.safe_dump(MINIMAL, allow_unicode=True, sort_keys=False).replace("'2025-12-10'", "2025-12-10")
    path.write_text(dumped, encoding="utf-8")
    assert str(load_release(path).published) == "2025-12-10"


@pytest.mark.parametrize(
    ("data", "where", "reason"),
    [
        pytest.param(b"id: a\nmeeting:\n\tname: x\n", "line 3, column 1", "YAML does not allow tabs", id="tab"),
        pytest.param(b"id: a\ntitle: x\x00\n", "line 2", "U+0000", id="nul"),
        pytest.param(b"id: a\nn: !!int 0x\n", "(file)", "not valid YAML", id="bad-int-tag"),
        pytest.param(b'id: a\ntitle: "cut', "line 2, column 12", "unexpected end of stream", id="truncated-quote"),
        # The second would silently win: an admin who added a new `due:` and forgot the old one.
        pytest.param(b"id: a\nmeeting:\n  start: x\n  start: y\n", "line 4, column 3", "'start' twice", id="dup-key"),
    ],
)
def test_unparseable_text_is_one_line_naming_the_place(tmp_path: Path, data: bytes, where: str, reason: str) -> None:
    path = tmp_path / "release.yml"
    path.write_bytes(data)
    error = _error(path)
    assert error.problems[0][0] == where
    assert reason in error.problems[0][1]
    assert len(str(error).splitlines()) == 1


def test_a_folder_instead_of_a_file(tmp_path: Path) -> None:
    (tmp_path / "release.yml").mkdir()
    assert _error(tmp_path / "release.yml").problems == [("(file)", "expected a file, found a folder")]


@pytest.mark.parametrize(
    ("text", "kind"),
    [pytest.param("- a\n- b\n", "list", id="list"), pytest.param("just text\n", "str", id="scalar")],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    path = tmp_path / "release.yml"
    path.write_text(text, encoding="utf-8")
    error = _error(path)
    assert error.problems == [("(top level)", f"expected a mapping, got {kind}")]
    assert str(path) in str(error)


def test_empty_file_reports_each_missing_field(tmp_path: Path) -> None:
    path = tmp_path / "release.yml"
    path.write_text("# nothing here\n", encoding="utf-8")
    error = _error(path)
    required = {name for name, field in Release.model_fields.items() if field.is_required()}
    assert {f for f, _ in error.problems} == required
    assert all(reason == "Field required" for _, reason in error.problems)


def test_load_yaml_model_directly(tmp_path: Path) -> None:
    """The generic helper behaves the same for any model, not just through load_release."""
    path = _write(tmp_path / "other.yml", _broken(lambda d: d["bilaterals"][0].pop("code")))
    with pytest.raises(ConfigError, match=r"other\.yml: bilaterals\.0\.code: Field required"):
        load_yaml_model(path, Release)
