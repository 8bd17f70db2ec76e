"""Posting to Slack for the scheduler: paced posts and updates, and finding posts whose answer was lost."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn

from aiohttp import ClientError
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import BytesPayload
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import DeliveryError, LeaseLost
from bot.schedule.pacing import ChannelPacer
from bot.schedule.slack_client import _maybe_delivered

logger = logging.getLogger(__name__)

EVENT_TYPE = "g7bot_delivery"
# The error of a history search that stopped at its page bound before reaching `since`: it proves nothing.
HISTORY_TRUNCATED = "history_truncated"
# The error of a search that read, in its window, a message of this bot without the metadata it posts
# with: Slack (or a policy) dropped metadata, so "no message carries the delivery id" proves nothing.
HISTORY_UNMARKED = "history_unmarked"
# Slack documents both as "some aspect of the operation may have succeeded": the post may be there.
MAYBE_DONE_ERRORS = frozenset({"fatal_error", "internal_error"})
_HISTORY_PAGE = 200


class SlackDeliveryError(DeliveryError):
    """A DeliveryError with Slack's error code and, when rate limited, how long Slack asked us to wait."""

    def __init__(self, message: str, *, error: str | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.error = error
        self.retry_after = retry_after


class OutcomeUnknown(SlackDeliveryError):
    """chat.postMessage may or may not have been posted (timeout, dropped answer, 5xx): look before resending."""


class Poster:
    """Posts, updates and finds the scheduler's messages; every failure is a DeliveryError.

    Each post carries message metadata {"event_type": "g7bot_delivery", "event_payload": {...}} with
    the delivery id, so a post whose answer was lost (timeout, crash) can be found in the channel.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        pacer: ChannelPacer | None = None,
        history_pages: int = 10,
        rate_limit_retries: int = 2,
        max_retry_after: float = 30.0,
        fence_max_age: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.client = client
        self.pacer = pacer or ChannelPacer()
        self.history_pages = history_pages
        # A 429 on chat.postMessage is retried here (not in the client) up to this many times, when Slack
        # asks for at most `max_retry_after` seconds; longer waits are the deliverer's (retry later).
        self.rate_limit_retries = rate_limit_retries
        self.max_retry_after = max_retry_after
        # A send must follow its fence check within this many seconds, or it is not made (see post()).
        self.fence_max_age = fence_max_age
        self.monotonic = monotonic
        self._bot_id: str | None = None

    @property
    def semaphore(self) -> asyncio.Semaphore:
        return self.pacer.semaphore

    async def post(
        self,
        channel: str,
        message: Mapping[str, Any],
        *,
        metadata: Mapping[str, Any],
        before_send: Callable[[], Awaitable[bool]] | None = None,
    ) -> str:
        """Post `message` (text, blocks, ...) with `metadata` as the event payload; returns its ts.

        `before_send` is the delivery's fence: it runs right before every send (the first, and each
        retry after a 429), once this post has its turn. If it answers False, or the send could not
        follow it within `fence_max_age` seconds, nothing is sent and LeaseLost is raised.

        Raises OutcomeUnknown when the post may have landed (a timeout, a dropped connection after the
        request went out, a 5xx), and another DeliveryError when it surely did not.
        """
        payload = {"event_type": EVENT_TYPE, "event_payload": dict(metadata)}
        async with self.pacer.slot(channel):
            for retry in range(self.rate_limit_retries + 1):
                checked = self.monotonic()
                if before_send is not None and not await before_send():
                    raise LeaseLost(f"chat.postMessage to {channel}: no longer ours to send")

                def fresh(checked: float = checked) -> bool:
                    return self.monotonic() - checked <= self.fence_max_age

                if not fresh():
                    # Frozen or starved between the check and the send: the check may be stale by now.
                    raise LeaseLost(f"chat.postMessage to {channel}: too long since the fence was checked")
                try:
                    return await self._post_once(channel, message, payload, fresh=fresh)
                except SlackDeliveryError as exc:
                    wait = exc.retry_after
                    if exc.error != "ratelimited" or wait is None or wait > self.max_retry_after:
                        raise
                    if retry == self.rate_limit_retries:
                        raise
                # Rejected, so surely not posted: wait our turn again, then go back through the fence.
                await self.pacer.rate_limited(wait + random.uniform(0, 0.25))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _post_once(
        self,
        channel: str,
        message: Mapping[str, Any],
        payload: dict[str, Any],
        *,
        fresh: Callable[[], bool] = lambda: True,
    ) -> str:
        body = _FencedBody(json.dumps({"channel": channel, "metadata": payload, **message}).encode(), fresh=fresh)
        try:
            # Sent through api_call with our own body: it checks the fence is fresh as the request's body
            # is about to be written, after the connection was made, the latest moment a client can.
            response = await self.client.api_call("chat.postMessage", data=body, headers=dict(_JSON))  # type: ignore[arg-type]
        except Exception as exc:
            if body.refused:
                raise LeaseLost(f"chat.postMessage to {channel}: too long since the fence was checked") from exc
            self._raise_post_error(channel, exc)
        self.pacer.posted()
        return str(response["ts"])

    def _raise_post_error(self, channel: str, exc: Exception) -> NoReturn:
        """Raise what a failed chat.postMessage means: OutcomeUnknown when it may have landed."""
        if isinstance(exc, SlackApiError):
            status = exc.response.status_code if exc.response is not None else None
            if status == 429:
                self.pacer.note_rate_limited()
            error = _delivery_error("chat.postMessage", channel, exc)
            # No Slack error code (a proxy's page, a body that is not Slack's JSON) proves nothing either.
            not_slacks = error.error is None and status != 429
            if (status is not None and status >= 500) or error.error in MAYBE_DONE_ERRORS or not_slacks:
                raise OutcomeUnknown(str(error), error=error.error) from exc
            raise error from exc
        if isinstance(exc, TimeoutError | ClientError):
            error = _delivery_error("chat.postMessage", channel, exc)
            if _maybe_delivered(exc):
                raise OutcomeUnknown(str(error), error=type(exc).__name__) from exc
            raise error from exc
        if isinstance(exc, SlackClientError):
            raise DeliveryError(f"chat.postMessage to {channel}: {exc}") from exc
        raise exc

    async def update(self, channel: str, ts: str, message: Mapping[str, Any]) -> None:
        """chat.update of a message the bot posted (e.g. a reminder after Done was pressed)."""
        async with self.pacer.slot(channel):
            try:
                await self.client.chat_update(channel=channel, ts=ts, **message)
            except (SlackClientError, ClientError, TimeoutError) as exc:
                raise _delivery_error("chat.update", channel, exc) from exc

    async def ephemeral(self, channel: str, user: str, message: Mapping[str, Any]) -> None:
        """chat.postEphemeral: a message only `user` sees in `channel` (e.g. "already taken by ...").

        Nothing depends on it arriving: a failure is logged, not raised.
        """
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, **message)
        except (SlackClientError, ClientError, TimeoutError) as exc:
            logger.warning("chat.postEphemeral to %s in %s failed: %r", user, channel, exc)

    async def open_dm(self, user: str) -> str:
        """The id of the bot's direct-message channel with `user` (conversations.open; opening twice is harmless)."""
        try:
            response = await self.client.conversations_open(users=user)
        except (SlackClientError, ClientError, TimeoutError) as exc:
            raise _delivery_error("conversations.open", user, exc) from exc
        channel = (response.get("channel") or {}).get("id")
        if not channel:
            raise SlackDeliveryError(f"conversations.open to {user}: no channel in the answer")
        return str(channel)

    async def usergroup_members(self, usergroup: str) -> tuple[str, ...]:
        """The user ids of a user group (usergroups.users.list; needs usergroups:read)."""
        try:
            response = await self.client.usergroups_users_list(usergroup=usergroup)
        except (SlackClientError, ClientError, TimeoutError) as exc:
            raise _delivery_error("usergroups.users.list", usergroup, exc) from exc
        users = response.get("users")
        if not isinstance(users, list):
            raise SlackDeliveryError(f"usergroups.users.list of {usergroup}: no users in the answer")
        return tuple(str(u) for u in users)

    async def channel_info(self, channel: str) -> Mapping[str, Any]:
        """conversations.info's channel object (is_ext_shared, is_shared, ...)."""
        try:
            response = await self.client.conversations_info(channel=channel)
        except (SlackClientError, ClientError, TimeoutError) as exc:
            raise _delivery_error("conversations.info", channel, exc) from exc
        info = response.get("channel")
        if not isinstance(info, Mapping):
            raise SlackDeliveryError(f"conversations.info of {channel}: no channel in the answer")
        return info

    async def token_ok(self) -> bool:
        """auth.test answers ok: the bot token works (again). False when Slack refuses it or cannot be asked."""
        try:
            response = await self.client.auth_test()
        except (SlackClientError, ClientError, TimeoutError):
            return False
        return bool(response.get("ok"))

    async def find_posted(self, channel: str, delivery_id: object, *, since: dt.datetime) -> str | None:
        """The ts of the message in `channel` (posted at or after `since`) that carries `delivery_id`.

        None only when every message since `since` was read; a DeliveryError when that could not be done.
        """
        async with self.semaphore:
            return await self._find_posted(channel, delivery_id, since=since)

    async def _find_posted(self, channel: str, delivery_id: object, *, since: dt.datetime) -> str | None:
        wanted = str(delivery_id)
        cursor: str | None = None
        unmarked: str | None = None
        for _ in range(self.history_pages):
            try:
                response = await self.client.conversations_history(
                    channel=channel,
                    oldest=f"{since.timestamp():.6f}",
                    inclusive=True,
                    include_all_metadata=True,
                    limit=_HISTORY_PAGE,
                    cursor=cursor,
                )
            except (SlackClientError, ClientError, TimeoutError) as exc:
                raise _delivery_error("conversations.history", channel, exc) from exc
            for message in response.get("messages") or []:
                found = _delivery_id_of(message)
                if found == wanted:
                    return str(message["ts"])
                if found is None and unmarked is None and message.get("bot_id") and await self._ours(channel, message):
                    unmarked = str(message.get("ts"))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or not cursor:
                if unmarked is not None:
                    raise SlackDeliveryError(
                        f"conversations.history of {channel}: message {unmarked} is the bot's but carries no "
                        f"delivery metadata, so delivery {wanted} may be among such messages",
                        error=HISTORY_UNMARKED,
                    )
                return None
        # Not found in the pages read is not "not posted": the rest of the window was never read.
        raise SlackDeliveryError(
            f"conversations.history of {channel}: {self.history_pages} pages read, delivery {wanted} not among them",
            error=HISTORY_TRUNCATED,
        )

    async def _ours(self, channel: str, message: Mapping[str, Any]) -> bool:
        """The message was posted by this bot (auth.test's bot_id, asked once)."""
        if self._bot_id is None:
            try:
                response = await self.client.auth_test()
            except (SlackClientError, ClientError, TimeoutError) as exc:
                raise _delivery_error("auth.test", channel, exc) from exc
            self._bot_id = str(response.get("bot_id") or "")
        return bool(self._bot_id) and message.get("bot_id") == self._bot_id


