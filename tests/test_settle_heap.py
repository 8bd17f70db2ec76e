"""Before serving, what start-up loaded is moved out of the cycle collector's reach (gc.freeze), and only then."""

from __future__ import annotations

import gc
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import heap, startup
from tests.signed_app import start_http_mode
from tests.slack_standin import SlackStandIn


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test run collects as usual


def test_settle_freezes_what_is_alive(unfrozen: None) -> None:
    assert gc.get_freeze_count() == 0
    heap.settle()
    assert gc.get_freeze_count() > 0


def test_the_collector_is_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with heap.collector_paused():
        assert not gc.isenabled()
        with heap.collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block leaves it as the outer one made it
    assert gc.isenabled()
    with pytest.raises(RuntimeError), heap.collector_paused():
        raise RuntimeError
    assert gc.isenabled()


def test_start_for_serving_pauses_the_collector_and_settles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    seen: list[bool] = []
    real = startup.load_library

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(startup, "load_library", spy)
    with SlackStandIn() as slack:
        started = start_http_mode(tmp_path, slack.api_url, serving=True)
        started.service.store.close()
    assert seen == [False]
    assert gc.isenabled() and gc.get_freeze_count() > 0


def test_serve_settles_the_heap_before_it_listens_and_start_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    events: list[str] = []

    def fake_run(main: Coroutine[Any, Any, None]) -> None:
        events.append(f"run, frozen={gc.get_freeze_count() > 0}")
        main.close()

    monkeypatch.setattr(startup, "run", fake_run)
    with SlackStandIn() as slack:
        started = start_http_mode(tmp_path, slack.api_url)
        assert gc.get_freeze_count() == 0  # start() alone (tests, the console) leaves the collector as it is
        try:
            assert started.serve() == 0
        finally:
            started.service.store.close()
    assert events == ["run, frozen=True"]
