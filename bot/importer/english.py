"""English from the gazetteer, or the Japanese kept and the field listed as untranslated: never invented."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.release.gazetteer import Gazetteer, key

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


@dataclass
class English:
    """Looks up English and remembers every field it could not fill (its dotted path)."""

    gazetteer: Gazetteer
    untranslated: list[str] = field(default_factory=list)
    # The Japanese each untranslated field holds, for the report.
    japanese: dict[str, str] = field(default_factory=dict)

    def text(self, ja: str, path: str) -> dict[str, str]:
        """{ja, en} for `ja`; without a gazetteer entry the English is the Japanese and `path` is listed."""
        en = self.lookup(ja)
        if en is None:
            self.untranslated.append(path)
            self.japanese[path] = ja
            en = ja
        return {"ja": ja, "en": en}

    def lookup(self, ja: str) -> str | None:
        en = self.gazetteer.english.get(ja)
        if en is not None:
            return en
        k = key(ja)
        for place in self.gazetteer.countries:
            # A country's first name is its short English name (United States, Germany, ...).
            if any(key(n) == k for n in place.names) and not _JAPANESE.search(place.names[0]):
                return place.names[0]
        return None
