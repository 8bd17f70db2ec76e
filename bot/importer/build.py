"""From a release's text to the data of `release.yml` and its import report; pure, no files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from bot.importer import bilaterals, desks, documents, meeting, sections
from bot.importer.english import English
from bot.importer.lines import Source, html_to_text, looks_like_html
from bot.importer.people import code_of
from bot.importer.report import Report
from bot.release.gazetteer import Gazetteer
from bot.release.models import LABEL_MAX, LIST_MAX, Release

PUBLISHER_JA = "経済産業省"
_BILATERAL_TITLE = re.compile(r"二国間|会談|バイ|意見交換|面会")


@dataclass
class ImportResult:
    """What an import produced: the release data (None when nothing usable), the text kept, the report."""

    data: dict[str, Any] | None
    source_text: str
    report: Report
    release: Release | None = None
    errors: list[str] = field(default_factory=list)


def _slug(title: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "-".join(w.lower() for w in words)[:20].strip("-") or "release"


def release_id(published: Any, title: str) -> str:
    return f"meti-{published.isoformat()}-{_slug(title)}"


def import_text(
    raw: str, *, gazetteer: Gazetteer, url: str | None = None, release_id_: str | None = None
) -> ImportResult:
    """Read `raw` (text copied from the page, or the saved HTML page) into release data and a report."""
    text = html_to_text(raw) if looks_like_html(raw) else raw
    source = Source.from_text(text)
    report = Report()
    for n in source.numbers():
        if "\ufffd" in source.line(n):
            report.cannot("text", f"line {n}: unreadable characters (\ufffd): the file is damaged or not UTF-8")
    en = English(gazetteer)
    head = sections.read_head(source)
    if head.header_lines:
        report.found("header", f"{len(head.header_lines)} line(s) of breadcrumb or page header skipped")
    if head.title is None or head.published is None:
        report.cannot("title and date", "no line holding only the publication date (e.g. 2025年12月10日) was found")
        return ImportResult(None, source.text, _finish(report, source, en))
    _report_head(head, report)
    assert head.date_line is not None
    parts = sections.split_sections(source, head.date_line + 1)
    lead_section = next((s for s in parts if s.label == "overview"), None) or parts[0]
    lead_lines = [n for n in lead_section.body() if source.line(n) and not sections.heading(source.line(n), n)]
    lead_text = source.line(lead_lines[0]) if lead_lines else None
    if lead_section.heading:
        source.use(lead_section.heading.line)
    numbered = [s for s in parts if s.label == "section"]
    bilateral_section = next((s for s in numbered if s.heading and _BILATERAL_TITLE.search(s.heading.title)), None)
    meeting_section = next((s for s in numbered if s is not bilateral_section), None)

    found = meeting.read(
        meeting_section,
        lead_text,
        source,
        title=head.title,
        near=head.published,
        lead_line=lead_lines[0] if lead_lines else None,
    )
    if lead_lines and (found.trip or found.city):
        source.use(lead_lines[0])
    lead = found.lead.short if found.lead else None
    named = found.lead.name + found.lead.title if found.lead else None
    bil = bilaterals.read(
        bilateral_section, lead_lines, source, gazetteer, lead=lead, near=head.published, lead_named=named
    )
    for problem in bil.problems:
        report.cannot("bilaterals", problem)
    desk_found, docs = _foot(parts, source, report)

    data: dict[str, Any] = {
        "id": release_id_ or release_id(head.published, head.title),
        "publisher": {"ja": PUBLISHER_JA, "en": "Ministry of Economy, Trade and Industry (METI)"},
        "published": head.published,
        "title": en.text(head.title, "title"),
        "source_file": "source.txt",
    }
    if url and "url" in Release.model_fields:
        data["url"] = url
    elif url:
        report.cannot("url", f"--url {url}: the release model has no url field yet, so it was not written")
    data.update(_meeting_or_trip(found, en, report, meeting=meeting_section is not None))
    if bil.overview:
        data["bilaterals_overview"] = en.text(bil.overview, "bilaterals_overview")
    data["bilaterals"] = _bilaterals(bil, gazetteer, en, report, expected=bilateral_section is not None)
    data["desks"] = _desks(desk_found, en, report)
    data["documents"] = _documents(docs, en, report)
    data["untranslated"] = list(en.untranslated)
    result = ImportResult(data, source.text, _finish(report, source, en))
    try:
        result.release = Release.model_validate(data)
    except ValidationError as exc:
        result.errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        for error in result.errors:
            report.cannot("validation", error)
    return result


def _meeting_or_trip(found: meeting.MeetingFound, en: English, report: Report, *, meeting: bool) -> dict[str, Any]:
    """The meeting and what it adopted; or, with no section about a meeting, the visit its lead paragraph tells."""
    if not meeting:
        trip = _trip(found, en, report)
        return {"trip": trip} if trip is not None else {}
    out: dict[str, Any] = {"meeting": _meeting(found, en, report)}
    if found.outcomes_intro:
        out["outcomes_intro"] = en.text(found.outcomes_intro, "outcomes_intro")
    out["outcomes"] = _outcomes(found, en, report)
    return out


def _outcomes(found: meeting.MeetingFound, en: English, report: Report) -> list[dict[str, Any]]:
    report.found(
        "outcomes", f"{len(found.outcomes)} adopted text(s), {sum(len(p) for _, p in found.outcomes)} point(s)"
    )
    if not found.outcomes:
        report.cannot("outcomes", "no adopted text with points (a (1) heading followed by - lines) was found")
    return [
        {
            "id": f"outcome-{i}",
            "title": en.text(title, f"outcomes.{i - 1}.title"),
            "points": [en.text(p, f"outcomes.{i - 1}.points.{j}") for j, p in enumerate(points)],
        }
        for i, (title, points) in enumerate(found.outcomes, 1)
    ]


def _report_head(head: sections.Head, report: Report) -> None:
    assert head.published is not None
    report.found("title", f"line {head.title_line}: {head.title}")
    report.found("published", f"line {head.date_line}: {head.published.isoformat()}")
    for n, day in head.updates:
        report.found("update note", f"line {n}: updated {day.isoformat()} (published stays the original date)")


def _foot(
    parts: list[sections.Section], source: Source, report: Report
) -> tuple[list[desks.DeskFound], list[documents.DocumentFound]]:
    """The contact block and the related documents at the foot of the page."""
    contact_section = next((s for s in parts if s.label == "contacts"), None)
    doc_section = next((s for s in parts if s.label == "documents"), None)
    desk_found: list[desks.DeskFound] = []
    if contact_section is None:
        report.cannot("contacts", "no contact block (担当, 本件の担当) was found")
    else:
        assert contact_section.heading is not None
        source.use(contact_section.heading.line)
        desk_found, problems = desks.read(source, contact_section.body())
        for problem in problems:
            report.cannot("contacts", problem)
    docs: list[documents.DocumentFound] = []
    if doc_section is not None:
        assert doc_section.heading is not None
        source.use(doc_section.heading.line)
        docs = documents.read(source, doc_section.body())
    return desk_found, docs


def _meeting(found: meeting.MeetingFound, en: English, report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if found.name:
        out["name"] = en.text(found.name, "meeting.name")
    if found.start and found.end:
        out["start"], out["end"] = found.start, found.end
    if found.trip:
        out["trip_start"], out["trip_end"] = found.trip.start, found.trip.end
    for key_, value in (("city", found.city), ("country", found.country), ("presidency", found.presidency)):
        if value:
            out[key_] = en.text(value, f"meeting.{key_}")
    out["delegation"] = [
        {
            "name": en.text(p.name, f"meeting.delegation.{i}.name"),
            "title": en.text(p.title, f"meeting.delegation.{i}.title"),
        }
        for i, p in enumerate(found.delegation or ([found.lead] if found.lead else []))
    ]
    out["topics"] = [en.text(t, f"meeting.topics.{i}") for i, t in enumerate(found.topics)]
    out["japan_said"] = [en.text(t, f"meeting.japan_said.{i}") for i, t in enumerate(found.japan_said)]
    if found.said_by:
        out["said_by"] = en.text(found.said_by, "meeting.said_by")
    start = found.start.isoformat() if found.start else "?"
    end = found.end.isoformat() if found.end else "?"
    report.found(
        "meeting",
        f"{found.name or '(no meeting section)'}: {start} to {end}, {found.city or '?'} ({found.country or '?'})",
    )
    report.found("delegation", ", ".join(p.name + p.title for p in found.delegation) or "(none)")
    for note in found.place_notes:
        report.cannot("meeting", note)
    for name, missing in (
        ("meeting name", not found.name),
        ("meeting dates", not found.start),
        ("place", not found.city),
        ("presidency", not found.presidency),
        ("what Japan said", not found.japan_said),
        ("topics", not found.topics),
    ):
        if missing:
            report.cannot("meeting", f"{name}: not found in the text")
    return out


def _trip(found: meeting.MeetingFound, en: English, report: Report) -> dict[str, Any] | None:
    """The visit's dates, place and delegation from the lead paragraph (a release without a meeting)."""
    people = found.delegation or ([found.lead] if found.lead else [])
    if found.trip is None:
        report.cannot("visit", "no meeting section, and no trip dates (…から…にかけて) in the lead paragraph")
        return None
    out: dict[str, Any] = {"start": found.trip.start, "end": found.trip.end}
    for note in found.place_notes:
        report.cannot("visit", note)
    for key_, value in (("city", found.city), ("country", found.country)):
        if value:
            out[key_] = en.text(value, f"trip.{key_}")
        else:
            report.cannot("visit", f"{key_}: not found in the lead paragraph")
    out["delegation"] = [
        {"name": en.text(p.name, f"trip.delegation.{i}.name"), "title": en.text(p.title, f"trip.delegation.{i}.title")}
        for i, p in enumerate(people)
    ]
    where = ", ".join(x for x in (found.city, found.country) if x) or "?"
    report.found(
        "visit",
        f"no meeting section: a visit, {found.trip.start.isoformat()} to {found.trip.end.isoformat()}, {where}"
        f" (「{found.trip.words}」)",
    )
    report.found("delegation", ", ".join(p.name + p.title for p in people) or "(none)")
    return out


