"""UserGroupMembers: the members of the owners' user groups, read once per ttl, the last known kept on a failure."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.schedule.poster import SlackDeliveryError
from bot.schedule.usergroups import UserGroupMembers

T0 = dt.datetime(2026, 12, 11, 0, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


class Workspace:
    """usergroups.users.list as a function: each group's members, or the error Slack would answer."""

    def __init__(self) -> None:
        self.groups: dict[str, tuple[str, ...]] = {"S0GRP0001": ("U0AAA0001",)}
        self.errors: dict[str, str] = {}
        self.asked: list[str] = []

    async def members_of(self, group: str) -> tuple[str, ...]:
        self.asked.append(group)
        if group in self.errors:
            raise SlackDeliveryError(
                f"usergroups.users.list to {group}: {self.errors[group]}", error=self.errors[group]
            )
        return self.groups[group]


def refresh(known: UserGroupMembers, groups: list[str], now: dt.datetime) -> None:
    asyncio.run(known.refresh(groups, now=now))


def test_members_are_read_once_per_ttl_and_changes_seen_after_it() -> None:
    slack = Workspace()
    known = UserGroupMembers(slack.members_of, ttl=10 * MINUTE)
    refresh(known, ["S0GRP0001"], T0)
    refresh(known, ["S0GRP0001"], T0 + 9 * MINUTE)
    assert slack.asked == ["S0GRP0001"] and known.members == {"S0GRP0001": ("U0AAA0001",)}
    slack.groups["S0GRP0001"] = ("U0AAA0001", "U0AAA0002")
    refresh(known, ["S0GRP0001"], T0 + 10 * MINUTE)
    assert slack.asked == ["S0GRP0001", "S0GRP0001"]
    assert known.members["S0GRP0001"] == ("U0AAA0001", "U0AAA0002")


def test_a_transient_failure_keeps_the_last_known_members_and_asks_again_next_tick(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack = Workspace()
    known = UserGroupMembers(slack.members_of, ttl=10 * MINUTE)
    refresh(known, ["S0GRP0001"], T0)
    slack.errors["S0GRP0001"] = "ratelimited"
    refresh(known, ["S0GRP0001"], T0 + 10 * MINUTE)
    refresh(known, ["S0GRP0001"], T0 + 10 * MINUTE + dt.timedelta(seconds=15))
    assert known.members["S0GRP0001"] == ("U0AAA0001",)
    assert len(slack.asked) == 3
    # Logged once for the same error, with how many members are still DMed.
    logged = [r.getMessage() for r in caplog.records if "S0GRP0001" in r.getMessage()]
    assert len(logged) == 1 and "ratelimited" in logged[0] and "(1)" in logged[0]


def test_a_permanent_failure_is_asked_again_only_after_the_ttl() -> None:
    slack = Workspace()
    slack.errors["S0GONE001"] = "no_such_subteam"
    known = UserGroupMembers(slack.members_of, ttl=10 * MINUTE)
    for minute in range(10):
        refresh(known, ["S0GONE001"], T0 + minute * MINUTE)
    assert slack.asked == ["S0GONE001"] and "S0GONE001" not in known.members
    refresh(known, ["S0GONE001"], T0 + 10 * MINUTE)
    assert slack.asked == ["S0GONE001", "S0GONE001"]


def test_without_slack_nothing_is_read() -> None:
    known = UserGroupMembers(None)
    refresh(known, ["S0GRP0001"], T0)
    assert known.members == {} and known.lookups == 0
