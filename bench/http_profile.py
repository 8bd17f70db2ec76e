"""Where g7bot's request time goes, in process (no sockets): microseconds per stage of one /g7 request.

    .venv/bin/python bench/http_profile.py                 # stage timings
    .venv/bin/python bench/http_profile.py --pyinstrument  # plus a pyinstrument tree of the whole ASGI call

(pyinstrument is not a project dependency: `.venv/bin/pip install pyinstrument` first.)

Builds g7bot exactly as `g7bot serve` does (bot.startup.start) against a local Slack stand-in, and calls
its ASGI app with a prebuilt, signed `/g7 bilateral france` request and no-op receive/send, so uvicorn and
the kernel are left out: what remains is g7bot + Bolt. For comparison it times the same request through a
minimal Bolt app (one listener acking a fixed text) with process_before_response=True, which is the least
any Bolt app can cost, and the floor ASGI app of bench/http_servers.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from http_latency import BODY, BOT_TOKEN, FORM, PATH, SIGNING_SECRET, SignedRequest  # noqa: E402
from http_servers import floor_app  # noqa: E402

from tests.slack_standin import SlackStandIn  # noqa: E402


def scope_and_headers(data: bytes) -> tuple[dict[str, Any], dict[str, str], bytes]:
    """The ASGI scope, the headers and the body of one signed request (each one new: a repeat is a replay)."""
    head_bytes, body = data.split(b"\r\n\r\n", 1)
    head = head_bytes.split(b"\r\n")[1:]
    raw = [tuple(line.split(b": ", 1)) for line in head]
    headers = [(k.lower(), v) for k, v in raw]
    scope = {
        "type": "http",
        "method": "POST",
        "path": PATH,
        "query_string": b"",
        "headers": headers,
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 3000),
        "client": ("127.0.0.1", 1),
    }
    return scope, {k.decode(): v.decode() for k, v in headers}, body


def receiver(body: bytes) -> Callable[[], Awaitable[MutableMapping[str, Any]]]:
    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class Sink:
    def __init__(self) -> None:
        self.status = 0
        self.body = b""

    async def __call__(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        else:
            self.body = message.get("body", b"")


class Stages:
    """Stages timed round-robin (one pass of every stage per repetition), so machine noise hits all alike."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, Callable[[], Awaitable[Any]], int]] = []

    def add(self, label: str, fn: Callable[[], Awaitable[Any]], n: int) -> None:
        self.stages.append((label, fn, n))

    async def run(self, reps: int) -> list[tuple[str, float]]:
        times: dict[str, list[float]] = {label: [] for label, _, _ in self.stages}
        for _, fn, n in self.stages:  # warm-up
            for _ in range(min(200, n)):
                await fn()
        for _ in range(reps):
            for label, fn, n in self.stages:
                t0 = time.perf_counter_ns()
                for _ in range(n):
                    await fn()
                times[label].append((time.perf_counter_ns() - t0) / n / 1000)
        return [(label, statistics.median(times[label])) for label, _, _ in self.stages]


def minimal_bolt(api_url: str, *, process_before_response: bool) -> Any:
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
        signing_secret=SIGNING_SECRET,
        process_before_response=process_before_response,
    )

    @app.command("/g7")
    async def g7(ack: AsyncAck) -> None:
        await ack("g7bot bench: fixed reply")

    return app


