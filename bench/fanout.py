"""Digest fan-out benchmark (issue 3): one digest to each of 500 channels against Slack-like rate limits.

    .venv/bin/python bench/fanout.py            # 500 channels, about a minute
    .venv/bin/python bench/fanout.py --quick    # 100 channels, about 20 s

Runs the real scheduler path — Deliverer.tick (bot/schedule/deliverer.py) with a real delivery log
(bot/schedule/store.py: a SQLite file in a temporary directory, or --database URL for PostgreSQL) and the
real Poster, ChannelPacer, build_post_client (bot/schedule/{poster,pacing,slack_client}.py) — against the Slack stand-in
(tests/slack_standin.py), which runs in a child process and answers chat.postMessage with 429 + Retry-After
when a message breaks its limits: 1 message/s per channel with a burst, and a workspace-wide rate with a
burst. Only the occurrences, the plan and the render are stubs: one digest per channel, all due at the
first tick and all on time, rendered with bot.blocks.build_message from the real digest of data/.

Ticks run like the deployed scheduler (APScheduler every G7BOT_TICK_SECONDS, one at a time): every
--tick-seconds from the start, with `now` = the wall clock, until the log has every row sent (or the
--deadline passes). Each variant (the pacer as bot/startup.py builds it, and with workspace-wide pacing)
gets its own stand-in and database. Prints the wall time against the floor the limits allow, the 429s,
lost and duplicated messages and memory, with PASS/MISS per target; then repeats the last variant under
tracemalloc for the allocation peak (tracemalloc slows Python down, so that pass is not timed).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import json
import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from bench.machine import loadavg, version  # noqa: E402
from tests.slack_standin import RateLimit, SlackStandIn  # noqa: E402

TARGET_RATIO = 1.1  # wall time / rate-limit floor, at most
TOKEN = "xoxb-bench"
STANDIN_TIMEOUT = 30.0  # seconds the parent waits for any answer from the stand-in process


# ---- the stand-in, in a child process -------------------------------------------------------------------
class RecordingStandIn(SlackStandIn):
    """The stand-in, also recording when each chat.postMessage was accepted or answered 429 (monotonic)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.accepted: list[tuple[float, str, Any, str]] = []  # (at, channel, delivery id, ts)
        self.rejected: list[tuple[float, str, str]] = []  # (at, channel, Retry-After)

    def _m_chat_postMessage(self, args: dict[str, Any], token: str | None) -> dict[str, Any] | web.Response:
        result = super()._m_chat_postMessage(args, token)
        at = time.monotonic()
        channel = str(args.get("channel", ""))
        with self._lock:
            if isinstance(result, dict) and result.get("ok"):
                payload = (args.get("metadata") or {}).get("event_payload") or {}
                self.accepted.append((at, channel, payload.get("delivery_id"), str(result["ts"])))
            elif isinstance(result, web.Response) and result.status == 429:
                self.rejected.append((at, channel, result.headers.get("Retry-After", "")))
        return result


def standin_process(conn: multiprocessing.connection.Connection, limit: dict[str, Any], lifetime: float) -> None:
    """Serve until told to stop (or `lifetime` seconds pass); answer "stats" with what the stand-in saw."""
    end = time.monotonic() + lifetime
    with RecordingStandIn(rate_limit=RateLimit(**limit)) as slack:
        conn.send(slack.api_url)
        while time.monotonic() < end:
            if not conn.poll(min(1.0, max(0.0, end - time.monotonic()))):
                continue
            command = conn.recv()
            if command == "stats":
                with slack._lock:
                    stats = {
                        "rate_limited": slack.rate_limited,
                        "attempts": [
                            (c.at, str(c.args.get("channel"))) for c in slack.calls if c.method == "chat.postMessage"
                        ],
                        "accepted": list(slack.accepted),
                        "rejected": list(slack.rejected),
                        "other_methods": dict(
                            collections.Counter(c.method for c in slack.calls if c.method != "chat.postMessage")
                        ),
                        "hwm_kib": vm_hwm_kib(),
                        "cpu_s": time.process_time(),
                    }
                conn.send(stats)
            elif command == "stop":
                break


