"""The one place where a listener's failure becomes a reply: user errors verbatim, bugs with a ref id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from bot.errors import UserError
from bot.messages import msg
from bot.release.models import Lang
from bot.reply import Reply, Section
from bot.text import escape

logger = logging.getLogger(__name__)


def guarded(make: Callable[[], Reply], *, lang: Lang, what: str) -> Reply:
    """Run `make`; never let an exception reach Slack as an error status or silence."""
    try:
        return make()
    except UserError as exc:
        return Reply(title="g7bot", sections=[Section(text=escape(str(exc)))])
    except Exception:
        ref = uuid.uuid4().hex[:8]
        logger.exception("bug while answering %s (ref %s)", what, ref)
        return Reply(title="g7bot", sections=[Section(text=msg("error.bug", lang, ref=ref))])
