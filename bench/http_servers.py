"""Reference servers for bench/http_latency.py, each run as its own subprocess on loopback.

    python bench/http_servers.py floor --port P
    python bench/http_servers.py bolt --port P            # env: SLACK_SIGNING_SECRET, _BOT_TOKEN, _API_URL
    python bench/http_servers.py bolt-inline --port P     # the same, process_before_response=True
    python bench/http_servers.py g7bot-uvloop             # g7bot's own `serve`, uvloop as loop policy
    python bench/http_servers.py g7bot-fastpath --port P  # PROTOTYPE (bench/http_fastpath.py), g7bot's env

`floor`, `bolt`, `bolt-inline` and `g7bot-fastpath` run on the uvicorn stack the benchmark pins for every
server: uvicorn.Config(http="httptools", loop="uvloop", lifespan="on", access_log=False, workers=1,
server_header=False), started the way `uvicorn.Server.run()` starts it (the loop factory from the Config).
Once listening each prints one JSON line, {"ready": ..., "loop": ..., "http": ...}, so the benchmark can show
which stack actually served.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

FLOOR_BODY = b'{"ok":true}'
FLOOR_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(FLOOR_BODY)).encode())]
BOLT_REPLY = "g7bot bench: fixed reply"

# The uvicorn options every server in the benchmark is meant to share.
UVICORN_OPTIONS: dict[str, Any] = {
    "http": "httptools",
    "loop": "uvloop",
    "lifespan": "on",
    "access_log": False,
    "workers": 1,
    "server_header": False,
    "log_level": "warning",
}


async def floor_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The floor: no Bolt, no parsing; read the body, answer a fixed 200 JSON."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more = message.get("more_body", False)
    if scope["method"] != "POST":
        await send({"type": "http.response.start", "status": 405, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": FLOOR_HEADERS})
    await send({"type": "http.response.body", "body": FLOOR_BODY})


def bolt_app(*, process_before_response: bool = False) -> Any:
    """A naive Bolt app: Bolt's defaults (process_before_response=False), one /g7 listener, Bolt's ASGI
    adapter.

    With process_before_response=True (`bolt-inline`) the listener runs inline instead of in a task that
    Bolt polls every 10 ms: the least a Bolt-dispatched request can cost.
    """
    from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=process_before_response,
    )

    @app.command("/g7")
    async def g7(ack: AsyncAck) -> None:
        await ack(BOLT_REPLY)

    return AsyncSlackRequestHandler(app)


def serve(asgi: Any, host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(asgi, host=host, port=port, **UVICORN_OPTIONS)
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        for _ in range(2000):  # at most ~20 s
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if server.started:
            loop = asyncio.get_running_loop()
            proto = config.http_protocol_class
            print(
                json.dumps(
                    {
                        "ready": True,
                        "loop": f"{type(loop).__module__}.{type(loop).__qualname__}",
                        "http": f"{proto.__module__}.{proto.__qualname__}",
                    }
                ),
                flush=True,
            )
        await task

    # What uvicorn.Server.run() does: the Config's loop factory (uvloop here), then serve().
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["floor", "bolt", "bolt-inline", "g7bot-uvloop", "g7bot-fastpath"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.which == "g7bot-uvloop":
        # g7bot unchanged, except that asyncio.run() (bot/startup.py) now builds a uvloop loop.
        import uvloop

        sys.path.insert(0, str(ROOT))
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        from bot.__main__ import main as bot_main

        return bot_main(["serve"])
    if args.which == "floor":
        asgi = floor_app
    elif args.which == "g7bot-fastpath":
        import logging

        sys.path.insert(0, str(ROOT))
        logging.basicConfig(level=logging.WARNING)
        from http_fastpath import build

        asgi = build()
    else:
        asgi = bolt_app(process_before_response=args.which == "bolt-inline")
    serve(asgi, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
