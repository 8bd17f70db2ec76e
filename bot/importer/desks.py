"""Contact blocks (担当, 本件の担当): several desks, 担当者, phone with 内線, 直通, FAX, e-mail with ★."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.importer.lines import Source

_NUMBER = r"[0-9０-９]{2,5}[-－ー][0-9０-９]{2,4}[-－ー][0-9０-９]{3,4}"
_STAFF = re.compile(r"^担当者?\s*[:：]\s*(?P<names>.+)$")
_PHONE = re.compile(r"^(?:電話|電話番号|TEL|Tel)\s*[:：]\s*(?P<rest>.+)$")
_EXTENSION = re.compile(r"[\(（]\s*内線\s*(?P<ext>[0-9０-９]+)\s*[\)）]")
_DIRECT = re.compile(rf"(?:直通\s*[:：]?\s*(?P<a>{_NUMBER}))|(?:(?P<b>{_NUMBER})\s*[\(（]\s*直通\s*[\)）])")
_FAX = re.compile(rf"^(?:FAX|ＦＡＸ|Fax)\s*(?:番号)?\s*[:：]\s*(?P<fax>{_NUMBER})")
_MAIL = re.compile(
    r"^(?:メール|メールアドレス|E-?mail|e-?mail|Eメール)\s*[:：]\s*(?P<mail>\S+?★\S+?)\s*(?P<rest>※.*)?$"
)
_NOTE = re.compile(r"^※\s*[\[［]★[\]］]を[\[［]@[\]］]に置き換えてください。?")
_UNIT_WORD = re.compile(r"(?:局|部|室|課|庁|所|センター|課長|室長|部長|参事官|官)$")
_LABEL = re.compile(r"^(?:本件の)?担当\s*[:：]\s*")


@dataclass
class DeskFound:
    topic: str | None = None
    bureau: str | None = None
    office: str | None = None
    lead: str | None = None
    staff: list[str] = field(default_factory=list)
    phone: str | None = None
    extension: str | None = None
    direct: str | None = None
    fax: str | None = None
    email: str | None = None
    lines: list[int] = field(default_factory=list)

    def missing(self) -> list[str]:
        need = {
            "bureau": self.bureau,
            "office": self.office,
            "lead": self.lead,
            "staff": self.staff,
            # The main number (with its extension, 内線), or a direct line (直通), or both.
            "phone number (電話 or 直通)": self.direct or self.phone,
            "e-mail with ★": self.email,
        }
        return [name for name, value in need.items() if not value]


def _ascii_number(text: str) -> str:
    # Phone numbers are data, not wording: written in ASCII as the model requires.
    return text.translate(str.maketrans("０１２３４５６７８９－ー", "0123456789--"))


def _unit(desk: DeskFound, text: str) -> bool:
    tokens = text.split()
    if len(tokens) < 2 or not _UNIT_WORD.search(tokens[0]):
        return False
    lead = tokens[-1]
    if _UNIT_WORD.search(lead):
        return False
    desk.bureau = tokens[0]
    start, end = text.index(tokens[1]), text.rindex(lead)
    desk.office = text[start:end].strip()
    desk.lead = lead
    return True


def _phone(desk: DeskFound, rest: str) -> None:
    """「03-3501-1511(内線 3051)」, 「03-3501-1234(直通)」, 「直通 03-…」: the main number, extension, direct line."""
    found = re.search(_NUMBER, rest)
    ext = _EXTENSION.search(rest)
    direct = _DIRECT.search(rest)
    if direct and found and direct.start() <= found.start() < direct.end():
        # The first number is the direct line; a main number, if any, follows it.
        found = re.search(_NUMBER, rest[direct.end() :])
    if found:
        desk.phone = _ascii_number(found.group(0))
    if ext:
        desk.extension = _ascii_number(ext["ext"])
    if direct:
        desk.direct = _ascii_number(direct["a"] or direct["b"])


def read(source: Source, numbers: list[int]) -> tuple[list[DeskFound], list[str]]:
    """The desks of a contact block, and the lines of it that were not understood."""
    desks: list[DeskFound] = []
    problems: list[str] = []
    current = DeskFound()

    def start_new() -> DeskFound:
        nonlocal current
        if current.lines:
            desks.append(current)
        current = DeskFound()
        return current

    for n in numbers:
        text = _LABEL.sub("", source.line(n))
        if not text:
            continue
        note = _NOTE.match(text)
        if note:
            # The note to replace ★ with @ sometimes runs into the next desk's topic on the same line.
            current.lines.append(n)
            source.use(n)
            text = text[note.end() :].strip()
            if not text:
                continue
        if m := _STAFF.match(text):
            current.staff = [s.strip() for s in re.split(r"[、,，]", m["names"]) if s.strip()]
        elif m := _PHONE.match(text):
            _phone(current, m["rest"])
        elif m := _DIRECT.match(text):
            current.direct = _ascii_number(m["a"] or m["b"])
        elif m := _FAX.match(text):
            current.fax = _ascii_number(m["fax"])
        elif m := _MAIL.match(text):
            current.email = m["mail"]
        elif text.endswith("について"):
            if current.lines:
                start_new()
            current.topic = text
        else:
            if current.bureau is not None:
                start_new()
            if not _unit(current, text):
                problems.append(f"line {n}: not understood in the contact block: 「{text}」")
                continue
        current.lines.append(n)
        source.use(n)
    if current.lines:
        desks.append(current)
    return desks, problems
