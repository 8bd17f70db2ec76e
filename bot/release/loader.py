"""Load the release YAML under data/ into the Release model."""

from __future__ import annotations

from pathlib import Path

from bot.datafiles import load_yaml_model
from bot.release.models import Release

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
RELEASE_FILE = DATA_DIR / "release.yml"


def load_release(path: Path = RELEASE_FILE) -> Release:
    """Load and validate one release file; raises ConfigError naming the file and field."""
    return load_yaml_model(path, Release)
