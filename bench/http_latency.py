"""HTTP latency benchmark (issue 2): g7bot's /slack/events against a naive Bolt app and a plain ASGI floor.

    .venv/bin/python bench/http_latency.py            # full run, about 2 minutes
    .venv/bin/python bench/http_latency.py --quick    # smoke run, well under 30 s

Starts, on 127.0.0.1, a local Slack Web API stand-in (tests/slack_standin.py) in this process and three
servers as subprocesses:

  g7bot   `python -m bot serve`, exactly as deployed (HTTP mode, bot/transports/http.py build_server)
  bolt    a naive Bolt app: AsyncApp defaults, one /g7 listener that acks a fixed text, Bolt's ASGI adapter
  floor   a plain ASGI app answering a fixed 200 JSON (no Bolt)

then drives all of them with the same signed `/g7 bilateral france` slash-command request from a keep-alive
HTTP/1.1 client on raw asyncio streams, in interleaved rounds, and prints latency percentiles, throughput and
the issue's targets (g7bot p50 @c=1 <= 2.0x the floor's, g7bot req/s @c=16 >= 0.5x the floor's).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import loadavg, version  # noqa: E402
from tests.slack_standin import SlackStandIn  # noqa: E402

HOST = "127.0.0.1"
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-bench"
PATH = "/slack/events"
SERVERS_PY = ROOT / "bench" / "http_servers.py"
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

FORM = {
    "token": "bench-verification-token",
    "team_id": "T0LOCAL",
    "team_domain": "local",
    "channel_id": "C0BENCH",
    "channel_name": "bench",
    "user_id": "U0BENCH",
    "user_name": "bench",
    "command": "/g7",
    "text": "bilateral france",
    "api_app_id": "A0LOCAL",
    "is_enterprise_install": "false",
    "response_url": "http://127.0.0.1:9/commands/T0LOCAL/1/bench",
    "trigger_id": "1.1.bench",
}
BODY = urlencode(FORM).encode()

TARGET_P50_RATIO = 2.0  # g7bot p50 @c=1 / floor p50 @c=1 at most
TARGET_RPS_RATIO = 0.5  # g7bot req/s @c=16 / floor req/s @c=16 at least


# ---- the request ---------------------------------------------------------------------------------------
class SignedRequest:
    """Request bytes with a valid Slack v0 signature, a new trigger id each time.

    g7bot acknowledges a signed request it has seen before without running it (a replay), so every
    request must be a new one, as each of Slack's is.
    """

    def __init__(self, port: int):
        self.port = port
        self.count = 0

    def fresh(self) -> bytes:
        self.count += 1
        body = urlencode({**FORM, "trigger_id": f"1.{self.count}.bench"}).encode()
        ts = str(int(time.time()))
        base = b"v0:" + ts.encode() + b":" + body
        sig = "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
        head = (
            f"POST {PATH} HTTP/1.1\r\n"
            f"Host: {HOST}:{self.port}\r\n"
            "User-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n"
            "Accept: application/json,*/*\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-Slack-Request-Timestamp: {ts}\r\n"
            f"X-Slack-Signature: {sig}\r\n"
            "\r\n"
        )
        return head.encode() + body


# ---- the client ----------------------------------------------------------------------------------------
class ProtocolError(Exception):
    pass


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep_alive) of one HTTP/1.1 response: status line, Content-Length (or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1."):
        raise ProtocolError(f"bad status line {head[:40]!r}")
    status = int(head[9:12])
    lower = head.lower()
    keep_alive = b"\r\nconnection: close" not in lower
    i = lower.find(b"\r\ncontent-length:")
    if i >= 0:
        end = lower.index(b"\r\n", i + 17)
        body = await reader.readexactly(int(lower[i + 17 : end]))
    elif b"\r\ntransfer-encoding: chunked" in lower:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(p[:-2] for p in parts)
    else:
        raise ProtocolError("response without Content-Length")
    return status, body, keep_alive


@dataclass
class Batch:
    server: str
    conc: int
    wanted: int
    latencies_ns: list[int] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    elapsed: float = 0.0
    timed_out: bool = False
    server_cpu: float = 0.0  # CPU seconds the server process used during the batch
    client_cpu: float = 0.0  # CPU seconds this (client) process used during the batch

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0


async def run_batch(server: str, port: int, req: SignedRequest, n: int, conc: int, timeout: float) -> Batch:
    """n requests over `conc` keep-alive connections (one per worker), bounded by `timeout` seconds."""
    batch = Batch(server, conc, n)
    data = req.fresh()
    remaining = n
    lat = batch.latencies_ns
    statuses = batch.statuses
    clock = time.perf_counter_ns

    async def worker() -> None:
        nonlocal remaining
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while remaining > 0:
                remaining -= 1
                t0 = clock()
                try:
                    writer.write(data)
                    status, _, keep_alive = await read_response(reader)
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError,
                    ProtocolError,
                ) as exc:
                    name = type(exc).__name__
                    batch.errors[name] = batch.errors.get(name, 0) + 1
                    keep_alive = False
                else:
                    lat.append(clock() - t0)
                    statuses[status] = statuses.get(status, 0) + 1
                if not keep_alive and remaining > 0:
                    writer.close()
                    batch.reconnects += 1
                    reader, writer = await asyncio.open_connection(HOST, port)
        finally:
            writer.close()

    start = time.perf_counter()
    tasks = [asyncio.create_task(worker()) for _ in range(min(conc, n))]
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    batch.elapsed = time.perf_counter() - start
    for task in pending:
        task.cancel()
    if pending:
        batch.timed_out = True
        await asyncio.wait(pending, timeout=5)
    for task in done:
        exc = task.exception()
        if exc is not None:
            name = type(exc).__name__
            batch.errors[name] = batch.errors.get(name, 0) + 1
    return batch


async def probe(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode())
        status, body, _ = await asyncio.wait_for(read_response(reader), 5)
        return status, body
    finally:
        writer.close()


async def one_request(port: int, req: SignedRequest) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(req.fresh())
        status, body, _ = await asyncio.wait_for(read_response(reader), 10)
        return status, body
    finally:
        writer.close()


# ---- the servers ---------------------------------------------------------------------------------------
@dataclass
class Server:
    name: str
    argv: list[str]
    ready_path: str  # GET this until it answers (g7bot: 200 from /healthz; others: any HTTP answer)
    need_200: bool
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    req: SignedRequest | None = None
    stack: str = "?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def child_env(api_url: str, port: int, logdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "G7BOT_"))}
    env.update(
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=api_url,
        HOST=HOST,
        PORT=str(port),
        G7BOT_LOG_LEVEL="WARNING",
        # g7bot's follow-up store: a throw-away SQLite file, not var/ in the work tree.
        G7BOT_DATABASE_URL=f"sqlite:///{logdir / (str(port) + '.sqlite3')}",
        PYTHONUNBUFFERED="1",
    )
    return env


def start_server(server: Server, api_url: str, logdir: Path) -> None:
    server.port = free_port()
    server.log = logdir / f"{server.name}.log"
    with server.log.open("wb") as out:
        server.proc = subprocess.Popen(
            [*server.argv, "--port", str(server.port)] if server.argv[1] == str(SERVERS_PY) else server.argv,
            cwd=ROOT,
            env=child_env(api_url, server.port, logdir),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server.req = SignedRequest(server.port)


async def wait_ready(server: Server, timeout: float = 30.0) -> None:
    assert server.proc is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n{tail(server.log)}")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ProtocolError, TimeoutError):
            status, _ = await probe(server.port, server.ready_path)
            if status == 200 or not server.need_200:
                return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{server.name} not ready after {timeout:.0f} s:\n{tail(server.log)}")


def tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop_server(server: Server) -> None:
    proc = server.proc
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(8)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def mapped_libs(pid: int) -> set[str]:
    """Which of uvloop / httptools are loaded in the process (its /proc/PID/maps), Linux only."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return set()
    found = set()
    if "/uvloop/loop." in maps:
        found.add("uvloop")
    if "/httptools/parser/parser." in maps:
        found.add("httptools")
    return found