def vm_hwm_kib() -> int:
    """This process's peak RSS since its exec (ru_maxrss would include the parent's, inherited at fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@contextlib.contextmanager
def standin_in_child(limit: RateLimit, lifetime: float) -> Iterator[tuple[str, multiprocessing.connection.Connection]]:
    """A fresh stand-in in its own process (its own GIL and memory), so it does not skew our figures."""
    # spawn, not fork: the parent may have threads (asyncio.to_thread's pool) by the second variant.
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(
        target=standin_process, args=(child, limit.__dict__.copy(), lifetime), name="slack-standin", daemon=True
    )
    proc.start()
    try:
        if not parent.poll(STANDIN_TIMEOUT):
            raise RuntimeError("the stand-in process did not start")
        yield parent.recv(), parent
    finally:
        with contextlib.suppress(OSError):
            parent.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
            proc.join(5)


def ask_stats(conn: multiprocessing.connection.Connection) -> dict[str, Any]:
    conn.send("stats")
    if not conn.poll(STANDIN_TIMEOUT):
        raise RuntimeError("the stand-in process did not answer")
    stats: dict[str, Any] = conn.recv()
    return stats


# ---- the scheduler's inputs (stubs) ---------------------------------------------------------------------
@dataclass
class Plan:
    on_time: list[Any] = field(default_factory=list)
    late: list[Any] = field(default_factory=list)
    skipped: list[Any] = field(default_factory=list)


def all_on_time(due: list[Any], now: dt.datetime) -> Plan:
    return Plan(on_time=sorted(due, key=lambda o: (o.at, o.channel)))


def digest_reply(now: dt.datetime) -> tuple[Any, str]:
    """The real digest of data/ at `now` (Tokyo, Japanese); a fixed Reply if the data will not load."""
    from zoneinfo import ZoneInfo

    from bot.reply import Reply, Section

    try:
        from bot.release.loader import COMMITMENTS_FILE, load_release
        from bot.schedule import due
        from bot.schedule.content import build_digest_reply
        from bot.schedule.models import load_commitments

        release = load_release()
        commitments = load_commitments(COMMITMENTS_FILE, release=release)
        tz = ZoneInfo("Asia/Tokyo")
        items = due.digest_items(commitments, {}, now, tz=tz, lookahead_days=14, recent_days=7)
        reply = build_digest_reply(items, lang="ja", now=now, tz=tz, release=release)
        return reply, (
            f"the real digest of data/ (ja, Asia/Tokyo): {len(items.overdue)} overdue, "
            f"{len(items.upcoming)} upcoming, {len(items.recently_done)} recently done"
        )
    except Exception as exc:  # the benchmark measures posting, not the data: fall back to a fixed digest
        lines = [f"• *Commitment {i}* — due 2026-01-{i + 10:02d} — owner desk {i}" for i in range(6)]
        reply = Reply(
            title="G7 follow-ups: digest",
            sections=[Section(text="*Overdue*\n" + "\n".join(lines)), Section(text="*Due within 14 days*\n-")],
            footer=["Source: bench"],
        )
        return reply, f"a fixed digest ({type(exc).__name__} loading data/: {exc})"


# ---- the database -----------------------------------------------------------------------------------------
@contextlib.contextmanager
def database(url: str | None) -> Iterator[tuple[str, str]]:
    """(url, description): a SQLite file in a temporary directory, or a throw-away schema on PostgreSQL."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="g7bot-fanout-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'g7bot.sqlite3'}", "SQLite file in a temporary directory"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield url, parsed.render_as_string(hide_password=True)
        return
    schema = f"g7bot_fanout_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            scoped = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
            yield (
                scoped.render_as_string(hide_password=False),
                f"PostgreSQL {parsed.render_as_string(hide_password=True)}, throw-away schema {schema}",
            )
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


