"""Library benchmark (issue 8): start-up, RSS, search, `bilateral france` over HTTP and reload, by library size.

    .venv/bin/python bench/library.py                          # 1 and 1,000 releases (a few minutes)
    .venv/bin/python bench/library.py --sizes 1,20 --requests 50 --rounds 10   # a quick look

For each size it writes a generated library (bench/generate.py) into a temporary folder and:

- spawns `python -m bot serve` over HTTP on a loopback port (a local Slack stand-in answers auth.test and
  users.info; a temporary SQLite delivery log; G7BOT_CACHE_DIR in the temporary folder) and times spawn ->
  the first 200 from /readyz: once with an empty cache (the search index is then built in the background: the
  run waits for its file), once more with it (a restart: the figure the target is about). It reads the
  process's RSS (VmRSS) when ready and after the requests, and its peak (VmHWM);
- sends `/g7 bilateral france` as signed slash commands, one at a time, each with a new trigger_id, and
  prints their p50/p99 (time to the whole response);
- in this process: loads the library, waits for its search index, and times each query's search (the
  index alone, and the whole command with its reply) p50/p99; then times `/g7 admin reload confirm` (the
  admin command's own path, FollowupService.reload, and the new snapshot's index opened from the cache).

It prints ratios against the first size and whether each target of issue 8 is met at the largest one.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import write_library  # noqa: E402
from bench.machine import loadavg, version  # noqa: E402
from tests.slack_standin import SlackStandIn  # noqa: E402

HOST = "127.0.0.1"
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
QUERIES = ("量子", "仏", "会談", "関税", "semiconductors", "steel tariffs", "ai", "quantum 量子", "鉄鋼製品", "xyzzy")
# Issue 8's targets, at the largest library.
TARGET_START_S = 2.0
TARGET_RSS_MB = 200.0
TARGET_SEARCH_MS = 5.0
TARGET_BILATERAL_RATIO = 1.2


@dataclass
class Figures:
    size: int
    cold_start_s: float = 0.0
    index_built_s: float = 0.0
    start_s: float = 0.0
    rss_ready_mb: float = 0.0
    rss_after_mb: float = 0.0
    rss_peak_mb: float = 0.0
    bilateral: tuple[float, float] = (0.0, 0.0)
    search: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    search_all: tuple[float, float] = (0.0, 0.0)
    load_s: float = 0.0
    reload_s: float = 0.0
    reload_ready_s: float = 0.0


# --- measuring ----------------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_ms(run: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        out.append((time.perf_counter() - start) * 1000)
    return out


def status_mb(pid: int, field_name: str) -> float:
    """VmRSS or VmHWM of a process, in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the server -----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def environment(data: Path, work: Path, api_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "G7BOT_"))}
    env.update(
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_API_URL=api_url,
        HOST=HOST,
        PORT=str(port),
        G7BOT_LOG_LEVEL="WARNING",
        G7BOT_DATA_DIR=str(data),
        G7BOT_CACHE_DIR=str(work / "cache"),
        G7BOT_DATABASE_URL=f"sqlite:///{work / 'delivery.sqlite3'}",
        PYTHONUNBUFFERED="1",
    )
    return env