def _cpu_clock(pid: int) -> int | None:
    """The POSIX CPU-time clock of another process (clock_getcpuclockid), or None where unavailable."""
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        clock = ctypes.c_int()
        if libc.clock_getcpuclockid(pid, ctypes.byref(clock)) != 0:
            return None
        time.clock_gettime(clock.value)
        return clock.value
    except (OSError, AttributeError):
        return None


_CLOCKS: dict[int, int | None] = {}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far: its CPU-time clock (ns resolution), else /proc/PID/stat."""
    if pid not in _CLOCKS:
        _CLOCKS[pid] = _cpu_clock(pid)
    clock = _CLOCKS[pid]
    if clock is not None:
        with contextlib.suppress(OSError):
            return time.clock_gettime(clock)
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def describe_stack(server: Server) -> str:
    assert server.proc is not None and server.log is not None
    libs = mapped_libs(server.proc.pid)
    reported = None
    for line in server.log.read_text(errors="replace").splitlines():
        if line.startswith('{"ready"'):
            reported = json.loads(line)
    loaded = (
        f"uvloop {'loaded' if 'uvloop' in libs else 'NOT loaded'}, "
        f"httptools {'loaded' if 'httptools' in libs else 'NOT loaded'}"
    )
    if reported:
        return f"loop={reported['loop']} http={reported['http'].rsplit('.', 1)[-1]} ({loaded})"
    if "uvloop" not in libs:
        return f"loop=asyncio (stdlib: uvloop is not even imported) http=httptools? ({loaded})"
    return f"loop=uvloop? (not self-reported) ({loaded})"


def g7bot_config_report() -> list[str]:
    """How bot/transports/http.py build_server configures uvicorn, and what `auto` resolves to here."""
    import logging

    from slack_bolt.async_app import AsyncApp

    from bot.transports.http import build_server

    logging.getLogger("slack_bolt").setLevel(logging.ERROR)
    # Only to build the Config: nothing is served and no Web API call is made.
    app = AsyncApp(token=BOT_TOKEN, signing_secret=SIGNING_SECRET)
    server = build_server(app, host=HOST, port=0, log_level="warning")
    config = server.config
    config.load()
    factory = config.get_loop_factory()
    factory_name = getattr(factory, "__module__", "?") + "." + getattr(factory, "__qualname__", "?")
    proto = config.http_protocol_class
    out = [
        f"build_server: uvicorn.Config(http={config.http!r}, loop={config.loop!r}, "
        f"lifespan={config.lifespan!r}, access_log={config.access_log}, workers={config.workers}, "
        f"server_header={config.server_header})",
        f"  http={config.http!r} resolves to {proto.__module__}.{proto.__qualname__}; "
        f"loop={config.loop!r} resolves to factory {factory_name}",
    ]
    if config.http != "httptools" or config.loop != "uvloop":
        out.append("  NOTE: build_server does not pin http/loop; 'auto' picks httptools and uvloop when installed,")
        out.append("  but the loop factory is applied only by uvicorn.Server.run(). bot/startup.py calls")
        out.append("  asyncio.run(Server.serve()), so g7bot serves on the stdlib asyncio loop unless a uvloop")
        out.append("  policy is installed: see the /proc maps check below (g7bot-uvloop = --g7bot-uvloop).")
    return out


# ---- statistics and report -----------------------------------------------------------------------------
def percentile(sorted_ns: list[int], q: float) -> float:
    """Nearest-rank percentile, in ms."""
    if not sorted_ns:
        return math.nan
    k = max(0, min(len(sorted_ns) - 1, math.ceil(q * len(sorted_ns)) - 1))
    return sorted_ns[k] / 1e6


@dataclass
class Cell:
    latencies: list[int] = field(default_factory=list)
    rps: list[float] = field(default_factory=list)
    requests: int = 0
    ok: int = 0
    non200: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    timeouts: int = 0
    reconnects: int = 0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    elapsed: float = 0.0

    def add(self, b: Batch) -> None:
        self.server_cpu += b.server_cpu
        self.client_cpu += b.client_cpu
        self.elapsed += b.elapsed
        self.latencies.extend(b.latencies_ns)
        self.rps.append(b.rps)
        self.requests += sum(b.statuses.values()) + sum(b.errors.values())
        self.ok += b.ok
        for status, count in b.statuses.items():
            if status != 200:
                self.non200[status] = self.non200.get(status, 0) + count
        for name, count in b.errors.items():
            self.errors[name] = self.errors.get(name, 0) + count
        self.timeouts += b.timed_out
        self.reconnects += b.reconnects

    def cpu(self) -> tuple[float, float, float]:
        """Server CPU µs per ok request, server CPU % and client CPU % of the batches' wall time."""
        per_req = self.server_cpu / self.ok * 1e6 if self.ok else math.nan
        wall = self.elapsed or math.nan
        return per_req, 100 * self.server_cpu / wall, 100 * self.client_cpu / wall

    def summary(self) -> tuple[float, float, float, float, float]:
        s = sorted(self.latencies)
        rps = statistics.median(self.rps) if self.rps else math.nan
        return (
            percentile(s, 0.5),
            percentile(s, 0.99),
            rps,
            min(self.rps, default=math.nan),
            max(self.rps, default=math.nan),
        )


