"""Python's cycle collector around bulk loading: paused while a library is read, and what start-up loaded settled.

A library of 1,000 releases is a million small objects made in one burst. The collector would walk them again and
again while they are made (most of a large start-up's time), then in every full pass while the bot serves; they
hold no cycles, so reference counting frees them when a reload drops them, and neither is needed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off for the block, then as it was (a block inside another leaves it off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def settle() -> None:
    """What is alive now lives as long as the process (serve's start-up): out of the collector's reach (gc.freeze).

    Only for `g7bot serve`: objects frozen are never examined for cycles again, so tests and the console, which
    start the bot many times in one process, must not.
    """
    gc.freeze()