# ---- logging: count, do not print ------------------------------------------------------------------------
class CountingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self.samples: dict[tuple[str, str], list[str]] = collections.defaultdict(list)

    def emit(self, record: logging.LogRecord) -> None:
        key = (record.levelname, record.name)
        self.counts[key] += 1
        if len(self.samples[key]) < 6:
            self.samples[key].append(f"{record.relativeCreated / 1000:.3f} s: {record.getMessage()[:110]}")

    def reset(self) -> None:
        self.counts.clear()
        self.samples.clear()


# ---- one run ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    name: str
    workspace_rate: float | None
    workspace_burst: int

    def pacer_text(self, args: argparse.Namespace) -> str:
        extra = (
            f", workspace_rate={self.workspace_rate:g}, workspace_burst={self.workspace_burst}"
            if self.workspace_rate is not None
            else " (no workspace-wide pacing)"
        )
        return f"ChannelPacer({args.channel_interval:g}, max_in_flight={args.max_in_flight}{extra})"


@dataclass
class TickLine:
    started: float
    seconds: float
    report: Any
    sent_after: int


@dataclass
class Result:
    t0: float = 0.0
    wall: float = math.nan
    cpu: float = math.nan
    ticks: list[TickLine] = field(default_factory=list)
    rows: list[Any] = field(default_factory=list)
    timed_out: bool = False
    slowdowns: int = 0


async def run(args: argparse.Namespace, variant: Variant, api_url: str, db_url: str, reply: Any) -> Result:
    from bot.blocks import build_message
    from bot.schedule.deliverer import Deliverer
    from bot.schedule.occurrence import Occurrence
    from bot.schedule.pacing import ChannelPacer
    from bot.schedule.poster import Poster
    from bot.schedule.slack_client import build_post_client
    from bot.schedule.store import Store

    result = Result()
    store = Store(db_url)
    try:
        pacer_options: dict[str, Any] = {"max_in_flight": args.max_in_flight}
        if variant.workspace_rate is not None:
            pacer_options.update(workspace_rate=variant.workspace_rate, workspace_burst=variant.workspace_burst)
        if variant.name == "g7bot":
            # Exactly what `g7bot serve` builds, with G7BOT_POST_RATE / G7BOT_POST_BURST set by the admin.
            from bot.settings import load_settings
            from bot.startup import build_poster

            settings = load_settings(
                bot_token=TOKEN,
                api_url=api_url,
                post_rate=variant.workspace_rate,
                post_burst=variant.workspace_burst,
            )
            poster = build_poster(settings)
        else:
            pacer = ChannelPacer(args.channel_interval, **pacer_options)
            poster = Poster(build_post_client(TOKEN, api_url), pacer=pacer)
        start = dt.datetime.now(dt.UTC).replace(microsecond=0)
        items = [
            Occurrence(kind="digest", key="digest:fanout", channel=f"C{i:05d}", at=start, digest_id="fanout")
            for i in range(args.channels)
        ]

        def occurrences(begin: dt.datetime, end: dt.datetime) -> list[Occurrence]:
            return [o for o in items if begin < o.at <= end]

        def render(occ: Occurrence, now: dt.datetime) -> dict[str, Any]:
            return build_message(reply)

        deliverer = Deliverer(
            store,
            poster,
            owner="fanout-bench",
            occurrences=occurrences,
            plan=all_on_time,
            render=render,
            lease=dt.timedelta(seconds=args.lease),
        )
        if tracemalloc.is_tracing():
            tracemalloc.reset_peak()
        loop = asyncio.get_running_loop()
        cpu0 = time.process_time()
        result.t0 = t0 = loop.time()
        deadline = t0 + args.deadline
        k = 0
        for _ in range(int(args.deadline / args.tick_seconds) + 2):
            started = loop.time()
            try:
                report = await asyncio.wait_for(deliverer.tick(dt.datetime.now(dt.UTC)), deadline - started)
            except TimeoutError:
                result.timed_out = True
                result.wall = loop.time() - t0
                break
            ended = loop.time()
            sent = (await asyncio.to_thread(store.counts))["sent"]
            result.ticks.append(TickLine(started - t0, ended - started, report, sent))
            if sent >= args.channels:
                result.wall = ended - t0
                break
            # The next tick on the --tick-seconds grid not started yet (the scheduler runs one at a time).
            k = max(k + 1, math.floor((ended - t0) / args.tick_seconds) + 1)
            wake = t0 + k * args.tick_seconds
            if wake >= deadline:
                result.timed_out = True
                result.wall = ended - t0
                break
            await asyncio.sleep(wake - loop.time())
        result.cpu = time.process_time() - cpu0
        workspace = poster.pacer.workspace
        result.slowdowns = workspace.slowdowns if workspace is not None else 0
        result.rows = await asyncio.to_thread(store.deliveries)
    finally:
        store.close()
    return result