def versions() -> str:
    return (
        f"python {platform.python_version()} | uvicorn {version('uvicorn')} | slack_bolt {version('slack_bolt')} | "
        f"slack_sdk {version('slack_sdk')} | uvloop {version('uvloop')} | httptools {version('httptools')} | "
        f"nproc {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}) | {platform.machine()} "
        f"{platform.system()} {platform.release()}"
    )


def ratio_lines(cells: dict[tuple[str, int], Cell], names: list[str]) -> list[str]:
    out = []
    if "floor" not in names:
        return ["(no floor server: ratios skipped)"]
    f1 = cells[("floor", 1)].summary()[0]
    f16 = cells[("floor", 16)].summary()[2]
    for name in names:
        if name == "floor":
            continue
        p50 = cells[(name, 1)].summary()[0]
        rps = cells[(name, 16)].summary()[2]
        r1, r16 = p50 / f1, rps / f16
        out.append(
            f"  {name:<14} p50@1 / floor p50@1   = {p50:7.3f} / {f1:7.3f} ms = {r1:6.2f}x  "
            f"(target <= {TARGET_P50_RATIO:.1f}x)  {'PASS' if r1 <= TARGET_P50_RATIO else 'MISS'}"
        )
        out.append(
            f"  {name:<14} rps@16 / floor rps@16 = {rps:7.0f} / {f16:7.0f}    = {r16:6.2f}x  "
            f"(target >= {TARGET_RPS_RATIO:.1f}x)  {'PASS' if r16 >= TARGET_RPS_RATIO else 'MISS'}"
        )
    return out


