"""What every command shares: the consoles, the one loader of settings and app, argument parsers, and the
decorator that turns our errors into a message and an exit code (2: configuration, 1: the action failed)."""

from __future__ import annotations

import functools
import json
import logging
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, time
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from config.errors import ConfigError
from intake.errors import IntakeError
from scoring.periods import Period, thai_digits_to_arabic, typed_year

if TYPE_CHECKING:  # the app (SQLAlchemy, every package) is imported by the commands that need it: --help stays fast
    from rich.console import Console

    from bot.app import App
    from config.settings import Settings
    from config.units import Unit, UnitRegistry


class _LazyConsole:
    """A rich Console made on first use: importing rich costs 15 ms that `--help` and `status --json` never need.
    Made again for each command (`fresh`): a Console takes COLUMNS and the terminal from the environment when
    it is made, and one process may run several commands (tests, the scheduler's jobs)."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def fresh(self) -> None:
        self._console = None

    def get(self) -> Console:
        """The Console itself, for rich objects that take one (Progress)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


console = _LazyConsole()
err_console = _LazyConsole(stderr=True)

CONFIG_HINT = ("settings come from .env in this folder and the environment (see .env.example); "
               "`complaint-bot init` writes a commented .env and a registry to fill in")

P = ParamSpec("P")
R = TypeVar("R")


class CommandFailed(Exception):
    """An action that could not be done as asked; the message says why (exit 1)."""


def _failures() -> tuple[type[BaseException], ...]:
    """The errors that mean "this action failed" rather than "the program is broken"; imported late so that
    `--help` does not pay for the backup and OAuth modules."""
    from bot.backup import BackupError
    from bot.init import InitError
    from config.oauth import OAuthError
    from mailer.errors import MailerError

    return (CommandFailed, IntakeError, MailerError, BackupError, InitError, OAuthError, OSError,
            subprocess.CalledProcessError)


def handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Every command's one error policy: a configuration error exits 2 with the hint, a failed action exits 1
    with its message; neither prints a traceback. Anything else is a bug and keeps its traceback."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        console.fresh()
        err_console.fresh()
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            err_console.print(f"[red]Configuration error:[/red] {exc}\n[dim]{CONFIG_HINT}[/dim]")
            raise typer.Exit(2) from None
        except _failures() as exc:
            err_console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    return wrapper


def settings() -> Settings:
    from config.settings import load_settings  # read per command: `--help` never needs it

    return load_settings()


def registry() -> tuple[Settings, UnitRegistry]:
    """The registry alone: no database is opened (or created) to read a CSV file."""
    from config.units import load_registry

    s = settings()
    return s, load_registry(s.units_file)


def load_app(*, for_intake: bool = False) -> App:
    """Settings, logging and the app, checked once. Commands that read mail (`for_intake`) refuse a registry with
    mistakes, naming the line: a wrong sender address would misattribute reports."""
    from bot.app import build_app

    s = settings()
    setup_logging(s.log_format)
    a = build_app(s)
    if for_intake:
        problems = a.registry.check()
        if problems:
            raise ConfigError("UNITS_FILE", "the unit registry has mistakes; fix them before reading mail:\n"
                              + "\n".join(f"  {p}" for p in problems) + f"\n(in {a.settings.units_file})")
    return a


def unit_of(a: App, code: str) -> Unit:
    unit = a.registry.get(code)
    if unit is None:
        raise typer.BadParameter(f"no unit {code!r} in {a.settings.units_file}")
    return unit


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the moment (it may be swapped, e.g. when embedded)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"time": self.formatTime(record), "level": record.levelname,
                           "logger": record.name, "message": record.getMessage()}, ensure_ascii=False)


def setup_logging(fmt: str, level: int = logging.INFO) -> None:
    handler = _StderrHandler()
    handler.setFormatter(_JsonFormatter() if fmt == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def parse_as_of(value: str | None, s: Settings) -> datetime:
    """A timestamp in ISO form, its year in either era (2569-11-25 is 2026-11-25); without an offset it is
    local time (Asia/Bangkok by default)."""
    if not value:
        return datetime.now(s.tz)
    text = thai_digits_to_arabic(value.strip())
    try:
        # The year is converted before parsing: BE 2567-02-29 exists (CE 2024) though 2567 is no leap year.
        text = f"{typed_year(int(text[:4])):04d}{text[4:]}" if text[:4].isdigit() else text
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r}: give an ISO timestamp such as 2569-11-25T23:59:59 or 2026-11-25T23:59:59 ({exc})") from None
    if len(text) <= 10:  # a bare date means the end of that day
        moment = datetime.combine(moment.date(), time(23, 59, 59))
    return moment if moment.tzinfo else moment.replace(tzinfo=s.tz)


def parse_period(value: str | None, as_of: datetime, app_: App | None = None) -> Period:
    """YYYY-MM in either era; without one, the month in focus at `as_of` (see App.period_in_focus)."""
    if not value:
        return app_.period_in_focus(as_of) if app_ is not None else Period.of(as_of)
    try:
        period = Period.parse(value)
        typed_year(int(thai_digits_to_arabic(value.strip())[:4]))  # refuses years of neither era
        return period
    except ValueError as exc:
        raise typer.BadParameter(f"{exc}; e.g. 2569-11 or 2026-11") from None


def in_the_bots_life(app_: App, period: Period) -> Period:
    """`period`, unless it is before the bot's first month (START_PERIOD, else the month of its first message):
    no report was asked of anyone then, so `status` and `digest` refuse it (and `score` ignores it) rather than
    call every unit missing."""
    from bot.reporting import start_period

    with app_.engine.connect() as connection:
        start = start_period(app_, connection)
    if start is not None and period < start:
        raise typer.BadParameter(
            f"{period} ({period.thai()}) is before the bot's first month, {start} ({start.thai()}; START_PERIOD or "
            "the month of its first message): no report was asked for it")
    return period


def be_fiscal_year(value: int) -> int:
    """--fiscal-year is always Buddhist Era (ปีงบประมาณ 2570); a Gregorian year is refused, never converted."""
    if not 2500 <= value <= 2800:
        raise typer.BadParameter(f"--fiscal-year is a Buddhist Era year such as 2570, got {value}")
    return value


def new_typer(help_: str | None = None, **kwargs: Any) -> typer.Typer:
    """Every command group. Help is formatted by Click, not rich: rich costs 60 ms per `--help` (more than the
    whole import of Typer) and adds only colour to a page an administrator reads once."""
    return typer.Typer(help=help_, no_args_is_help=kwargs.pop("no_args_is_help", True), add_completion=False,
                       rich_markup_mode=None, pretty_exceptions_enable=False, **kwargs)
