"""Settings from the environment, validated at start-up (pydantic-settings)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError
from bot.release.models import Lang

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """Every setting the bot reads; the README's settings table lists the same names."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    signing_secret: SecretStr | None = Field(None, validation_alias=_env("SLACK_SIGNING_SECRET"))
    app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    # Bolt switches to multi-workspace OAuth by itself when these two are set; g7bot is single-workspace.
    client_id: str | None = Field(None, validation_alias=_env("SLACK_CLIENT_ID"))
    client_secret: SecretStr | None = Field(None, validation_alias=_env("SLACK_CLIENT_SECRET"))
    api_url: str = Field("https://slack.com/api/", validation_alias=_env("SLACK_API_URL"))
    host: str = Field("0.0.0.0", validation_alias=_env("HOST"))
    port: int = Field(3000, ge=0, le=65535, validation_alias=_env("PORT"))

    default_lang: Lang = Field("ja", validation_alias=_env("G7BOT_DEFAULT_LANG"))
    manifest: Path = Field(ROOT / "manifest.yml", validation_alias=_env("G7BOT_MANIFEST"))
    data_dir: Path = Field(DATA_DIR, validation_alias=_env("G7BOT_DATA_DIR"))
    schedule_file: Path | None = Field(None, validation_alias=_env("G7BOT_SCHEDULE"))
    # Who owns each desk's follow-ups (data/owners.yml by default; a missing file is no owners).
    owners_file: Path | None = Field(None, validation_alias=_env("G7BOT_OWNERS"))
    # The release commands read when none is selected (its id, the folder's name); by default the newest.
    default_release: str | None = Field(None, min_length=1, validation_alias=_env("G7BOT_DEFAULT_RELEASE"))
    database_url: str | None = Field(None, validation_alias=_env("G7BOT_DATABASE_URL"))
    # Where the search index of a large library is kept between runs (see bot.search.loaded); see search_cache_dir.
    cache_dir: Path | None = Field(None, validation_alias=_env("G7BOT_CACHE_DIR"))
    # A database that is down at start is waited for this long (with backoff), then `serve` gives up.
    database_wait_seconds: float = Field(60.0, ge=0, le=86400, validation_alias=_env("G7BOT_DATABASE_WAIT_SECONDS"))
    admin_users: Annotated[frozenset[str], NoDecode] = Field(frozenset(), validation_alias=_env("G7BOT_ADMIN_USERS"))
    grace_minutes: float = Field(30.0, ge=0, le=7 * 24 * 60, validation_alias=_env("G7BOT_GRACE_MINUTES"))
    tick_seconds: int = Field(15, ge=1, le=60, validation_alias=_env("G7BOT_TICK_SECONDS"))
    lease_seconds: float = Field(120.0, gt=0, le=86400, validation_alias=_env("G7BOT_LEASE_SECONDS"))
    # A post whose answer was lost is looked for in the channel this long after it was sent, never
    # re-sent before: longer than the Slack client's timeout and than Slack takes to show a post.
    settle_seconds: float = Field(60.0, gt=0, le=86400, validation_alias=_env("G7BOT_SETTLE_SECONDS"))
    slack_timeout_seconds: float = Field(10.0, gt=0, le=600, validation_alias=_env("G7BOT_SLACK_TIMEOUT_SECONDS"))
    # Delivery log sessions: PostgreSQL lock, statement and idle-in-transaction timeouts; SQLite busy timeout.
    db_lock_timeout_seconds: float = Field(3.0, gt=0, le=600, validation_alias=_env("G7BOT_DB_LOCK_TIMEOUT_SECONDS"))
    db_statement_timeout_seconds: float = Field(
        10.0, gt=0, le=3600, validation_alias=_env("G7BOT_DB_STATEMENT_TIMEOUT_SECONDS")
    )
    db_idle_timeout_seconds: float = Field(10.0, gt=0, le=3600, validation_alias=_env("G7BOT_DB_IDLE_TIMEOUT_SECONDS"))
    db_busy_timeout_seconds: float = Field(5.0, gt=0, le=600, validation_alias=_env("G7BOT_DB_BUSY_TIMEOUT_SECONDS"))
    # Slack allows about one post a second per channel and an unpublished workspace-wide rate: the
    # poster starts at this cautious rate and slows down by itself on a 429.
    post_rate: float = Field(5.0, gt=0, validation_alias=_env("G7BOT_POST_RATE"))
    post_burst: int = Field(10, ge=1, validation_alias=_env("G7BOT_POST_BURST"))
    locale_cache_seconds: float = Field(3600.0, ge=0, validation_alias=_env("G7BOT_LOCALE_CACHE_SECONDS"))
    log_level: str = Field("INFO", validation_alias=_env("G7BOT_LOG_LEVEL"))
    # Socket Mode: Slack pings every connection; one silent this long is replaced (bolt-python #1529).
    socket_ping_seconds: float = Field(10.0, gt=0, validation_alias=_env("G7BOT_SOCKET_PING_SECONDS"))
    socket_silence_seconds: float = Field(30.0, gt=0, validation_alias=_env("G7BOT_SOCKET_SILENCE_SECONDS"))
    socket_backoff_seconds: float = Field(1.0, gt=0, validation_alias=_env("G7BOT_SOCKET_BACKOFF_SECONDS"))
    socket_backoff_max_seconds: float = Field(60.0, gt=0, validation_alias=_env("G7BOT_SOCKET_BACKOFF_MAX_SECONDS"))
    # Who may press Done and Snooze on a reminder: any member of the installed workspace, or admins only.
    followup_actors: Literal["members", "admins"] = Field("members", validation_alias=_env("G7BOT_FOLLOWUP_ACTORS"))
    # /readyz calls auth.test at most this often, to notice a revoked bot token.
    auth_check_seconds: float = Field(60.0, gt=0, validation_alias=_env("G7BOT_AUTH_CHECK_SECONDS"))

    @field_validator("api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        levels = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
        if value.upper() not in levels:
            raise ValueError(f"expected one of {', '.join(levels)}, got {value!r}")
        return value.upper()

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is not None:
            check_database_url(value)
        return value

    @field_validator("admin_users", mode="before")
    @classmethod
    def _split_users(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(u.strip() for u in value.split(",") if u.strip())
        return value

    @model_validator(mode="after")
    def _single_workspace(self) -> Settings:
        if self.client_id and self.client_secret:
            raise ValueError(
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set, which would switch Bolt to OAuth for many "
                "workspaces; g7bot runs in one workspace with SLACK_BOT_TOKEN: unset them"
            )
        return self

    @property
    def releases_dir(self) -> Path:
        """The library: one folder per release (releases/<id>/release.yml, source.txt, commitments.yml)."""
        return self.data_dir / "releases"

    @property
    def legacy_layout(self) -> bool:
        """A data folder from before the library: release.yml (and commitments.yml) at its top."""
        return (self.data_dir / "release.yml").exists() and not self.releases_dir.is_dir()

    @property
    def release_file(self) -> Path:
        if self.legacy_layout:
            return self.data_dir / "release.yml"
        return self.releases_dir / "meti-2025-12-10-g7-idt" / "release.yml"

    @property
    def schedule_path(self) -> Path:
        return self.schedule_file or self.data_dir / "schedule.yml"

    @property
    def owners_path(self) -> Path:
        return self.owners_file or self.data_dir / "owners.yml"

    @property
    def gazetteer_file(self) -> Path:
        """data/gazetteer.yml of the data folder, or the shipped one when that folder has none."""
        own = self.data_dir / "gazetteer.yml"
        return own if own.exists() else DATA_DIR / "gazetteer.yml"

    @property
    def commitments_file(self) -> Path:
        return self.release_file.parent / "commitments.yml"

    @property
    def database(self) -> str:
        """The SQLAlchemy URL; by default a SQLite file beside the working directory's var/."""
        return self.database_url or f"sqlite:///{Path.cwd() / 'var' / 'g7bot.sqlite3'}"

    @property
    def search_cache_dir(self) -> Path:
        """G7BOT_CACHE_DIR; else the SQLite delivery log's folder; else the user's cache folder (XDG_CACHE_HOME)."""
        if self.cache_dir is not None:
            return self.cache_dir
        url = self.database
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            return Path(url.removeprefix("sqlite:///").split("?", 1)[0]).parent
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "g7bot"

    @property
    def console_database(self) -> str:
        """The console's own delivery log: what it prints must never count as posted to Slack."""
        return f"sqlite:///{Path.cwd() / 'var' / 'g7bot-console.sqlite3'}"


_DATABASE_EXAMPLE = "sqlite:////srv/g7bot/g7bot.sqlite3 or postgresql+psycopg://user@host/g7bot"


def check_database_url(value: str) -> None:
    """ValueError unless `value` is a SQLite or PostgreSQL URL whose driver is installed."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        # The message would echo the URL, password included.
        raise ValueError(f"expected a SQLAlchemy URL such as {_DATABASE_EXAMPLE}") from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ValueError(f"expected a SQLite or PostgreSQL URL such as {_DATABASE_EXAMPLE}, got {url.drivername}://")
    try:
        url.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError) as exc:
        raise ValueError(
            f"expected a database driver that is installed, {url.drivername} is not ({exc}); "
            "for PostgreSQL use postgresql+psycopg://... with `pip install -e '.[postgres]'`"
        ) from None
    if url.get_backend_name() == "postgresql" and not url.database:
        raise ValueError("expected a database name at the end of the URL, such as postgresql+psycopg://host/g7bot")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment (and `overrides`); a bad value is a ConfigError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError.from_validation("environment", exc) from None
