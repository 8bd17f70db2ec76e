"""The parse cache: a large library is read back from JSON while its files are unchanged, and says the same."""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path

import pytest

from bot.datafiles import load_yaml_model, read_yaml
from bot.errors import ConfigError
from bot.library import loader
from bot.library.loader import load_library, parse_cache_for, scan_library
from bot.parse_cache import KEEP_UNUSED_SECONDS, ParseCache, Pool, plain
from bot.release.gazetteer import shipped_gazetteer
from bot.release.models import Label, Release, Text, UntranslatedLabel
from bot.settings import Settings
from tests.helpers import ROOT, copy_data_dir, write_release

SHIPPED = ROOT / "data" / "releases" / "meti-2025-12-10-g7-idt" / "release.yml"


@pytest.fixture
def cache(tmp_path: Path) -> ParseCache:
    return ParseCache(tmp_path / "cache")


def test_a_cached_read_gives_what_parsing_gives(cache: ParseCache) -> None:
    parsed = read_yaml(SHIPPED)
    first = read_yaml(SHIPPED, cache=cache)
    second = read_yaml(SHIPPED, cache=cache)
    assert (cache.misses, cache.hits) == (1, 1)
    assert first == parsed and second == parsed
    assert load_yaml_model(SHIPPED, Release, cache=cache) == load_yaml_model(SHIPPED, Release)
    assert len(list(cache.folder.glob("*.json"))) == 1


def test_a_changed_file_is_parsed_again(tmp_path: Path, cache: ParseCache) -> None:
    path = tmp_path / "a.yml"
    path.write_text("name: one\n", encoding="utf-8")
    assert read_yaml(path, cache=cache) == {"name": "one"}
    path.write_text("name: two\n", encoding="utf-8")
    assert read_yaml(path, cache=cache) == {"name": "two"}
    assert (cache.misses, cache.hits) == (2, 0)
    path.write_text("name: one\n", encoding="utf-8")
    assert read_yaml(path, cache=cache) == {"name": "one"}
    assert cache.hits == 1


