"""A commitment as it stands: the data file's, with the date an admin set (`/g7 admin due`) on top."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.schedule.models import Commitment
from bot.schedule.occurrence import CommitmentState


def effective(commitment: Commitment, state: CommitmentState | None) -> Commitment:
    """`commitment` with `due` and `due_is_assumption` as the admin set them in `state`; itself when nothing is set.

    `due_confirmed` None keeps the file's word on whether the date is an assumption; True confirms it (never
    "to confirm", overdue once past), False makes it one. Everything that reads a due date takes it from here,
    so a date changed in Slack shows at once in digests, reminders, `/g7 followups`, the export and App Home.
    """
    if state is None or (state.due_override is None and state.due_confirmed is None):
        return commitment
    update: dict[str, object] = {}
    if state.due_override is not None and state.due_override != commitment.due:
        update["due"] = state.due_override
        if commitment.window_start is not None and commitment.window_start > state.due_override:
            update["window_start"] = None  # a window ending before it starts says nothing true
    if state.due_confirmed is not None and state.due_confirmed == commitment.due_is_assumption:
        update["due_is_assumption"] = not state.due_confirmed
    return commitment.model_copy(update=update) if update else commitment


def effective_all(commitments: Iterable[Commitment], states: Mapping[str, CommitmentState]) -> list[Commitment]:
    """Each commitment as it stands (its state by commitment id)."""
    return [effective(c, states.get(c.id)) for c in commitments]