# ---- the report -----------------------------------------------------------------------------------------
def floor_seconds(n: int, per_channel: int, limit: RateLimit) -> tuple[float, float, float]:
    """(floor, workspace floor, per-channel floor): the least time the limits allow for n messages."""
    ws = 0.0
    if limit.workspace_per_sec:
        ws = max(0.0, (n - limit.workspace_burst) / limit.workspace_per_sec)
    ch = max(0.0, (per_channel - limit.channel_burst) / limit.per_channel_per_sec)
    return max(ws, ch), ws, ch


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def versions() -> str:
    return (
        f"python {platform.python_version()} | slack_sdk {version('slack_sdk')} | aiohttp {version('aiohttp')} | "
        f"sqlalchemy {version('sqlalchemy')} | nproc {os.cpu_count()} | {platform.machine()} {platform.system()} "
        f"{platform.release()}"
    )


def timeline(result: Result, stats: dict[str, Any], step: float) -> list[str]:
    """Accepted posts and 429s per `step` seconds since the first tick started (empty steps left out)."""
    accepted = collections.Counter(int((at - result.t0) // step) for at, *_ in stats["accepted"])
    rejected = collections.Counter(int((at - result.t0) // step) for at, *_ in stats["rejected"])
    out = []
    for b in sorted({*accepted, *rejected}):
        out.append(f"    {b * step:6.1f}-{(b + 1) * step:<6.1f} s  accepted {accepted[b]:4d}  429 {rejected[b]:4d}")
    return out


@dataclass
class Figures:
    variant: str
    wall: float
    ratio: float
    rate_limited: int
    lost: int
    duplicated: int
    ok_ratio: bool
    consistent: bool
    maxrss_kib: int = 0
    traced_peak: int | None = None


def describe(
    args: argparse.Namespace,
    limit: RateLimit,
    variant: Variant,
    result: Result,
    stats: dict[str, Any],
    handler: CountingHandler,
    *,
    timed: bool,
) -> Figures:
    n = args.channels
    floor, ws_floor, ch_floor = floor_seconds(n, 1, limit)
    accepted_by_channel = collections.Counter(channel for _, channel, _, _ in stats["accepted"])
    attempts_by_channel = collections.Counter(channel for _, channel in stats["attempts"])
    channels = [f"C{i:05d}" for i in range(n)]
    known_channels = set(channels)
    unsent = [r for r in result.rows if r.status != "sent"]
    no_post = [c for c in channels if accepted_by_channel[c] == 0]
    lost = set(no_post) | {r.channel for r in unsent}
    duplicated = [c for c in channels if accepted_by_channel[c] > 1]
    # Every row marked sent must point at the one message the stand-in accepted for it.
    accepted_ts = {(channel, ts): did for _, channel, did, ts in stats["accepted"]}
    mismatched = [r for r in result.rows if r.status == "sent" and accepted_ts.get((r.channel, r.message_ts)) != r.id]
    strays = sum(1 for c in accepted_by_channel if c not in known_channels)
    consistent = not mismatched and not strays and len(result.rows) == n

    ratio = result.wall / floor if floor > 0 else math.nan
    first_post = min((at for at, *_ in stats["accepted"]), default=math.nan) - result.t0
    last_post = max((at for at, *_ in stats["accepted"]), default=math.nan) - result.t0
    first_429 = min((at for at, *_ in stats["rejected"]), default=math.nan) - result.t0
    retry_after = collections.Counter(ra for *_, ra in stats["rejected"])
    failed = sum(t.report.failed for t in result.ticks)

    print("  ticks (seconds since the first tick started):")
    for t in result.ticks:
        print(
            f"    at {t.started:6.2f} s, took {t.seconds:6.2f} s: posted {t.report.posted}, failed "
            f"{t.report.failed}, recovered {t.report.recovered}; {t.sent_after}/{n} sent in the log"
        )
    print(
        f"  first post accepted at {first_post:.3f} s, last at {last_post:.3f} s; first 429 at {first_429:.3f} s"
        + (f" (Retry-After values: {dict(retry_after)})" if retry_after else "")
    )
    step = 0.5 if result.wall < 20 else 5.0
    print(f"  accepted posts and 429s per {step:g} s:")
    for line in timeline(result, stats, step):
        print(line)
    if handler.counts:
        print("  log records (counted, not printed; times since the benchmark started):")
        for (level, name), count in sorted(handler.counts.items()):
            print(f"    {level:<7} {name}: {count}")
            for sample in handler.samples[(level, name)]:
                print(f"      {sample}")

    ok_ratio = not math.isnan(ratio) and ratio <= TARGET_RATIO and not result.timed_out
    note = "" if timed else "  (under tracemalloc: not the timed figure)"
    print("  results:")
    print(
        f"    wall time, first tick to all {n} rows sent: {result.wall:8.3f} s"
        + ("  (DEADLINE: gave up)" if result.timed_out else "")
        + note
    )
    print(
        f"    rate-limit floor:                           {floor:8.3f} s  = max(workspace ({n} - "
        f"{limit.workspace_burst} burst) / {limit.workspace_per_sec:g}/s = {ws_floor:.3f} s, per channel "
        f"(1 - {limit.channel_burst} burst) / {limit.per_channel_per_sec:g}/s = {ch_floor:.3f} s)"
    )
    print(
        f"    wall / floor:                               {ratio:8.3f} x  (target <= {TARGET_RATIO}x)  "
        + (verdict(ok_ratio) if timed else "(not judged)")
    )
    print(
        f"    429s answered by the stand-in:              {stats['rate_limited']:8d}    "
        f"({len(stats['attempts'])} chat.postMessage calls for {len(stats['accepted'])} accepted, at most "
        f"{max(attempts_by_channel.values(), default=0)} to one channel; deliveries failed back to the log: "
        f"{failed}; workspace pacing slow-downs: {result.slowdowns})"
    )
    print(
        f"    lost (no post or row not sent):             {len(lost):8d}    ({len(no_post)} channels without a "
        f"post, {len(unsent)} rows not sent; target 0)  {verdict(not lost)}"
    )
    print(
        f"    duplicated (channel with > 1 post):         {len(duplicated):8d}    (target 0)  {verdict(not duplicated)}"
    )
    if not consistent:
        print(
            f"    INCONSISTENT: {len(result.rows)} rows for {n} channels, {len(mismatched)} sent rows without "
            f"their accepted post, {strays} posts to unknown channels"
        )
    print(
        f"    bench process CPU during the run:           {result.cpu:8.3f} s  "
        f"({result.cpu / n * 1000:.2f} ms a message: claim, render, post, mark sent)"
    )
    print(
        f"    the stand-in process:                       peak RSS {stats['hwm_kib'] / 1024:.1f} MiB, CPU "
        f"{stats['cpu_s']:.2f} s; other Web API calls {stats['other_methods'] or '{}'}"
    )
    return Figures(
        variant.name, result.wall, ratio, stats["rate_limited"], len(lost), len(duplicated), ok_ratio, consistent
    )


def one_variant(
    args: argparse.Namespace,
    limit: RateLimit,
    variant: Variant,
    reply: Any,
    handler: CountingHandler,
    *,
    traced: bool,
) -> Figures:
    with (
        standin_in_child(limit, args.deadline + 120) as (api_url, conn),
        database(args.database) as (db_url, db_text),
    ):
        print(f"  stand-in {api_url} (child process); database: {db_text}")
        handler.reset()
        if traced:
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
        result = asyncio.run(run(args, variant, api_url, db_url, reply))
        if traced:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        stats = ask_stats(conn)
    figures = describe(args, limit, variant, result, stats, handler, timed=not traced)
    figures.maxrss_kib = maxrss
    if traced:
        figures.traced_peak = peak - base
        print(
            f"    peak memory, bench process:                 tracemalloc peak {(peak - base) / 2**20:.1f} MiB "
            f"allocated by the run (Deliverer + Store + Poster, {args.channels} channels)"
        )
    print(f"    bench process ru_maxrss so far:             {maxrss / 1024:8.1f} MiB (high-water mark of the process)")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Digest fan-out to many channels against Slack-like rate limits")
    parser.add_argument("--quick", action="store_true", help="100 channels instead of 500")
    parser.add_argument("--channels", type=int, help="channels, one digest each (default 500; 100 with --quick)")
    parser.add_argument("--channel-rate", type=float, default=1.0, help="stand-in: messages/s per channel (1)")
    parser.add_argument("--channel-burst", type=int, default=3, help="stand-in: burst per channel (3)")
    parser.add_argument("--workspace-rate", type=float, default=100.0, help="stand-in: messages/s workspace-wide (100)")
    parser.add_argument("--workspace-burst", type=int, default=20, help="stand-in: workspace-wide burst (20)")
    parser.add_argument(
        "--variants",
        default="unpaced,g7bot",
        help="comma-separated: unpaced (no workspace-wide pacing, for comparison), g7bot (build_poster as "
        "serve builds it, G7BOT_POST_RATE = the workspace rate)",
    )
    parser.add_argument("--pace-rate", type=float, help="g7bot: G7BOT_POST_RATE (default: --workspace-rate)")
    parser.add_argument("--pace-burst", type=int, help="g7bot: G7BOT_POST_BURST (default: 3/4 of --workspace-burst)")
    parser.add_argument("--channel-interval", type=float, default=1.0, help="ChannelPacer interval (1.0 s)")
    parser.add_argument("--max-in-flight", type=int, default=16, help="ChannelPacer max_in_flight (16)")
    parser.add_argument(
        "--tick-seconds", type=float, default=15.0, help="seconds between ticks, as G7BOT_TICK_SECONDS (15)"
    )
    parser.add_argument("--lease", type=float, default=120.0, help="the deliverer's lease, seconds (120)")
    parser.add_argument("--deadline", type=float, default=150.0, help="give up a variant after this many seconds")
    parser.add_argument("--database", help="a SQLAlchemy URL; PostgreSQL gets a throw-away schema (default SQLite)")
    parser.add_argument("--no-memory-pass", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args(argv)
    if args.channels is None:
        args.channels = 100 if args.quick else 500
    if args.channels < 1 or args.tick_seconds <= 0 or args.deadline <= 0 or args.workspace_rate <= 0:
        parser.error("--channels, --tick-seconds, --deadline and --workspace-rate must be positive")
    limit = RateLimit(
        per_channel_per_sec=args.channel_rate,
        channel_burst=args.channel_burst,
        workspace_per_sec=args.workspace_rate,
        workspace_burst=args.workspace_burst,
    )
    pace_rate = args.workspace_rate if args.pace_rate is None else args.pace_rate
    # Three quarters of Slack's burst: the rest is headroom for timing jitter between our bucket and Slack's.
    pace_burst = max(1, 3 * args.workspace_burst // 4) if args.pace_burst is None else args.pace_burst
    known = {"unpaced": Variant("unpaced", None, 1), "g7bot": Variant("g7bot", pace_rate, pace_burst)}
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not names or any(v not in known for v in names):
        parser.error(f"--variants: choose from {', '.join(known)}")
    variants = [known[v] for v in names]

    handler = CountingHandler()
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)

    from bot.blocks import build_message

    reply, reply_text = digest_reply(dt.datetime.now(dt.UTC))
    size = len(json.dumps(build_message(reply), ensure_ascii=False).encode())
    print("g7bot digest fan-out benchmark (issue 3)")
    print(versions())
    print(f"load average at start: {loadavg()} (other work on the machine skews the figures)")
    print(
        f"fan-out: {args.channels} channels, one digest each, all due at the first tick and on time; message: "
        f"{reply_text}: {size} B of JSON (text + blocks)"
    )
    print(
        f"stand-in limits on chat.postMessage: {limit.per_channel_per_sec:g}/s per channel (burst "
        f"{limit.channel_burst}) and {limit.workspace_per_sec:g}/s workspace-wide (burst {limit.workspace_burst}); "
        "429 with Retry-After = max(1, round(wait + 0.4)) s"
    )
    print(
        f"bot: Deliverer (lease {args.lease:g} s, failed rows retried after 30 s doubling, claims posted in "
        f"batches of 20) + Store + Poster(build_post_client: max_retries 2, max_retry_after 30 s); a tick every "
        f"{args.tick_seconds:g} s, at most {args.deadline:g} s a variant"
    )

    figures: list[Figures] = []
    for variant in variants:
        print()
        print(f"== {variant.name}: {variant.pacer_text(args)}")
        figures.append(one_variant(args, limit, variant, reply, handler, traced=False))
    if not args.no_memory_pass:
        variant = variants[-1]
        print()
        print(f"== memory pass: {variant.name} again, under tracemalloc (slower: not timed)")
        figures.append(one_variant(args, limit, variant, reply, handler, traced=True))

    print()
    print(f"summary ({args.channels} channels; target: wall / floor <= {TARGET_RATIO}x, 0 lost, 0 duplicated):")
    print(f"  {'variant':<18} {'wall s':>8} {'x floor':>8} {'429s':>6} {'lost':>5} {'dup':>5}  time target")
    for i, f in enumerate(figures):
        traced = not args.no_memory_pass and i == len(figures) - 1
        name = f.variant + (" (traced)" if traced else "")
        judged = "(not judged)" if traced else verdict(f.ok_ratio)
        print(f"  {name:<18} {f.wall:8.3f} {f.ratio:8.3f} {f.rate_limited:6d} {f.lost:5d} {f.duplicated:5d}  {judged}")
    peaks = [f.traced_peak for f in figures if f.traced_peak is not None]
    print(
        "  peak memory of the bench process: "
        + (f"tracemalloc peak {peaks[-1] / 2**20:.1f} MiB (memory pass), " if peaks else "")
        + f"ru_maxrss {max(f.maxrss_kib for f in figures) / 1024:.1f} MiB"
    )
    print(f"load average at end: {loadavg()}")
    # The exit status is about correctness; the time target is reported as PASS/MISS.
    return 0 if all(f.lost == 0 and f.duplicated == 0 and f.consistent for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
