"""PROTOTYPE, not g7bot: what a slash-command fast path in front of Bolt would cost (bench only).

`python bench/http_servers.py g7bot-fastpath` serves this on the benchmark's uvicorn stack. It builds g7bot
exactly as `g7bot serve` does (bot.startup.start) and wraps its ASGI app (bot.transports.http.SlackASGI):

* a signed POST /slack/events whose form is g7bot's own slash command (and no interactivity `payload`,
  no `ssl_check`) is answered here: Slack v0 signature check, parse_qsl, the user's language from g7bot's
  LocaleCache (users.info through the app's shared client), then g7bot's answer() + build_message(),
  memoised per (text, language, admin, release, minute) as ready JSON bytes;
* everything else goes to SlackASGI unchanged (the body already read is replayed).

It exists to measure the proposal in bench/README.md ("HTTP latency"), not to be deployed: it skips Bolt's
middleware chain (request verification is redone here; authorization is not needed for an ack that calls no
Web API), and it memoises replies, which is only right for subcommands that do not depend on time or state
beyond the minute.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.signature import SignatureVerifier

from bot.blocks import build_message
from bot.commands import answer, parse
from bot.startup import Started
from bot.transports.http import SlackASGI, _read_body, _respond

CACHE_SIZE = 1024
JSON = "application/json; charset=utf-8"


class FastPathASGI:
    def __init__(self, started: Started):
        self.started = started
        self.inner = SlackASGI(started.app)
        secret = started.settings.signing_secret
        assert secret is not None, "fast path needs SLACK_SIGNING_SECRET"
        self.verifier = SignatureVerifier(secret.get_secret_value())
        self.cache: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/slack/events" or scope["method"] != "POST":
            await self.inner(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            await _respond(send, 413, b"Payload Too Large")
            return
        headers = dict(scope["headers"])
        ts = headers.get(b"x-slack-request-timestamp")
        sig = headers.get(b"x-slack-signature")
        ctype = headers.get(b"content-type", b"")
        if ts is not None and sig is not None and ctype.startswith(b"application/x-www-form-urlencoded"):
            raw = body.decode("utf-8", errors="replace")
            if not self.verifier.is_valid(raw, ts.decode("latin-1"), sig.decode("latin-1")):
                await _respond(send, 401, b'{"error":"invalid request"}', JSON)
                return
            form = dict(parse_qsl(raw, keep_blank_values=True))
            runtime = self.started.runtime
            if form.get("command") == runtime.command and "payload" not in form and "ssl_check" not in form:
                await _respond(send, 200, await self._answer(form), JSON)
                return
        await self.inner(scope, _replay(body), send)

    async def _answer(self, form: dict[str, str]) -> bytes:
        runtime, app = self.started.runtime, self.started.app
        text = form.get("text", "")
        user_id = form.get("user_id", "")
        _, override = parse(text)
        lang = override or await runtime.locales.lang_for(user_id, app.client) or runtime.settings.default_lang
        is_admin = runtime.is_admin(user_id, team_id=form.get("team_id"), enterprise_id=form.get("enterprise_id"))
        key = (text, lang, is_admin, id(runtime.library.current.default.lookup), int(time.time() // 60))
        payload = self.cache.get(key)
        if payload is None:
            reply = answer(
                text,
                lookup=runtime.library.current.default.lookup,
                lang=lang,
                now=runtime.clock(),
                command=runtime.command,
                user_id=user_id,
                is_admin=is_admin,
                services=runtime.services,
            )
            message = {"response_type": "ephemeral", **build_message(reply)}
            payload = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
            self.cache[key] = payload
            while len(self.cache) > CACHE_SIZE:
                self.cache.popitem(last=False)
        return payload


def _replay(body: bytes) -> Any:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def build() -> FastPathASGI:
    from bot.settings import load_settings
    from bot.startup import start

    return FastPathASGI(start(load_settings()))
