"""The shared vocabulary of scheduling: one occurrence to post, and a commitment's live state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from bot.release.models import Lang

# notice: a DM telling an admin that posts to a channel fail for good (bot/schedule/notices.py).
Kind = Literal["digest", "reminder", "notice"]


class Occurrence(BaseModel):
    """One thing to post once: (kind, key, channel, at) identifies it in the delivery log.

    `key` names what is posted: "digest:<digest id>" or "reminder:<commitment id>:<label>", where the
    label is the offset ("d30", "d7", "d1", "d0"), "overdue:<n>" (the n-th business day past a confirmed
    due date) or "snooze:<until>". A reminder's `channel` is a user id (U…, W…) when it goes by DM to one
    of its desk's owners (data/owners.yml, notify: dm): one occurrence per owner.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind
    key: str
    channel: str
    at: dt.datetime
    lang: Lang = "ja"
    timezone: str = "Asia/Tokyo"
    commitment_id: str | None = None
    digest_id: str | None = None
    # The release a reminder's commitment belongs to; None for a digest (it spans releases) and for
    # occurrences logged before the database knew releases (the row's release_id column has it then).
    release_id: str | None = None

    @field_validator("at")
    @classmethod
    def _aware_utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("expected an aware datetime")
        return value.astimezone(dt.UTC)

    @property
    def identity(self) -> tuple[str, str, str, dt.datetime]:
        return (self.kind, self.key, self.channel, self.at)


Status = Literal["open", "done"]
# A commitment state's key in the database: (release id, commitment id).
StateKey = tuple[str, str]


class CommitmentState(BaseModel):
    """What users changed with the buttons and admins with `admin due`; it overlays the release's commitments.yml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    commitment_id: str
    # Set on every state the store reads; None only in states built by hand (tests of pure functions).
    release_id: str | None = None
    status: Status = "open"
    snoozed_until: dt.datetime | None = None
    updated_by: str | None = None
    updated_at: dt.datetime | None = None
    # Who pressed "I'll take it" (a Slack user id) and when; None: nobody has taken it.
    assignee: str | None = None
    assigned_at: dt.datetime | None = None
    # The due date an admin set (`/g7 admin due`) and whether it is confirmed; None: as in the data file.
    due_override: dt.date | None = None
    due_confirmed: bool | None = None


def states_by_commitment(
    states: Mapping[StateKey, CommitmentState], keys: Iterable[StateKey]
) -> dict[str, CommitmentState]:
    """The states of the commitments `keys` names, by commitment id (ids are unique across the library).

    A state stored under another release (one no longer loaded) does not apply to a commitment of the
    same id in this one.
    """
    return {key[1]: states[key] for key in keys if key in states}
