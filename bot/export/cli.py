"""`g7bot export [--output FILE]`: the follow-ups CSV, from the data and the delivery log `serve` uses."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

from bot.export.csv import export_filename
from bot.settings import Settings


def run_export(
    settings: Settings,
    *,
    output: str | None,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> int:
    """Write the CSV to `output` ("-": standard output; None: followups-<date>.csv here); prints where it went.

    It reads G7BOT_DATABASE_URL (the Done and Snooze states `serve` recorded), never the console's log, and
    posts nothing: the poster is the console's.
    """
    from bot.startup import start
    from bot.transports.local import ConsolePoster

    started = start(settings, poster=ConsolePoster())  # never posts: nothing is ticked here
    service = started.service
    try:
        content, count = service.followups_csv()
    finally:
        service.store.close()
    if output == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return 0
    path = Path(output) if output else Path(export_filename(clock(), service.loaded.schedule.reminder_timezone()))
    path.write_bytes(content)
    print(f"g7bot: wrote {count} follow-up(s) to {path}", file=sys.stderr)
    return 0
