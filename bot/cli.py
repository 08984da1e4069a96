"""`complaint-bot`: the command line. Each command loads settings, builds the app, calls plain functions."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from config.errors import ConfigError
from config.settings import Settings, load_settings
from config.units import UnitRegistry, load_registry
from scoring.periods import Period, thai_digits_to_arabic, thai_short_datetime, typed_year

if TYPE_CHECKING:  # the app (SQLAlchemy, every package) is imported by the commands that need it: --help stays fast
    from bot.app import App

app = typer.Typer(help="Complaint report intake bot: reads the secretariat mailbox, stores reports, answers units.",
                  no_args_is_help=True, add_completion=False)
units_app = typer.Typer(help="The unit registry (UNITS_FILE).", no_args_is_help=True)
app.add_typer(units_app, name="units")
console = Console()
err_console = Console(stderr=True)

STATUS_STYLE = {"on_time": "green", "late": "yellow", "incomplete": "magenta", "missing": "red",
                "needs_review": "cyan", "pending": "white", "exempt": "dim"}


CONFIG_HINT = ("settings come from .env in this folder and the environment (see .env.example); "
               "`complaint-bot init` writes a commented .env and a registry to fill in")


def _config_error(exc: ConfigError) -> typer.Exit:
    err_console.print(f"[red]Configuration error:[/red] {exc}\n[dim]{CONFIG_HINT}[/dim]")
    return typer.Exit(2)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise _config_error(exc) from None


def _app(settings: Settings | None = None) -> App:
    from bot.app import build_app

    settings = settings or _settings()
    setup_logging(settings.log_format)
    try:
        return build_app(settings)
    except ConfigError as exc:
        raise _config_error(exc) from None


def _intake_app() -> App:
    """The app for commands that read mail: a registry with mistakes is refused, naming the line."""
    a = _app()
    problems = a.registry.check()
    if problems:
        err_console.print("[red]The unit registry has mistakes; fix them before reading mail:[/red]\n"
                          + "\n".join(f"  {p}" for p in problems) + f"\n[dim](in {a.settings.units_file})[/dim]")
        raise typer.Exit(2)
    return a


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the moment (it may be swapped, e.g. when embedded)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging(fmt: str, level: int = logging.INFO) -> None:
    handler = _StderrHandler()
    if fmt == "json":
        class JsonFormatter(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                return json.dumps({"time": self.formatTime(record), "level": record.levelname,
                                   "logger": record.name, "message": record.getMessage()}, ensure_ascii=False)
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def parse_as_of(value: str | None, settings: Settings) -> datetime:
    """A timestamp in ISO form, its year in either era (2569-11-25 is 2026-11-25); without an offset it is
    local time (Asia/Bangkok by default)."""
    if not value:
        return datetime.now(settings.tz)
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
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.tz)


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


def be_fiscal_year(value: int) -> int:
    """--fiscal-year is always Buddhist Era (ปีงบประมาณ 2570); a Gregorian year is refused, never converted."""
    if not 2500 <= value <= 2800:
        raise typer.BadParameter(f"--fiscal-year is a Buddhist Era year such as 2570, got {value}")
    return value


def status_table(report: dict, app_: App) -> Table:
    period = Period.parse(report["period"])
    due = datetime.fromisoformat(report["deadline"])
    table = Table(title=f"สถานะการส่งรายงาน ประจำเดือน{period.thai()} (กำหนดส่ง {thai_short_datetime(due)} น.)",
                  caption="C/S/O/P = ข้อร้องเรียน/ข้อเสนอแนะ/ข้อคิดเห็น/คำชมเชย")
    wide = console.width >= 110  # Thai names need room; narrow terminals get codes only
    table.add_column("Unit", no_wrap=True)
    if wide:
        table.add_column("Name", max_width=34)
    for col in ("Status", "Kind", "Completed", "C/S/O/P"):
        table.add_column(col, no_wrap=True)
    table.add_column("Problems")
    for row in report["units"]:
        unit = app_.registry.get(row["unit"])
        completed = row["completed_at"]
        counts = row["counts"]
        table.add_row(
            row["unit"], *([unit.name if unit else ""] if wide else []),
            f"[{STATUS_STYLE.get(row['status'], '')}]{row['status']}[/]",
            row["kind"] or "", thai_short_datetime(datetime.fromisoformat(completed)) if completed else "",
            "/".join(str(counts[k]) for k in ("complaint", "suggestion", "opinion", "compliment")),
            ", ".join(sorted({p["code"] for p in row["problems"]})),
        )
    return table


@app.command()
def status(
    period: Annotated[Optional[str], typer.Option(
        help="YYYY-MM (CE or BE); default: last month for two weeks after its deadline, else this month")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Answer as of this moment (ISO; local time)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON contract instead of a table")] = False,
) -> None:
    """Every active unit's status for a period: on_time, late, incomplete, missing, …"""
    from bot.reporting import status_report

    a = _app()
    moment = parse_as_of(as_of, a.settings)
    report = status_report(a, parse_period(period, moment, a), moment)
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        console.print(status_table(report, a))


