"""The bot's one error hierarchy.

    BotError                 base of everything the bot raises on purpose
     +-- UserError           a message for the person who asked; shown verbatim, never logged as a bug
     |    +-- NotAllowed     the user may not run this (admin-only commands)
     +-- ConfigError         a bad file or setting: names the file, the field and what was expected
     +-- DeliveryError       a Slack post that could not be completed (it stays pending, never lost)
     |    +-- LeaseLost      another instance took the post over while it waited for its turn
     +-- DatabaseTooNew      the delivery log was migrated by a newer g7bot than this one: upgrade g7bot

Anything else that escapes a listener or a scheduled job is a bug: it is logged with its traceback
and the user gets a short apology with a reference id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from pydantic import ValidationError


class BotError(Exception):
    """Base of all errors the bot raises on purpose."""


class UserError(BotError):
    """Shown to the requesting user as it is (already localised by the caller)."""


class NotAllowed(UserError):
    """The requesting user may not run this command."""


class DeliveryError(BotError):
    """A Slack post failed; the delivery stays pending and is retried later."""


class LeaseLost(DeliveryError):
    """The delivery was taken over while it waited for its turn; its new owner posts it."""


class DatabaseTooNew(BotError):
    """The database's schema revision is one this g7bot does not know: a newer g7bot migrated it.

    Start-up stops with this one line rather than guess at a schema it has never seen (nothing is changed).
    """

    def __init__(self, *, database: str, revision: str, head: str):
        self.database, self.revision, self.head = database, revision, head
        super().__init__(
            f"the database {database} is at schema revision {revision}, which this g7bot does not know "
            f"(it knows up to {head}): a newer g7bot migrated it; upgrade g7bot to that version or newer"
        )


class ConfigError(BotError):
    """A configuration or data file is invalid. `problems` lists (field, reason) pairs."""

    def __init__(self, file: Path | str, problems: Sequence[tuple[str, str]]):
        self.file = str(file)
        self.problems = list(problems)
        super().__init__(self.describe())

    def describe(self) -> str:
        lines = [f"{self.file}: {field}: {reason}" for field, reason in self.problems]
        return "\n".join(lines) if lines else f"{self.file}: invalid"

    @classmethod
    def from_validation(cls, file: Path | str, error: ValidationError) -> ConfigError:
        return cls(file, list(_problems(error.errors(include_url=False))))


def _problems(errors: Iterable[Mapping[str, object]]) -> Iterable[tuple[str, str]]:
    for err in errors:
        loc = err.get("loc") or ()
        field = ".".join(str(p) for p in loc) if isinstance(loc, tuple) and loc else "(top level)"
        reason = str(err.get("msg", "invalid"))
        yield field, reason.removeprefix("Value error, ").removeprefix("Assertion failed, ")
