"""Commands that move the units' mail: poll, send, run, and the blank forms units fill in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import console, err_console, handles_errors, load_app

app = typer.Typer()


@app.command()
@handles_errors
def poll() -> None:
    """Read what is waiting in MAIL_SOURCE once, store it and queue receipts, then exit (for cron; `run` stays)."""
    from rich.progress import Progress

    from bot.service import poll_once, read_pending_scans
    from intake.lease import release

    a = load_app(for_intake=True)
    source = a.source()
    try:
        if console.is_terminal:
            with Progress(console=err_console.get(), transient=True) as progress:
                task = progress.add_task("Reading mail", total=None)
                report = poll_once(a, source, progress=lambda n: progress.update(task, completed=n))
        else:
            report = poll_once(a, source)
    except Exception as exc:  # any server or network failure: say so; the next poll retries
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
    if report.failed:  # cron and monitoring see it: those messages wait on the server for the next poll
        err_console.print(f"{report.failed} message(s) could not be stored; they stay on the server and the next "
                          "poll retries them (a message that keeps failing is quarantined after two attempts)")
        raise typer.Exit(75)  # EX_TEMPFAIL


@app.command()
@handles_errors
def send() -> None:
    """Deliver what is due in the outbox once (receipts, reminders, digests)."""
    from bot.service import flush_outbox

    report = flush_outbox(load_app())
    console.print(f"outbox: {report.sent} sent, {report.retrying} to retry, {report.failed} failed")


@app.command()
@handles_errors
def run() -> None:
    """The long-running worker: IMAP IDLE intake, receipts, scheduled jobs. Stops cleanly on SIGTERM."""
    from bot.runner import StopFlag, install_signal_handlers, run_forever

    a = load_app(for_intake=True)
    a.source()  # fail now, with a clear message, if MAIL_SOURCE or SMTP_URL is missing
    a.settings.smtp()
    stop = StopFlag()
    install_signal_handlers(stop)
    run_forever(a, stop)


@app.command()
@handles_errors
def template(
    form: Annotated[str, typer.Argument(help="complaint-01 or complaint-02")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the .xlsx")],
) -> None:
    """Write a blank canonical form for units to fill in."""
    from mailer import blank_forms

    makers: dict[str, Callable[[], bytes]] = {"complaint-01": blank_forms.complaint_01, "complaint-02": blank_forms.complaint_02}
    if form not in makers:
        raise typer.BadParameter("form must be complaint-01 or complaint-02")
    out.write_bytes(makers[form]())
    console.print(f"wrote {out}")
