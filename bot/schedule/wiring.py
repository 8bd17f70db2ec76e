"""APScheduler only ticks: every G7BOT_TICK_SECONDS on the clock, it asks the service what is due at `now`."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.schedule.service import FollowupService

logger = logging.getLogger(__name__)


async def run_tick(service: FollowupService, clock: Callable[[], dt.datetime]) -> None:
    """The scheduler's job wrapper: the one place a scheduled run's failure is caught and logged."""
    try:
        report = await service.tick(clock())
    except asyncio.CancelledError:
        # Only at shutdown, after the drain period: unfinished posts stay pending and are taken over.
        logger.warning("tick cancelled at shutdown; unfinished posts stay pending for the next start")
        return
    except Exception:
        logger.exception("scheduled tick failed; the next tick retries whatever is still pending")
        return
    if report.posted or report.late or report.skipped or report.failed or report.recovered:
        logger.info("tick: %s", report)


def start_scheduler(service: FollowupService, clock: Callable[[], dt.datetime]) -> AsyncIOScheduler:
    """Start ticking on the running event loop; the first tick runs at once (catch-up after downtime)."""
    scheduler = AsyncIOScheduler(timezone=dt.UTC)
    scheduler.add_job(
        run_tick,
        CronTrigger(second=f"*/{service.settings.tick_seconds}", timezone=dt.UTC),
        args=[service, clock],
        id="g7bot-tick",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=10,
        next_run_time=clock(),
    )
    scheduler.start()
    return scheduler


async def stop_scheduler(scheduler: AsyncIOScheduler, service: FollowupService, *, drain: float = 10.0) -> None:
    """No new ticks; let the tick in progress finish its posts (bounded), so a restart has less to recover."""
    scheduler.shutdown(wait=False)
    await service.drain(timeout=drain)
