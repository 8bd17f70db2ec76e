"""`g7bot export [--output FILE] [--tz ZONE]`: the follow-ups CSV, from the data and the delivery log `serve` uses."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.export.csv import export_filename
from bot.schedule.models import zone
from bot.settings import Settings


def run_export(
    settings: Settings,
    *,
    output: str | None,
    tz: str | None = None,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> int:
    """Write the CSV to `output` ("-": standard output; None: followups-<date>.csv here); prints where it went.

    Times and the file name's date are in `tz` (an IANA name, --tz), else in data/schedule.yml's `timezone`.
    It reads G7BOT_DATABASE_URL (the Done and Snooze states `serve` recorded), never the console's log, and
    posts nothing: the poster is the console's.
    """
    from bot.startup import start
    from bot.transports.local import ConsolePoster

    chosen: ZoneInfo | None = None
    if tz is not None:
        try:
            chosen = zone(tz)
        except ValueError as exc:
            print(f"g7bot export: --tz: {exc}", file=sys.stderr)
            return 2
    started = start(settings, poster=ConsolePoster())  # never posts: nothing is ticked here
    service = started.service
    zone_used = chosen or service.export_timezone()
    try:
        content, count = service.followups_csv(zone_used)
    finally:
        service.store.close()
    if output == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return 0
    path = Path(output) if output else Path(export_filename(clock(), zone_used))
    path.write_bytes(content)
    print(f"g7bot: wrote {count} follow-up(s) to {path}", file=sys.stderr)
    return 0