def _bilaterals(
    bil: bilaterals.Found, gazetteer: Gazetteer, en: English, report: Report, *, expected: bool
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    ids: dict[str, int] = {}
    for i, m in enumerate(bil.meetings):
        code = code_of(m.who.organisation, gazetteer)
        base = code.lower() if code else "bilateral"
        ids[base] = ids.get(base, 0) + 1
        bid = base if ids[base] == 1 and code else f"{base}-{ids[base]}"
        p = f"bilaterals.{i}"
        if code is None:
            report.todo(f"{p}.code: {m.who.organisation} is not in data/gazetteer.yml (written as XX)")
        entry: dict[str, Any] = {
            "id": bid,
            "number": m.number,
            "counterpart": {
                "name": en.text(m.who.name, f"{p}.counterpart.name"),
                "title": en.text(m.who.title, f"{p}.counterpart.title"),
            },
            "organisation": en.text(m.who.organisation, f"{p}.organisation"),
            "code": code or "XX",
            "japan_participants": [en.text(x, f"{p}.japan_participants.{j}") for j, x in enumerate(m.participants)],
            "topics": [en.text(t, f"{p}.topics.{j}") for j, t in enumerate(bilaterals.topics(m.summary))],
            "summary": en.text(m.summary, f"{p}.summary"),
        }
        out.append(entry)
        if not m.summary.endswith("。"):
            cut = f"line {m.lines[-1]}: ({m.number}) ends mid-sentence (a truncated text?): 「{m.summary}」"
            report.cannot("bilaterals", cut)
        when = f", {m.date.isoformat()}" if m.date else ""
        report.found(
            "bilaterals",
            f"({m.number}) {m.who.organisation} {m.who.name} {m.who.title}{when} [{m.shape}, line {m.lines[0]}]",
        )
    numbers = [m.number for m in bil.meetings]
    for n in sorted({x for x in numbers if numbers.count(x) > 1}):
        report.found("bilaterals", f"meeting ({n}) had two counterparts: written as two entries sharing number {n}")
    if not out and expected:
        report.cannot("bilaterals", "the bilateral section holds no meeting that could be read")
    elif not out:
        report.found("bilaterals", "none: the release has no bilateral section")
    return out


def _desks(found: list[desks.DeskFound], en: English, report: Report) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for d in found:
        missing = d.missing()
        where = f"lines {d.lines[0]}-{d.lines[-1]}" if d.lines else ""
        read = " ".join(x for x in (d.topic, d.bureau, d.office, d.lead, d.phone, d.direct, d.fax, d.email) if x)
        if missing:
            report.cannot(
                "contacts",
                f"desk at {where} left out: no {', '.join(missing)} (read: {read})",
            )
            continue
        assert d.bureau and d.office and d.lead
        i = len(out)
        p = f"desks.{i}"
        topic = d.topic or f"{d.bureau} {d.office}"
        entry: dict[str, Any] = {
            "id": f"desk-{i + 1}",
            "topic": en.text(topic, f"{p}.topic"),
            "bureau": en.text(d.bureau, f"{p}.bureau"),
            "office": en.text(d.office, f"{p}.office"),
            "lead": en.text(d.lead, f"{p}.lead"),
            "staff": [en.text(s, f"{p}.staff.{j}") for j, s in enumerate(d.staff)],
        }
        if d.phone:
            entry["phone"] = d.phone
        if d.extension:
            entry["extension"] = d.extension
        entry["email_as_published"] = d.email
        if d.direct:
            entry["direct"] = d.direct
        if d.fax:
            entry["fax"] = d.fax
        entry["keywords"] = [w for w in (d.bureau, d.office, d.lead) if len(w) <= 64]
        report.todo(f"{p}.keywords: only the desk's bureau, office and lead; add the topics people will type")
        out.append(entry)
        report.found("contacts", f"{topic}: {d.bureau} {d.office} {d.lead} ({where})")
    return out


def _documents(found: list[documents.DocumentFound], en: English, report: Report) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if len(found) > LIST_MAX:
        for d in found[LIST_MAX:]:
            report.cannot("documents", f"line {d.line}: more than {LIST_MAX} documents; 「{d.title}」 left out")
        found = found[:LIST_MAX]
    for d in [d for d in found if len(d.title) > LABEL_MAX]:
        report.cannot("documents", f"line {d.line}: too long for a document title, left out: 「{d.title[:40]}…」")
    for i, d in enumerate([d for d in found if len(d.title) <= LABEL_MAX]):
        entry: dict[str, Any] = {"title": en.text(d.title, f"documents.{i}.title")}
        if d.language:
            entry["language"] = en.text(d.language, f"documents.{i}.language")
        elif not d.format:
            report.cannot("documents", f"line {d.line}: 「{d.title}」 names no language (原文, 仮訳) or format")
        if d.format:
            entry["format"] = d.format
        if d.size_kb:
            entry["size_kb"] = d.size_kb
        out.append(entry)
        size = f" {d.format} {d.size_kb} KB" if d.format else ""
        language = d.language or "no language stated"
        report.found("documents", f"line {d.line}: {d.title} ({language}){size}")
    return out


def _finish(report: Report, source: Source, en: English) -> Report:
    report.unused = [(n, source.line(n)) for n in source.unused()]
    report.untranslated = [(p, en.japanese[p]) for p in en.untranslated]
    return report
