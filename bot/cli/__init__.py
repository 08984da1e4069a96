"""`complaint-bot`: the command line, one module per audience (unit mail, the secretariat, the administrator).
Each command loads settings and the app through `common`, calls plain functions, and lets `handles_errors`
turn our errors into a message and an exit code."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import administration, mail, secretariat
from bot.cli.common import err_console, new_typer, setup_logging
from config.errors import ConfigError

app = new_typer("Complaint report intake bot: reads the secretariat mailbox, stores reports, answers units.")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"complaint-bot {version('complaint-bot')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            print("complaint-bot (not installed)")
        raise typer.Exit()


@app.callback()
def _options(show_version: Annotated[bool, typer.Option("--version", help="Print the version and exit.",
                                                        callback=_version, is_eager=True)] = False) -> None:
    """Complaint report intake bot: reads the secretariat mailbox, stores reports, answers units."""


for audience in (mail.app, secretariat.app, administration.app):
    app.registered_commands += audience.registered_commands
    app.registered_groups += audience.registered_groups

__all__ = ["app", "main", "setup_logging"]


def main() -> None:
    try:
        app()
    except ConfigError as exc:  # a setting any command needs, raised outside a command: name it, no traceback
        err_console.print(f"[red]Configuration error:[/red] {exc}")
        raise SystemExit(2) from None
