"""The one place where a listener's failure becomes a reply: user errors verbatim, bugs with a ref id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from bot.blocks import build_message
from bot.errors import UserError
from bot.messages import msg
from bot.release.models import Lang
from bot.reply import Reply, Section
from bot.text import escape

logger = logging.getLogger(__name__)


def guarded(make: Callable[[], dict[str, Any]], *, lang: Lang, what: str) -> dict[str, Any]:
    """The Slack message `make` builds; never an exception reaching Slack as an error status or silence."""
    try:
        return make()
    except UserError as exc:
        return build_message(Reply(title="g7bot", sections=[Section(text=escape(str(exc)))]))
    except Exception:
        ref = uuid.uuid4().hex[:8]
        logger.exception("bug while answering %s (ref %s)", what, ref)
        return build_message(Reply(title="g7bot", sections=[Section(text=msg("error.bug", lang, ref=ref))]))
