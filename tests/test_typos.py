"""A mistyped command word that is close to one command only is run as that command, and the reply says so."""

from __future__ import annotations

import pytest

from bot.commands import _close_command, answer, is_static
from bot.messages import msg
from bot.release.lookup import ReleaseLookup
from bot.release.models import Lang
from bot.reply import Reply
from tests.conftest import NOW
from tests.helpers import text_of


def ask(text: str, lookup: ReleaseLookup, lang: Lang = "en", *, is_admin: bool = False) -> Reply:
    return answer(text, lookup=lookup, lang=lang, now=NOW, is_admin=is_admin)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("bilatral frnace", "bilateral frnace"),
        ("bilaterl france", "bilateral france"),
        ("serch quantum", "search quantum"),
        ("summery", "summary"),
        ("contcat ai", "contact ai"),
        ("outcomse", "outcomes"),
        ("followpus", "followups"),
    ],
)
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_typo_of_one_command_runs_it_and_says_how_it_was_read(
    lookup: ReleaseLookup, typed: str, meant: str, lang: Lang
) -> None:
    got = ask(typed, lookup, lang)
    wanted = ask(meant, lookup, lang)
    note = msg("unknown.read_as", lang, typed=typed.split(maxsplit=1)[0], command=f"`/g7 {meant.split(maxsplit=1)[0]}`")
    assert got.title == wanted.title
    assert got.sections == wanted.sections
    assert got.footer == [note, *wanted.footer]
    assert got.citation == wanted.citation


def test_an_unknown_word_far_from_every_command_still_gets_help(lookup: ReleaseLookup) -> None:
    reply = ask("xylophone", lookup)
    assert msg("unknown.command", "en", text="xylophone") in text_of(reply)
    assert all("Read “" not in line for line in reply.footer)


def test_a_short_word_is_not_corrected(lookup: ReleaseLookup) -> None:
    # `sumr` is 4 letters but not close enough; `doc` is too short to be read as `docs`.
    for typed in ("sumr", "doc"):
        assert not any("Read “" in line for line in ask(typed, lookup).footer)


def test_an_admin_command_typo_is_corrected_for_admins_only(lookup: ReleaseLookup) -> None:
    assert not any("Read “" in line for line in ask("admn schedule", lookup).footer)
    assert _close_command("admn", admin=False) is None
    found = _close_command("admn", admin=True)
    assert found is not None and found.name == "admin"


def test_a_corrected_command_keeps_its_caching_rule() -> None:
    # followups depends on the time (due dates): its typo must not be cached as a static answer either.
    assert is_static("summery") is True
    assert is_static("followpus") is False
    assert is_static("followups") is False