def test_a_damaged_cache_file_is_parsed_again(
    tmp_path: Path, cache: ParseCache, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "a.yml"
    path.write_text("name: one\nlist: [a, b]\n", encoding="utf-8")
    read_yaml(path, cache=cache)
    (stored,) = cache.folder.glob("*.json")
    stored.write_text('{"name": "on', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.parse_cache"):
        assert read_yaml(path, cache=cache) == {"name": "one", "list": ["a", "b"]}
    assert "damaged" in caplog.text
    # and it was written anew
    assert read_yaml(path, cache=ParseCache(cache.folder)) == {"name": "one", "list": ["a", "b"]}


def test_an_unwritable_cache_folder_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    cache = ParseCache(blocker / "cache")
    with caplog.at_level(logging.WARNING, logger="bot.parse_cache"):
        assert load_yaml_model(SHIPPED, Release, cache=cache) == load_yaml_model(SHIPPED, Release)
        load_yaml_model(SHIPPED, Release, cache=cache)
    assert caplog.text.count("cannot write") == 1


@pytest.mark.parametrize(
    ("yaml_text", "cached"),
    [
        ("a: 1\nb: 1.5\nc: true\nd: null\ne: [x, {f: g}]\n", True),
        ("a: .inf\n", False),  # JSON has no infinity
        ("1: one\n", False),  # JSON would make the key "1"
        ("a: !!binary aGVsbG8=\n", False),  # bytes
        ("a: !!set {x, y}\n", False),
    ],
)
def test_only_what_json_gives_back_exactly_is_cached(
    tmp_path: Path, cache: ParseCache, yaml_text: str, cached: bool
) -> None:
    path = tmp_path / "a.yml"
    path.write_text(yaml_text, encoding="utf-8")
    parsed = read_yaml(path)
    assert plain(parsed) is cached
    assert read_yaml(path, cache=cache) == parsed
    assert read_yaml(path, cache=cache) == parsed
    assert (cache.hits == 1) is cached
    assert bool(list(cache.folder.glob("*.json"))) is cached


def test_a_file_that_fails_validation_names_the_same_field_from_the_cache(tmp_path: Path, cache: ParseCache) -> None:
    path = tmp_path / "release.yml"
    shipped = SHIPPED.read_text(encoding="utf-8")
    path.write_text(shipped.replace("\npublished: 2025-12-10\n", "\npublished: 1850-01-01\n"), encoding="utf-8")
    problems = []
    for _ in range(2):
        with pytest.raises(ConfigError) as raised:
            load_yaml_model(path, Release, cache=cache)
        problems.append(raised.value.problems)
    assert cache.hits == 1
    assert problems[0] == problems[1]
    assert [field for field, _ in problems[0]] == ["published"]


def test_the_pool_shares_equal_strings_between_files(tmp_path: Path) -> None:
    pool = Pool()
    cache = ParseCache(tmp_path / "cache", pool=pool)
    for name in ("a", "b"):
        (tmp_path / f"{name}.yml").write_text(f"office: 通商政策局\nid: {name}\nlist: [国際経済課]\n", encoding="utf-8")
    a = read_yaml(tmp_path / "a.yml", cache=cache)  # parsed
    b = read_yaml(tmp_path / "b.yml", cache=cache)  # parsed
    assert a["office"] is b["office"] and a["list"][0] is b["list"][0]
    again = ParseCache(tmp_path / "cache", pool=pool)
    c = read_yaml(tmp_path / "a.yml", cache=again)  # from JSON
    assert again.hits == 1
    assert c["office"] is a["office"] and c["list"][0] is a["list"][0]
    assert c["id"] == "a" and b["id"] == "b"


def test_prune_removes_files_unused_for_a_week(tmp_path: Path, cache: ParseCache) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.yml").write_text(f"id: {name}\n", encoding="utf-8")
        read_yaml(tmp_path / f"{name}.yml", cache=cache)
    old, recent = sorted(cache.folder.glob("*.json"), key=lambda p: p.name)
    now = recent.stat().st_mtime + 60
    os.utime(old, (now - KEEP_UNUSED_SECONDS - 1, now - KEEP_UNUSED_SECONDS - 1))
    partial = cache.folder / ".x.json.1.2.tmp"
    partial.write_text("{", encoding="utf-8")
    os.utime(partial, (now - 7200, now - 7200))
    assert cache.prune(now=now) == 2
    assert list(cache.folder.iterdir()) == [recent]


def _library_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int) -> Settings:
    data = copy_data_dir(tmp_path / "data")
    for i in range(1, count):
        write_release(
            data / "releases" / f"r{i:03d}", f"r{i:03d}", published=f"2025-{1 + i % 12:02d}-01", commitment_prefix=None
        )
    monkeypatch.setenv("G7BOT_DATA_DIR", str(data))
    monkeypatch.setenv("G7BOT_CACHE_DIR", str(tmp_path / "cache"))
    return Settings()


def test_a_large_library_is_read_through_the_cache_and_a_small_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _library_settings(tmp_path, monkeypatch, count=4)
    folders = loader.release_folders(settings)
    assert parse_cache_for(settings, folders) is None
    load_library(settings)
    assert not (tmp_path / "cache").exists()

    monkeypatch.setattr(loader, "PARSE_CACHE_FROM", 3)
    cache = parse_cache_for(settings, folders)
    assert cache is not None and cache.folder == tmp_path / "cache" / "parsed"
    first = load_library(settings)
    assert len(list(cache.folder.glob("*.json"))) == 4
    counted = ParseCache(cache.folder)
    second = scan_library(settings, gazetteer=shipped_gazetteer(), cache=counted)
    assert (counted.hits, counted.misses) == (4, 0)
    assert [e.release for e in first] == sorted(
        (e.release for e in second.entries), key=lambda r: (-r.published.toordinal(), r.id)
    )


def test_the_cycle_collector_is_paused_while_reading_and_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _library_settings(tmp_path, monkeypatch, count=2)
    seen: list[bool] = []
    real = loader.load_entry

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "load_entry", spy)
    assert gc.isenabled()
    load_library(settings)
    assert seen == [False, False]
    assert gc.isenabled()
    gc.disable()
    try:
        load_library(settings)
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_an_untranslated_field_is_a_marked_copy_of_its_own_kind() -> None:
    label = Label(ja="量子技術", en="量子技術")
    assert label.translated and label("en") == "量子技術"
    raw = read_yaml(SHIPPED)
    marked = Release.model_validate({**raw, "untranslated": ["title"], "title": {"ja": "量子技術", "en": "量子技術"}})
    assert isinstance(marked.title, UntranslatedLabel) and isinstance(marked.title, Label)
    assert not marked.title.translated
    assert marked.title("ja") == "量子技術"
    assert marked.title("en") != "量子技術" and "量子技術" in marked.title("en")
    assert marked.model_dump()["title"] == {"ja": "量子技術", "en": "量子技術"}
    assert marked.title != label  # a marked text is not the unmarked one
    # No private attribute: a library of a thousand releases holds a hundred thousand texts.
    assert Text(ja="a", en="b").__pydantic_private__ is None