@app.command()
def poll(once: Annotated[bool, typer.Option("--once", help="Process what is waiting, then exit")] = True) -> None:
    """Read new messages from MAIL_SOURCE once, store them and queue receipts."""
    from rich.progress import Progress

    from bot.service import poll_once, read_pending_scans
    from intake.lease import release

    a = _intake_app()
    source = a.source()
    try:
        if console.is_terminal:
            with Progress(console=err_console, transient=True) as progress:
                task = progress.add_task("Reading mail", total=None)
                report = poll_once(a, source, progress=lambda n: progress.update(task, completed=n))
        else:
            report = poll_once(a, source)
    except Exception as exc:
        err_console.print(f"[red]Mailbox error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        source.close()
        with a.sessions.begin() as s:
            release(s, source.name, a.worker_id)
    if report.skipped:
        if report.db_unavailable:
            err_console.print("the database is unavailable; nothing done, the mailbox is left as it is")
        else:
            until = report.lease_expires.astimezone(a.settings.tz).isoformat(timespec="seconds") \
                if report.lease_expires else "?"
            err_console.print(f"another worker ({report.lease_holder}) is reading this mailbox; its lease runs "
                              f"until {until}. Nothing done.")
        raise typer.Exit(75)  # EX_TEMPFAIL: try again later
    console.print(f"{report.seen} message(s): {report.processed} stored, {report.duplicates} already stored, "
                  f"{report.failed} failed; outcomes {report.outcomes}")
    scanned = read_pending_scans(a)  # after the mailbox: no unit's plain e-mail waits behind a scan
    if scanned:
        console.print(f"{len(scanned)} message(s) with scanned memos read (OCR)")


@app.command()
def send() -> None:
    """Deliver what is due in the outbox once (receipts, reminders, digests)."""
    from bot.service import flush_outbox

    a = _app()
    try:
        report = flush_outbox(a)
    except ConfigError as exc:
        err_console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"outbox: {report.sent} sent, {report.retrying} to retry, {report.failed} failed")


@app.command()
def run() -> None:
    """The long-running worker: IMAP IDLE intake, receipts, scheduled jobs. Stops cleanly on SIGTERM."""
    from bot.runner import StopFlag, install_signal_handlers, run_forever

    a = _intake_app()
    try:  # fail now, with a clear message, if MAIL_SOURCE or SMTP_URL is missing
        a.source()
        a.settings.smtp()
    except ConfigError as exc:
        err_console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from None
    stop = StopFlag()
    install_signal_handlers(stop)
    run_forever(a, stop)


@app.command()
def template(
    form: Annotated[str, typer.Argument(help="complaint-01 or complaint-02")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the .xlsx")],
) -> None:
    """Write a blank canonical form for units to fill in."""
    from intake import blank_forms

    if form == "complaint-01":
        data = blank_forms.complaint_01()
    elif form == "complaint-02":
        data = blank_forms.complaint_02()
    else:
        raise typer.BadParameter("form must be complaint-01 or complaint-02")
    out.write_bytes(data)
    console.print(f"wrote {out}")


def _registry() -> tuple[Settings, UnitRegistry]:
    """The registry alone: no database is opened (or created) to read a CSV file."""
    settings = _settings()
    try:
        return settings, load_registry(settings.units_file)
    except ConfigError as exc:
        raise _config_error(exc) from None


@units_app.command("list")
def units_list() -> None:
    """Show the registered units."""
    settings, registry = _registry()
    table = Table(title=f"Units ({settings.units_file})")
    for col in ("Code", "Name", "Senders", "Contacts", "Active"):
        table.add_column(col)
    for u in registry.units:
        table.add_row(u.code, u.name, "\n".join(u.senders), "\n".join(u.contacts), "yes" if u.active else "no")
    console.print(table)


@units_app.command("check")
def units_check() -> None:
    """Find registry mistakes: bad or duplicate addresses, units without senders. Exit 1 if any."""
    _, registry = _registry()
    problems = registry.check()
    for p in problems:
        console.print(f"[red]•[/red] {p}")
    for w in registry.warnings():
        console.print(f"[yellow]• note:[/yellow] {w}")
    if problems:
        raise typer.Exit(1)
    console.print(f"[green]{len(registry.units)} units, no mistakes[/green]")


@app.command()
def demo(
    folder: Annotated[Path, typer.Option("--dir", help="Where to build the demo")] = Path("complaint-bot-demo"),
) -> None:
    """A self-contained run on ~15 sample e-mails in a local Maildir: no servers, no network."""
    from bot.demo import run_demo

    setup_logging("text", logging.WARNING)
    run_demo(folder, console, status_table)


def main() -> None:
    try:
        app()
    except ConfigError as exc:  # a setting any command needs: name it, no traceback
        err_console.print(f"[red]Configuration error:[/red] {exc}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()


# The secretariat's commands live in their own module; importing it registers them on `app`.
import bot.cli_secretariat  # noqa: E402,F401
