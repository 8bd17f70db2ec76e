"""A library of three releases built in memory from the shipped one (no files): for selectors, history, commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.library import Library
from bot.release.citation import register_source, source_index
from bot.release.models import Bilateral, Label, Release
from bot.schedule.models import Commitment

# The two derived releases: older than the shipped one (2025-12-10), each with France met by someone else.
ROME_ID = "meti-2024-10-04-g7-rome"
TOKYO_ID = "meti-2023-04-30-g7-takasaki"


def _renamed(b: Bilateral, ja: str, en: str) -> Bilateral:
    person = b.counterpart.model_copy(update={"name": Label(ja=ja, en=en)})
    return b.model_copy(update={"counterpart": person})


def derived(release: Release, *, id: str, published: dt.date, title: Label, france: tuple[str, str]) -> Release:
    """The shipped release under another id, date and title, France's counterpart renamed; its text is the shipped
    one's (registered, so citations have lines)."""
    bilaterals = [_renamed(b, *france) if b.code == "FR" else b for b in release.bilaterals]
    copy = release.model_copy(update={"id": id, "published": published, "title": title, "bilaterals": bilaterals})
    register_source(copy, _shipped_folder(release))
    return copy


def _shipped_folder(release: Release) -> Path:
    folder = source_index(release).folder
    assert folder is not None
    return folder


def three_releases(release: Release) -> list[Release]:
    rome = derived(
        release,
        id=ROME_ID,
        published=dt.date(2024, 10, 4),
        title=Label(
            ja="G7産業大臣会合(ローマ)に出席しました", en="Attended the G7 Industry Ministers' Meeting in Rome"
        ),
        france=("デュポン", "Dupont"),
    )
    takasaki = derived(
        release,
        id=TOKYO_ID,
        published=dt.date(2023, 4, 30),
        title=Label(
            ja="G7デジタル・技術大臣会合(高崎)を開催しました",
            en="Hosted the G7 Digital and Tech Ministers' Meeting in Takasaki",
        ),
        france=("マルタン", "Martin"),
    )
    return [takasaki, release, rome]  # any order: the library sorts newest first


def library_of_three(release: Release, commitments: list[Commitment] | None = None) -> Library:
    return Library.of(three_releases(release), commitments=commitments or ())


def many_releases(release: Release, count: int) -> list[Release]:
    """`count` releases: the shipped one and copies a month apart before it (France met by "Envoy <n>")."""
    out = [release]
    for n in range(1, count):
        day = dt.date(2025 - (n // 12), 12 - (n % 12), 1)
        out.append(
            derived(
                release,
                id=f"copy-{n:03d}",
                published=day,
                title=Label(ja=f"写しの発表{n}", en=f"Copy release {n}"),
                france=(f"特使{n}", f"Envoy {n}"),
            )
        )
    return out
