"""Command line: g7bot [serve | ask TEXT | console | check | import FILE]."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence

from bot.errors import ConfigError, DatabaseTooNew

logger = logging.getLogger("bot")

# sysexits.h EX_CONFIG: supervisors can be told not to restart on it (systemd RestartPreventExitStatus=78).
EXIT_CONFIG = 78
# sysexits.h EX_UNAVAILABLE: the database stayed down past G7BOT_DATABASE_WAIT_SECONDS; a restart may help.
EXIT_UNAVAILABLE = 69


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="g7bot",
        description="Slack bot for the G7 Industry, Digital and Technology Ministers' Meeting release. "
        "With no subcommand: `serve` when Slack tokens are set, otherwise `console`.",
    )
    sub = parser.add_subparsers(dest="cmd")
    sub.add_parser("serve", help="serve Slack: Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT")
    ask = sub.add_parser("ask", help="answer one command locally, e.g. g7bot ask bilateral france")
    ask.add_argument("text", nargs="*", help="what you would type after the slash command")
    ask.add_argument("--json", action="store_true", help="print the Slack message payload instead of text")
    ask.add_argument("--user", default=None, help="act as this Slack user id (admin commands)")
    sub.add_parser("console", help="interactive shell: type what you would type after the slash command")
    check = sub.add_parser("check", help="validate manifest.yml, the settings and every file under data/")
    check.add_argument("--strict", action="store_true", help="a field not yet translated is an error, not a warning")
    export = sub.add_parser("export", help="write the follow-ups CSV (UTF-8 with BOM, for Excel)")
    export.add_argument(
        "--output",
        "-o",
        default=None,
        help="file to write, - for standard output (default followups-YYYY-MM-DD.csv in the current folder)",
    )
    export.add_argument(
        "--tz",
        default=None,
        help="IANA time zone for the times and the file name's date, e.g. Europe/Paris (default: data/schedule.yml's)",
    )
    imp = sub.add_parser("import", help="make a release folder from a METI press release (text or saved HTML)")
    imp.add_argument("file", help="the release: text copied from its page, or the saved page")
    imp.add_argument("--url", default=None, help="the release page's address")
    imp.add_argument("--id", default=None, help="release id (default meti-YYYY-MM-DD-<slug>)")
    imp.add_argument("--into", default=None, help="parent folder (default data/releases/)")
    imp.add_argument("--replace", action="store_true", help="replace an existing folder, keeping its files")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # main() quietens two loggers below; put them back afterwards, so that calling it in process
    # (tests, an embedding script) leaves logging as it found it.
    quietened = {name: logging.getLogger(name).level for name in ("apscheduler", "alembic", "bot.schedule")}
    try:
        return _main(argv)
    finally:
        for name, level in quietened.items():
            logging.getLogger(name).setLevel(level)


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    from bot.settings import load_settings
    from bot.startup import DatabaseUnavailable

    try:
        settings = load_settings()
        if args.cmd == "import":
            # Needs no tokens or database: only the data folder's gazetteer (G7BOT_DATA_DIR) and the file.
            from pathlib import Path

            from bot.importer.cli import run_import
            from bot.release.gazetteer import load_gazetteer

            into = Path(args.into) if args.into else settings.releases_dir
            return run_import(Path(args.file), into=into, gazetteer=load_gazetteer(settings.gazetteer_file),
                              url=args.url, release_id=args.id, replace=args.replace)
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        # A line per scheduler tick is noise; its warnings and errors still show.
        logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLogger().level))
        # So is Alembic's line per plug-in at every start (the store logs the migrations it runs itself).
        logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))
        cmd = args.cmd or ("serve" if settings.bot_token else "console")
        if cmd == "export":
            from bot.export.cli import run_export

            return run_export(settings, output=args.output, tz=args.tz)
        if cmd == "check":
            from bot.check import run_check

            return run_check(settings, strict=args.strict)
        from bot.startup import missing_for_serve, start

        if cmd == "serve":
            # Before any data is loaded or database opened: a missing token is the first thing to say.
            missing = missing_for_serve(settings)
            if missing:
                raise ConfigError("environment", missing)
            return start(settings, serving=True).serve()
        # Locally, scheduled posts print themselves; the scheduler's bookkeeping would only clutter them.
        logging.getLogger("bot.schedule").setLevel(logging.ERROR)
        started = start(settings, local=True)
        if cmd == "ask":
            message = asyncio.run(started.ask(" ".join(args.text), user_id=args.user))
            if args.json:
                print(json.dumps(message, ensure_ascii=False, indent=2))
            else:
                from bot.blocks import render_message

                print(render_message(message), end="")
            return 0
        return started.console()
    except ConfigError as exc:
        print(f"g7bot: configuration error\n{exc.describe()}", file=sys.stderr)
        return EXIT_CONFIG
    except DatabaseUnavailable as exc:
        print(f"g7bot: database unavailable\n{exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except DatabaseTooNew as exc:
        # A restart will not help: only upgrading g7bot (or restoring the database) does.
        print(f"g7bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