_JSON = {"Content-Type": "application/json;charset=utf-8"}


class _FencedBody(BytesPayload):
    """A JSON request body that checks its fence is still fresh the moment aiohttp is about to write it.

    Raising there aborts the request before its body leaves: Slack never gets a whole request, so a
    process frozen between its fence and the send (connection set-up included) sends nothing stale.
    """

    def __init__(self, body: bytes, *, fresh: Callable[[], bool]):
        super().__init__(body, content_type=_JSON["Content-Type"])
        self._fresh = fresh
        self.refused = False

    def _check(self) -> None:
        if not self._fresh():
            self.refused = True
            raise LeaseLost("the fence went stale before the request was written")

    async def write(self, writer: AbstractStreamWriter) -> None:
        self._check()
        await super().write(writer)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        self._check()
        await super().write_with_length(writer, content_length)


def _delivery_id_of(message: Mapping[str, Any]) -> str | None:
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != EVENT_TYPE:
        return None
    payload = metadata.get("event_payload")
    if not isinstance(payload, Mapping) or payload.get("delivery_id") is None:
        return None
    return str(payload["delivery_id"])


def _delivery_error(method: str, channel: str, exc: BaseException) -> SlackDeliveryError:
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        retry_after: float | None = None
        if exc.response is not None and exc.response.status_code == 429:
            header = (exc.response.headers or {}).get("Retry-After")
            try:
                retry_after = float(header) if header is not None else None
            except ValueError:
                retry_after = None
        return SlackDeliveryError(f"{method} to {channel}: {error or 'error'}", error=error, retry_after=retry_after)
    return SlackDeliveryError(f"{method} to {channel}: {type(exc).__name__}: {exc}")