async def run(args: argparse.Namespace, slack: SlackStandIn, tmp: str) -> None:
    from slack_bolt.request.async_request import AsyncBoltRequest
    from slack_sdk.signature import SignatureVerifier
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.blocks import build_message
    from bot.commands import answer, parse
    from bot.settings import load_settings
    from bot.startup import start
    from bot.transports.http import SlackASGI, build_bolt_request

    settings = load_settings(
        database_url=f"sqlite:///{tmp}/g7bot.sqlite3",
        signing_secret=SIGNING_SECRET,
        bot_token=BOT_TOKEN,
        api_url=slack.api_url,
        log_level="WARNING",
        host="127.0.0.1",
        port=0,
    )
    started = start(settings)
    app, runtime = started.app, started.runtime
    asgi = SlackASGI(app)
    req = SignedRequest(3000)
    scope, headers, body = scope_and_headers(req.fresh())
    raw = BODY.decode()
    bolt_headers: Any = headers
    sink = Sink()
    n = args.n

    await asgi(scope, receiver(body), sink)  # first request: auth.test, users.info
    assert sink.status == 200, (sink.status, sink.body[:200])
    stages = Stages()

    async def full() -> None:
        # A new trigger id and signature each time (a few µs of HMAC): a repeated request is a replay.
        one_scope, _, one_body = scope_and_headers(req.fresh())
        await asgi(one_scope, receiver(one_body), sink)

    stages.add("g7bot: SlackASGI.__call__ (whole request, no socket)", full, n)

    async def replay() -> None:
        await asgi(scope, receiver(body), sink)

    stages.add("  a replay of one request (acknowledged, not run)", replay, n)

    async def bolt_req() -> None:
        build_bolt_request(raw, headers)

    stages.add("  build_bolt_request (AsyncBoltRequest: parse form, context)", bolt_req, n)

    async def dispatch() -> None:
        _, one_headers, one_body = scope_and_headers(req.fresh())
        await app.async_dispatch(build_bolt_request(one_body.decode(), one_headers))

    stages.add("  build_bolt_request + app.async_dispatch", dispatch, n)

    verifier = SignatureVerifier(SIGNING_SECRET)

    async def verify() -> None:
        verifier.is_valid_request(BODY.decode(), headers)

    stages.add("    of which: signature check (SignatureVerifier)", verify, n)

    async def client_per_request() -> None:
        AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, timeout=10, retry_handlers=app.client.retry_handlers)

    stages.add("    of which: AsyncWebClient() Bolt builds per request", client_per_request, n)

    text, user = FORM["text"], FORM["user_id"]

    async def listener_body() -> None:
        _, override = parse(text)
        lang = override or await runtime.locales.lang_for(user, app.client) or settings.default_lang
        reply = answer(
            text,
            lookup=runtime.library.current.default.lookup,
            lang=lang,
            now=runtime.clock(),
            command=runtime.command,
            user_id=user,
            is_admin=False,
            services=runtime.services,
        )
        json.dumps({"response_type": "ephemeral", **build_message(reply)})

    stages.add("    of which: listener body (parse, locale, answer, build_message, json)", listener_body, n)
    reply = answer(
        text, lookup=runtime.library.current.default.lookup, lang="ja", now=runtime.clock(), command=runtime.command
    )

    async def do_answer() -> None:
        answer(
            text, lookup=runtime.library.current.default.lookup, lang="ja", now=runtime.clock(), command=runtime.command
        )

    async def do_build() -> None:
        build_message(reply)

    message = build_message(reply)

    async def do_json() -> None:
        json.dumps({"response_type": "ephemeral", **message})

    stages.add("      answer() (parse + bilateral lookup + Reply)", do_answer, n)
    stages.add("      build_message() (Block Kit objects, to_dict with validation)", do_build, n)
    stages.add("      json.dumps of the ack body", do_json, n)

    from slack_bolt.async_app import AsyncApp

    from bot.app import build_web_client

    # g7bot's own AsyncApp settings (bot/app.py build_app), with a listener that acks the prebuilt reply:
    # the difference to the full dispatch above is what computing the reply per request costs.
    cached = AsyncApp(
        client=build_web_client(runtime),
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
    )
    cached_message = build_message(
        answer(
            text, lookup=runtime.library.current.default.lookup, lang="ja", now=runtime.clock(), command=runtime.command
        )
    )

    @cached.command(runtime.command)
    async def cached_listener(ack: Any, command: dict[str, Any], client: Any) -> None:
        await ack(response_type="ephemeral", **cached_message)

    await cached.async_dispatch(build_bolt_request(raw, headers))

    async def cached_dispatch() -> None:
        await cached.async_dispatch(build_bolt_request(raw, headers))

    stages.add(
        "g7bot's AsyncApp settings, listener acks a prebuilt reply: build_bolt_request + dispatch",
        cached_dispatch,
        n,
    )

    for pbr in (True, False):
        bolt = minimal_bolt(slack.api_url, process_before_response=pbr)
        first = await bolt.async_dispatch(AsyncBoltRequest(body=raw, headers=bolt_headers))
        assert first.status == 200, first.status

        async def bolt_dispatch(bolt: Any = bolt) -> None:
            await bolt.async_dispatch(AsyncBoltRequest(body=raw, headers=bolt_headers))

        label = (
            "minimal Bolt, process_before_response=True: AsyncBoltRequest + async_dispatch"
            if pbr
            else "naive Bolt (defaults, process_before_response=False): AsyncBoltRequest + async_dispatch"
        )
        stages.add(label, bolt_dispatch, n if pbr else max(10, n // 200))

    async def floor() -> None:
        await floor_app(scope, receiver(body), sink)

    stages.add("floor ASGI app call", floor, n)

    rows = await stages.run(args.reps)
    width = max(len(label) for label, _ in rows)
    print(
        f"in-process cost per request (µs; median of {args.reps} round-robin passes of {n} calls each; "
        "uvloop; no sockets):"
    )
    for label, us in rows:
        print(f"  {label:<{width}} {us:9.1f}")

    if args.pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0001, async_mode="disabled")
        profiler.start()
        for _ in range(n):
            await full()
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="in-process stage timings of g7bot's HTTP request path")
    parser.add_argument("--n", type=int, default=1000, help="calls per stage per pass (default 1000)")
    parser.add_argument("--reps", type=int, default=7, help="round-robin passes (default 7)")
    parser.add_argument("--pyinstrument", action="store_true", help="print a pyinstrument profile as well")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import uvloop

    with (
        tempfile.TemporaryDirectory(prefix="g7bot-profile-") as tmp,
        SlackStandIn() as slack,
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        runner.run(run(args, slack, tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
