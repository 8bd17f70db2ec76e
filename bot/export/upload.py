"""Sending a file to a Slack user by DM through the external upload flow (files.upload is retired).

conversations.open (the DM) -> files.getUploadURLExternal (a URL and a file id) -> POST the bytes to that URL
-> files.completeUploadExternal (share it in the DM, with a comment). Any step that fails raises UploadFailed
naming the step and Slack's reason, so the caller can tell the user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import DeliveryError

logger = logging.getLogger(__name__)

UPLOAD_TIMEOUT_SECONDS = 30.0


class UploadFailed(DeliveryError):
    """A step of the upload flow failed: `step` is the method (or "upload"), `reason` Slack's error code."""

    def __init__(self, step: str, reason: str):
        self.step = step
        self.reason = reason
        super().__init__(f"{step}: {reason}")


@dataclass(frozen=True)
class Sent:
    channel: str
    file_id: str


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return type(exc).__name__


async def send_file_by_dm(
    client: AsyncWebClient,
    *,
    user_id: str,
    filename: str,
    content: bytes,
    title: str,
    comment: str,
    timeout: float = UPLOAD_TIMEOUT_SECONDS,
) -> Sent:
    """Share `content` as `filename` with `user_id` in the bot's DM with them; UploadFailed says which step failed."""
    try:
        opened = await client.conversations_open(users=user_id)
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        raise UploadFailed("conversations.open", _reason(exc)) from exc
    channel = str((opened.get("channel") or {}).get("id") or "")
    if not channel:
        raise UploadFailed("conversations.open", "no_channel")
    try:
        got = await client.files_getUploadURLExternal(filename=filename, length=len(content))
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        raise UploadFailed("files.getUploadURLExternal", _reason(exc)) from exc
    upload_url, file_id = str(got.get("upload_url") or ""), str(got.get("file_id") or "")
    if not upload_url or not file_id:
        raise UploadFailed("files.getUploadURLExternal", "no_upload_url")
    await _post_bytes(upload_url, content, timeout=timeout)
    try:
        await client.api_call(
            "files.completeUploadExternal",
            json={
                "files": [{"id": file_id, "title": title}],
                "channel_id": channel,
                "initial_comment": comment,
            },
        )
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        raise UploadFailed("files.completeUploadExternal", _reason(exc)) from exc
    logger.info("sent %s (%d bytes) to %s as %s", filename, len(content), user_id, file_id)
    return Sent(channel=channel, file_id=file_id)


async def _post_bytes(url: str, content: bytes, *, timeout: float) -> None:
    """The bytes to Slack's upload URL: no token goes there (the URL itself is the permission)."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(url, data=content, headers={"Content-Type": "application/octet-stream"}) as response,
        ):
            if response.status != 200:
                raise UploadFailed("upload", f"http_{response.status}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UploadFailed("upload", type(exc).__name__) from exc


__all__ = ["Sent", "UploadFailed", "send_file_by_dm"]