class Server:
    """`python -m bot serve` on a loopback port, spawned and timed to its first 200 from /readyz."""

    def __init__(self, data: Path, work: Path, api_url: str):
        self.port = free_port()
        self.log = work / f"serve-{self.port}.log"
        started = time.perf_counter()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"],
                cwd=work,
                env=environment(data, work, api_url, self.port),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.ready_s = self._wait_ready(started)
        self.count = 0

    def _wait_ready(self, started: float, timeout: float = 120.0) -> float:
        while time.perf_counter() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}:\n{self.tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    return time.perf_counter() - started
                conn.close()
            time.sleep(0.01)
        raise RuntimeError(f"serve not ready after {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def command(self, conn: http.client.HTTPConnection, text: str) -> bytes:
        """One signed `/g7 text`, with a new trigger_id (a replayed request is not run again)."""
        self.count += 1
        body = urlencode(
            {
                "team_id": "T0LOCAL",
                "channel_id": "C0BENCH",
                "user_id": "U0BENCH",
                "command": "/g7",
                "text": text,
                "api_app_id": "A0LOCAL",
                "response_url": "http://127.0.0.1:9/commands/T0LOCAL/1/bench",
                "trigger_id": f"1.{self.count}.library-bench",
            }
        ).encode()
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig,
        }
        conn.request("POST", "/slack/events", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"/g7 {text}: HTTP {response.status} {data[:200]!r}")
        return data

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def wait_for_index(cache: Path, timeout: float) -> float:
    """Seconds until the search index's cache file appears (built by the server's worker); nan if it does not."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if any(cache.glob("search-*.sqlite3")):
            return time.perf_counter() - started
        time.sleep(0.05)
    return float("nan")


def over_http(f: Figures, data: Path, work: Path, api_url: str, requests: int, small: bool) -> None:
    cold = Server(data, work, api_url)
    f.cold_start_s = cold.ready_s
    try:
        # A search while the index is being built is answered at once (from the default release alone), and
        # starts the worker if start-up has not.
        conn = http.client.HTTPConnection(HOST, cold.port, timeout=30)
        cold.command(conn, "search 量子")
        conn.close()
        # A small library is indexed in memory on first use: no file to wait for.
        f.index_built_s = 0.0 if small else wait_for_index(work / "cache", timeout=600)
    finally:
        cold.stop()
    server = Server(data, work, api_url)
    try:
        f.start_s = server.ready_s
        f.rss_ready_mb = status_mb(server.proc.pid, "VmRSS")
        conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
        for _ in range(20):
            server.command(conn, "bilateral france")
        times = timed_ms(lambda: server.command(conn, "bilateral france"), requests)
        f.bilateral = (percentile(times, 0.5), percentile(times, 0.99))
        f.rss_after_mb = status_mb(server.proc.pid, "VmRSS")
        f.rss_peak_mb = status_mb(server.proc.pid, "VmHWM")
        conn.close()
    finally:
        server.stop()


# --- in process ----------------------------------------------------------------------------------------------------


def in_process(f: Figures, data: Path, work: Path, rounds: int) -> None:
    from bot.commands import answer
    from bot.search.loaded import prepare, search_index, wait
    from bot.settings import Settings
    from bot.startup import start

    env = environment(data, work, "http://127.0.0.1:9/api/", 0)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(work)
    try:
        settings = Settings()
        started = time.perf_counter()
        app = start(settings, local=True)
        f.load_s = time.perf_counter() - started
        owner = app.runtime.library
        library = owner.current
        cache = settings.search_cache_dir
        prepare(library, data_dir=settings.data_dir, cache_dir=cache)
        wait(library, timeout=600)
        found = search_index(library, data_dir=settings.data_dir, cache_dir=cache)
        assert found.complete, "the index is not ready"
        every: list[float] = []
        for query in QUERIES:
            engine = timed_ms(lambda q=query: found.index.search(q), rounds)
            whole = timed_ms(
                lambda q=query: answer(f"search {q}", library=library, lang="en", now=app.runtime.clock()), rounds
            )
            every += engine
            f.search[query] = (
                percentile(engine, 0.5),
                percentile(engine, 0.99),
                percentile(whole, 0.5),
                percentile(whole, 0.99),
            )
        f.search_all = (percentile(every, 0.5), percentile(every, 0.99))
        # /g7 admin reload confirm: what the admin command runs, then the new snapshot's index (from the cache).
        started = time.perf_counter()
        app.service.reload(confirm=True, actor="bench")
        f.reload_s = time.perf_counter() - started
        fresh = owner.current
        assert fresh is not library, "reload did not swap the snapshot"
        prepare(fresh, data_dir=settings.data_dir, cache_dir=cache)
        wait(fresh, timeout=600)
        f.reload_ready_s = time.perf_counter() - started
    finally:
        os.environ.clear()
        os.environ.update(saved)
        os.chdir(ROOT)


# --- the report -----------------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(figures: list[Figures]) -> int:
    base, big = figures[0], figures[-1]
    print("\n== figures ==")
    print(
        f"{'releases':>9} {'start s':>8} {'cold s':>7} {'index s':>8} {'RSS MB':>7} {'RSS after':>9} {'peak':>6} "
        f"{'bilat p50':>9} {'p99 ms':>7} {'search p50':>10} {'p99':>6} {'load s':>7} {'reload s':>8} {'+index s':>8}"
    )
    for f in figures:
        print(
            f"{f.size:>9} {f.start_s:8.2f} {f.cold_start_s:7.2f} {f.index_built_s:8.1f} {f.rss_ready_mb:7.0f} "
            f"{f.rss_after_mb:9.0f} {f.rss_peak_mb:6.0f} {f.bilateral[0]:9.2f} {f.bilateral[1]:7.2f} "
            f"{f.search_all[0]:10.3f} {f.search_all[1]:6.2f} {f.load_s:7.2f} {f.reload_s:8.2f} {f.reload_ready_s:8.2f}"
        )
    for f in figures:
        print(f"\nsearch at {f.size} release(s), ms (index alone p50/p99; the whole command with its reply p50/p99):")
        for query, (p50, p99, w50, w99) in f.search.items():
            print(f"  {query:<16} {p50:8.3f} {p99:8.3f}   {w50:8.3f} {w99:8.3f}")
    if len(figures) > 1:
        print(f"\n== {big.size} vs {base.size} release(s) ==")
        for name, a, b in (
            ("start-up (warm cache)", base.start_s, big.start_s),
            ("RSS at ready", base.rss_ready_mb, big.rss_ready_mb),
            ("bilateral france p50 over HTTP", base.bilateral[0], big.bilateral[0]),
            ("search p50 (all queries)", base.search_all[0], big.search_all[0]),
            ("reload", base.reload_s, big.reload_s),
        ):
            print(f"  {name:<32} {a:10.3f} -> {b:10.3f}  ({b / a if a else float('nan'):.2f}x)")
    slowest = max(big.search.items(), key=lambda kv: kv[1][0])
    bilateral_ratio = big.bilateral[0] / base.bilateral[0] if base.bilateral[0] else float("nan")
    checks = [
        (f"start-up to ready <= {TARGET_START_S} s", big.start_s <= TARGET_START_S, f"{big.start_s:.2f} s"),
        (
            f"RSS <= {TARGET_RSS_MB:.0f} MB",
            max(big.rss_ready_mb, big.rss_after_mb) <= TARGET_RSS_MB,
            f"{big.rss_ready_mb:.0f} MB at ready, {big.rss_after_mb:.0f} MB after the requests",
        ),
        (
            f"search p50 <= {TARGET_SEARCH_MS} ms (slowest query)",
            slowest[1][0] <= TARGET_SEARCH_MS,
            f"{slowest[0]}: {slowest[1][0]:.2f} ms; all queries {big.search_all[0]:.3f} ms",
        ),
        (
            f"bilateral over HTTP <= {TARGET_BILATERAL_RATIO}x of {base.size}",
            bilateral_ratio <= TARGET_BILATERAL_RATIO,
            f"{bilateral_ratio:.2f}x",
        ),
    ]
    print(f"\n== targets at {big.size} releases (issue 8) ==")
    for name, ok, shown in checks:
        print(f"  {verdict(ok)}  {name}: {shown}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,1000", help="library sizes, comma-separated (default 1,1000)")
    parser.add_argument("--requests", type=int, default=300, help="timed bilateral requests over HTTP (default 300)")
    parser.add_argument("--rounds", type=int, default=100, help="timed runs of each search query (default 100)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"python {sys.version.split()[0]}, pydantic {version('pydantic')}, {os.cpu_count()} CPUs, load {loadavg()}")
    figures = []
    with SlackStandIn() as standin, tempfile.TemporaryDirectory(prefix="g7bot-library-bench-") as tmp:
        for size in sizes:
            work = Path(tmp) / f"n{size}"
            work.mkdir()
            started = time.perf_counter()
            write_library(work / "data", size)
            print(f"{size} release(s): generated in {time.perf_counter() - started:.1f} s", flush=True)
            f = Figures(size)
            over_http(f, work / "data", work, standin.api_url, args.requests, small=size <= 4)
            print(
                f"  over HTTP: ready in {f.start_s:.2f} s (cold {f.cold_start_s:.2f} s), "
                f"bilateral p50 {f.bilateral[0]:.2f} ms",
                flush=True,
            )
            in_process(f, work / "data", work, args.rounds)
            print(f"  in process: search p50 {f.search_all[0]:.3f} ms, reload {f.reload_s:.2f} s", flush=True)
            figures.append(f)
    print(f"load at the end {loadavg()}")
    return report(figures)


if __name__ == "__main__":
    raise SystemExit(main())
