"""What an audit entry says: who (actor), from where (surface), what (action), on what, before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Where a change came from. The assignment and date-confirmation actions arrive with later work: they are
# declared here already, so adding them is one call to AuditLog.record (or one store method passing a Change).
Surface = Literal["button", "slash", "app_home", "modal", "cli", "scheduler"]
SURFACES: tuple[Surface, ...] = ("button", "slash", "app_home", "modal", "cli", "scheduler")
AuditAction = Literal["done", "snooze", "reopen", "assign", "due_confirm", "reload", "digest_now"]
ACTIONS: tuple[AuditAction, ...] = ("done", "snooze", "reopen", "assign", "due_confirm", "reload", "digest_now")

SYSTEM = "system"
ACTOR_MAX = 255
NOTE_MAX = 2000


def admin_actor(user_id: str) -> str:
    """The actor of an admin command: "admin:<Slack user id>", so the record says the right was an admin's."""
    return f"admin:{user_id}"


class Change(BaseModel):
    """What the caller of a change knows: who, from where, what, on which release and commitment, and a note.

    The store adds when (the change's `now`), before and after (read and written in one transaction).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: str = Field(min_length=1, max_length=ACTOR_MAX)
    surface: Surface
    action: AuditAction
    release_id: str | None = None
    commitment_id: str | None = None
    note: str | None = Field(None, max_length=NOTE_MAX)


class AuditEntry(BaseModel):
    """One row of audit_log, as read back."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    at: dt.datetime
    actor: str
    surface: Surface
    action: AuditAction
    release_id: str | None = None
    commitment_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    note: str | None = None

    @field_validator("at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("expected an aware datetime")
        return value

    @property
    def user_id(self) -> str | None:
        """The Slack user behind the actor ("U…" or "admin:U…"); None for the system."""
        if self.actor == SYSTEM:
            return None
        return self.actor.removeprefix("admin:")