# ---- main ----------------------------------------------------------------------------------------------
def build_servers(
    include_uvloop_variant: bool, include_bolt_inline: bool, include_fastpath: bool, only: list[str] | None
) -> list[Server]:
    py = sys.executable
    servers = [
        Server("g7bot", [py, "-m", "bot", "serve"], "/healthz", need_200=True),
        Server("bolt", [py, str(SERVERS_PY), "bolt"], "/", need_200=False),
        Server("floor", [py, str(SERVERS_PY), "floor"], "/", need_200=False),
    ]
    if include_uvloop_variant:
        servers.insert(1, Server("g7bot-uvloop", [py, str(SERVERS_PY), "g7bot-uvloop"], "/healthz", need_200=True))
    if include_fastpath:
        servers.insert(2, Server("g7bot-fastpath", [py, str(SERVERS_PY), "g7bot-fastpath"], "/healthz", need_200=True))
    if include_bolt_inline:
        servers.insert(-1, Server("bolt-inline", [py, str(SERVERS_PY), "bolt-inline"], "/", need_200=False))
    if only:
        servers = [s for s in servers if s.name in only]
    return servers


async def bench(args: argparse.Namespace, servers: list[Server], standin: SlackStandIn) -> int:
    t_begin = time.monotonic()
    print("g7bot HTTP latency benchmark (issue 2)")
    print(versions())
    print(f"load average at start: {loadavg()} (other work on the machine skews every figure)")
    print(
        f"plan: warmup {args.warmup} @c=1 + {args.warmup} @c=16 per server; {args.rounds} rounds x "
        f"({args.n1} @c=1, then {args.n16} @c=16) per server, server order rotated each round; "
        f"client: keep-alive HTTP/1.1 over asyncio streams (uvloop), one connection per worker"
    )
    print(f"request: POST {PATH} /g7 bilateral france ({len(BODY)} B form, Slack v0 signature)")
    for line in g7bot_config_report():
        print(line)

    logdir = Path(tempfile.mkdtemp(prefix="g7bot-bench-"))
    try:
        for s in servers:
            start_server(s, standin.api_url, logdir)
        for s in servers:
            await wait_ready(s)
        print(f"servers ready in {time.monotonic() - t_begin:.1f} s")
        print("stacks (loop / HTTP parser actually loaded in each server process):")
        for s in servers:
            s.stack = describe_stack(s)
            print(f"  {s.name:<14} pid {s.proc.pid if s.proc else '?':<7} {s.stack}")

        print("first response of each server:")
        for s in servers:
            assert s.req is not None
            status, body = await one_request(s.port, s.req)
            text = body.decode(errors="replace")
            print(f"  {s.name:<14} {status} {len(body):5d} B  {text[:90]!r}")
            if status != 200:
                print(f"  {s.name}: not 200; log tail:\n{tail(s.log)}")
                return 2

        for s in servers:
            assert s.req is not None
            await run_batch(s.name, s.port, s.req, args.warmup, 1, args.batch_timeout)
            await run_batch(s.name, s.port, s.req, args.warmup, 16, args.batch_timeout)

        cells = {(s.name, c): Cell() for s in servers for c in (1, 16)}
        budget_end = time.monotonic() + args.budget
        rounds_done = 0
        for r in range(args.rounds):
            if time.monotonic() > budget_end:
                print(f"time budget ({args.budget:.0f} s) spent: stopping after {rounds_done} rounds")
                break
            order = servers[r % len(servers) :] + servers[: r % len(servers)]
            progress: list[str] = []
            for s in order:
                assert s.req is not None
                for conc, n in ((1, args.n1), (16, args.n16)):
                    assert s.proc is not None
                    srv0, cli0 = cpu_seconds(s.proc.pid), time.process_time()
                    b = await run_batch(s.name, s.port, s.req, n, conc, args.batch_timeout)
                    b.server_cpu = cpu_seconds(s.proc.pid) - srv0
                    b.client_cpu = time.process_time() - cli0
                    cells[(s.name, conc)].add(b)
                    progress.append(f"{s.name}@{conc} {b.rps:.0f}/s")
            rounds_done = r + 1
            print(f"round {rounds_done}: " + ", ".join(progress))

        print()
        print(
            f"{'server':<14} {'conc':>4} {'requests':>8} {'non-200':>7} {'errors':>6} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'req/s':>8} {'(min-max)':>15} {'srv CPU':>8} {'srv':>5} {'client':>6}"
        )
        print(
            f"{'':<14} {'':>4} {'':>8} {'':>7} {'':>6} {'':>8} {'':>8} {'':>8} {'':>15} {'µs/req':>8} "
            f"{'CPU%':>5} {'CPU%':>6}"
        )
        bad = 0
        for s in servers:
            for conc in (1, 16):
                c = cells[(s.name, conc)]
                p50, p99, rps, lo, hi = c.summary()
                non200 = sum(c.non200.values())
                errors = sum(c.errors.values())
                bad += non200 + errors + c.timeouts
                per_req, srv_pct, cli_pct = c.cpu()
                print(
                    f"{s.name:<14} {conc:>4} {c.requests:>8} {non200:>7} {errors:>6} {p50:>8.3f} "
                    f"{p99:>8.3f} {rps:>8.0f} {f'({lo:.0f}-{hi:.0f})':>15} {per_req:>8.0f} {srv_pct:>5.0f} "
                    f"{cli_pct:>6.0f}"
                )
                if c.non200 or c.errors or c.timeouts:
                    print(
                        f"{'':<14}      non-200 by status {c.non200}, errors {c.errors}, timed-out batches {c.timeouts}"
                    )
        print(
            "(p50/p99 over every request of every round; req/s = median over rounds of ok/elapsed; srv CPU "
            "µs/req = the server process's user+sys CPU time over its ok requests; CPU% = of the batches' "
            f"wall time, {os.cpu_count()} CPUs shared by client and server)"
        )
        print()
        print("ratios against the floor:")
        for line in ratio_lines(cells, [s.name for s in servers]):
            print(line)
        calls = {m: len(standin.calls_to(m)) for m in ("auth.test", "users.info")}
        print(
            f"stand-in Web API calls during the run: {calls} (expected: auth.test once per Bolt-based "
            "server, users.info once per g7bot server: its locale cache)"
        )
        print(
            f"total {time.monotonic() - t_begin:.1f} s; load average at end: {loadavg()}; "
            f"{'all responses 200' if not bad else f'{bad} BAD'}"
        )
        return 1 if bad else 0
    finally:
        for s in servers:
            stop_server(s)
        for s in servers:
            if s.proc is not None and s.proc.returncode not in (0, None, -15):
                print(f"{s.name} exited with {s.proc.returncode}; log tail:\n{tail(s.log)}")
        shutil.rmtree(logdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="HTTP latency: g7bot vs a naive Bolt app vs a plain ASGI floor")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (small counts, 2 rounds)")
    parser.add_argument("--warmup", type=int, help="warm-up requests per server and concurrency (default 200)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 5)")
    parser.add_argument("--n1", type=int, help="requests per server per round at concurrency 1 (default 1000)")
    parser.add_argument("--n16", type=int, help="requests per server per round at concurrency 16 (default 3000)")
    parser.add_argument(
        "--g7bot-uvloop",
        action="store_true",
        help="also run g7bot under a uvloop event-loop policy (what pinning loop='uvloop' gives)",
    )
    parser.add_argument(
        "--bolt-inline",
        action="store_true",
        help="also run the minimal Bolt app with process_before_response=True (Bolt's own floor)",
    )
    parser.add_argument(
        "--g7bot-fastpath",
        action="store_true",
        help="also run the PROTOTYPE of the proposed slash-command fast path (bench/http_fastpath.py)",
    )
    parser.add_argument("--all", action="store_true", help="--g7bot-uvloop, --g7bot-fastpath and --bolt-inline")
    parser.add_argument(
        "--only",
        help="comma-separated subset of servers (g7bot,g7bot-uvloop,g7bot-fastpath,bolt,bolt-inline,floor)",
    )
    parser.add_argument("--budget", type=float, help="seconds after which no new round starts (default 150)")
    parser.add_argument("--batch-timeout", type=float, default=60.0, help="seconds one batch may take")
    args = parser.parse_args(argv)
    quick = {"warmup": 30, "rounds": 2, "n1": 100, "n16": 300, "budget": 15.0}
    full = {"warmup": 200, "rounds": 5, "n1": 1000, "n16": 3000, "budget": 150.0}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.quick:
        args.batch_timeout = min(args.batch_timeout, 10.0)
    only = [x.strip() for x in args.only.split(",")] if args.only else None
    if args.all:
        args.g7bot_uvloop = args.bolt_inline = args.g7bot_fastpath = True
    servers = build_servers(
        args.g7bot_uvloop or bool(only and "g7bot-uvloop" in only),
        args.bolt_inline or bool(only and "bolt-inline" in only),
        args.g7bot_fastpath or bool(only and "g7bot-fastpath" in only),
        only,
    )
    if not servers:
        parser.error("--only selected no server")

    import uvloop

    with SlackStandIn() as standin, asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(bench(args, servers, standin))


if __name__ == "__main__":
    raise SystemExit(main())
