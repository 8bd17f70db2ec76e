"""Load one release YAML into the Release model; where the shipped release lives under data/."""

from __future__ import annotations

from pathlib import Path

from bot.datafiles import load_yaml_model
from bot.release.models import Release

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
RELEASES_DIR = DATA_DIR / "releases"
# The release g7bot ships with (METI, 10 December 2025): its folder holds release.yml, source.txt, commitments.yml.
SHIPPED_ID = "meti-2025-12-10-g7-idt"
RELEASE_DIR = RELEASES_DIR / SHIPPED_ID
RELEASE_FILE = RELEASE_DIR / "release.yml"
COMMITMENTS_FILE = RELEASE_DIR / "commitments.yml"


def load_release(path: Path = RELEASE_FILE) -> Release:
    """Load and validate one release file; raises ConfigError naming the file and field."""
    return load_yaml_model(path, Release)


def release_folder(data_dir: Path, release: Release) -> Path:
    """The folder of `release` in the data folder `data_dir`: releases/<id>/, or data_dir itself (legacy layout)."""
    own = data_dir / "releases" / release.id
    return own if (own / "release.yml").is_file() else data_dir
