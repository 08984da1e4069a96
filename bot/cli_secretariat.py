"""Commands for the monthly cycle and the secretariat: remind, digest, score, exempt, record, review, evidence."""

from __future__ import annotations

import getpass
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from bot.cli import _app, app, be_fiscal_year, console, err_console, parse_as_of, parse_period
from config.errors import ConfigError
from config.settings import require_secret_key
from intake.errors import IntakeError
from intake.message import Attachment
from scoring.periods import Period, thai_short_datetime

review_app = typer.Typer(help="Messages that need a person: list them, then resolve or dismiss.",
                         invoke_without_command=True)
app.add_typer(review_app, name="review")

AsOf = Annotated[Optional[str], typer.Option("--as-of", help="Answer as of this moment (ISO; local time)")]
By = Annotated[str, typer.Option("--by", help="Who does this (recorded with the action)")]


def _who(by: str) -> str:
    return by or getpass.getuser()


def _unit(a, code: str):  # type: ignore[no-untyped-def]
    unit = a.registry.get(code)
    if unit is None:
        raise typer.BadParameter(f"no unit {code!r} in {a.settings.units_file}")
    return unit


@app.command()
def remind(as_of: AsOf = None,
           dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; send nothing")] = False,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Queue the reminders, overdue notices and digests due now (or --as-of); each is sent once only."""
    from bot.cycle import plan_notices, planned_digests, run_cycle

    a = _app()
    moment = parse_as_of(as_of, a.settings)
    if dry_run:
        with a.sessions() as s:
            planned = [n.to_dict() for n in plan_notices(a, s, moment)] + planned_digests(a, s, moment)
    else:
        report = run_cycle(a, moment)
        planned = [n.to_dict() for n in report.notices] + [
            {"unit": None, "period": p, "kind": "digest", "to": list(a.settings.digest_to)} for p in report.digests]
    if as_json:
        print(json.dumps({"reminders": planned}, ensure_ascii=False))
        return
    for n in planned:
        to = ", ".join(n["to"])  # type: ignore[arg-type]
        console.print(f"{'would queue' if dry_run else 'queued'} {n['kind']} {n['unit'] or ''} {n['period']} → {to}")
    console.print(f"{len(planned)} message(s)")


@app.command()
def digest(period: Annotated[Optional[str], typer.Option(
               help="YYYY-MM; default: last month for two weeks after its deadline, else this month")] = None,
           as_of: AsOf = None,
           send: Annotated[bool, typer.Option("--send", help="Mail it to DIGEST_TO now")] = False,
           out: Annotated[Optional[Path], typer.Option("--out", help="Write the workbook here")] = None,
           include_personal_data: Annotated[bool, typer.Option("--include-personal-data",
                                                               help="Do not mask complainants")] = False) -> None:
    """The secretariat's digest: status of every unit, totals, problems, and the workbook."""
    from bot.cycle import send_digest
    from bot.digest_data import digest_data
    from mailer.workbook import build_workbook

    a = _app()
    moment = parse_as_of(as_of, a.settings)
    p = parse_period(period, moment, a)
    if out is None and not send:
        raise typer.BadParameter("give --out F.xlsx, --send, or both")
    if out is not None:
        with a.sessions() as s:
            data = digest_data(a, s, p, moment, include_personal=include_personal_data)
            workbook, cases = build_workbook(data)
        out.write_bytes(workbook)
        counts = data.status_counts()
        console.print(f"wrote {out}: {len(data.units)} units ({counts['on_time']} on time, {counts['late']} late, "
                      f"{counts['missing']} missing, {counts['incomplete']} incomplete, {counts['needs_review']} "
                      f"needing review, {counts['exempt']} exempt), {cases} cases")
    if send:
        key = f"digest-manual:{p}:{datetime.now(UTC).isoformat()}"
        send_digest(a, p, moment, key)
        console.print(f"digest for {p} queued to {', '.join(a.settings.digest_to)}; `complaint-bot send` delivers it")


@app.command()
def score(fiscal_year: Annotated[int, typer.Option("--fiscal-year", help="Buddhist Era, e.g. 2570")],
          as_of: AsOf = None, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Fiscal-year scores per unit: months due, on time, late, missing, exempt, score and level."""
    from bot.reporting import scores

    be_fiscal_year(fiscal_year)
    a = _app()
    moment = parse_as_of(as_of, a.settings)
    with a.sessions() as s:
        _, _, results = scores(a, s, fiscal_year, moment)
    if as_json:
        print(json.dumps({"fiscal_year": fiscal_year, "units": [r.to_dict() for r in results]}, ensure_ascii=False))
        return
    table = Table(title=f"คะแนนการส่งรายงาน ปีงบประมาณ {fiscal_year}")
    for col in ("Unit", "Due", "On time", "Late", "Missing", "Exempt", "Score", "Level"):
        table.add_column(col, justify="right" if col != "Unit" else "left")
    for r in results:
        table.add_row(r.unit, str(r.due), str(r.on_time), str(r.late), str(r.missing), str(r.exempt), f"{r.score:g}",
                      str(r.level))
    console.print(table)


@app.command()
def exempt(unit: Annotated[str, typer.Option("--unit")], period: Annotated[str, typer.Option("--period")],
           reason: Annotated[str, typer.Option("--reason")], by: By = "") -> None:
    """Excuse a unit from a period's report (recorded with who, when and why)."""
    from intake.admin import exempt as do_exempt

    a = _app()
    try:
        with a.sessions.begin() as s:
            do_exempt(s, _unit(a, unit), parse_period(period, a.now()), reason, _who(by), datetime.now(UTC))
    except IntakeError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"{unit.upper()} exempt for {period}")


@app.command()
def record(unit: Annotated[str, typer.Option("--unit")], period: Annotated[str, typer.Option("--period")],
           received: Annotated[str, typer.Option("--received", help="When the paper report arrived (ISO, local)")],
           nil: Annotated[bool, typer.Option("--nil", help="The report says there were no complaints")] = False,
           file: Annotated[Optional[list[Path]], typer.Option("--file", help="Complaint_01/02 typed from paper")] = None,
           reason: Annotated[str, typer.Option("--reason")] = "", by: By = "") -> None:
    """Record a report that came on paper; on time or late by --received."""
    from intake.admin import record_paper
    from intake.documents import read_documents

    a = _app()
    if not nil and not file:
        raise typer.BadParameter("give --nil or --file")
    files = [Attachment(f.name, "application/octet-stream", f.read_bytes()) for f in file or []]
    doc = read_documents(files, a.parsers)
    try:
        with a.sessions.begin() as s:
            sub, problems = record_paper(s, _unit(a, unit), parse_period(period, a.now()),
                                         parse_as_of(received, a.settings), nil=nil, doc=doc, actor=_who(by),
                                         reason=reason, now=datetime.now(UTC))
    except IntakeError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"recorded {'nil report' if nil else f'{sub.c01_rows} case(s)'} for {unit.upper()} {period}"
                  + (f"; problems: {', '.join(p.code for p in problems)}" if problems else ""))


@review_app.callback()
def review(ctx: typer.Context) -> None:
    """List what needs a person (undecidable, quarantined, unknown senders)."""
    if ctx.invoked_subcommand is not None:
        return
    from intake.admin import review_items

    a = _app()
    with a.sessions() as s:
        items = review_items(s)
    table = Table(title="รอเจ้าหน้าที่ตรวจสอบ")
    for col in ("MSG", "Arrived", "From", "Outcome", "Candidates", "Period", "Reason"):
        table.add_column(col)
    for m in items:
        table.add_row(str(m.id), thai_short_datetime(m.arrived_at.astimezone(a.settings.tz)), m.from_addr, m.outcome,
                      ", ".join(m.candidates or []), m.period or "", m.reason[:80])
    console.print(table)
    console.print(f"{len(items)} message(s); settle with `review resolve MSG --unit U`, `review dismiss MSG`, "
                  "or `reprocess MSG` after fixing the registry")


@review_app.command("resolve")
def review_resolve(msg: Annotated[int, typer.Argument(help="Message number from `review`")],
                   unit: Annotated[str, typer.Option("--unit")],
                   period: Annotated[Optional[str], typer.Option("--period")] = None,
                   reason: Annotated[str, typer.Option("--reason")] = "", by: By = "") -> None:
    """Attribute a stored message to a unit (and period); it is read again and the sender answered."""
    from bot.reread import reread

    a = _app()
    try:
        result = reread(a, msg, "resolve", _who(by), reason, _unit(a, unit),
                        parse_period(period, a.now()) if period else None)
    except IntakeError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"message #{msg}: {result.outcome} for {unit.upper()} {result.period}")


@review_app.command("dismiss")
def review_dismiss(msg: Annotated[int, typer.Argument()], reason: Annotated[str, typer.Option("--reason")] = "",
                   by: By = "") -> None:
    """Set a stored message aside for good (it stays stored)."""
    from intake.admin import dismiss

    a = _app()
    try:
        with a.sessions.begin() as s:
            dismiss(s, msg, _who(by), reason, datetime.now(UTC))
    except IntakeError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"message #{msg} dismissed")


@app.command()
def reprocess(msg: Annotated[int, typer.Argument(help="Message number from `review`")],
              reason: Annotated[str, typer.Option("--reason")] = "", by: By = "") -> None:
    """Read a stored message again (after a registry fix) and answer the sender."""
    from bot.reread import reread

    a = _app()
    try:
        result = reread(a, msg, "reprocess", _who(by), reason)
    except IntakeError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"message #{msg}: {result.outcome}"
                  + (f" for {result.unit.code} {result.period}" if result.unit else ""))


@app.command()
def evidence(unit: Annotated[str, typer.Option("--unit")],
             fiscal_year: Annotated[int, typer.Option("--fiscal-year", help="Buddhist Era, e.g. 2570")],
             out: Annotated[Path, typer.Option("--out", help="The .zip to write")], as_of: AsOf = None) -> None:
    """A unit's originals and receipts for a fiscal year, a summary workbook and a SHA-256 manifest."""
    from bot.evidence import build_evidence

    be_fiscal_year(fiscal_year)  # before anything opens or writes
    a = _app()
    n = build_evidence(a, _unit(a, unit), fiscal_year, parse_as_of(as_of, a.settings), out)
    console.print(f"wrote {out}: {n} files (verify with: unzip -p {out} manifest-sha256.txt)")


@app.command()
def purge(as_of: AsOf = None,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; change nothing")] = False) -> None:
    """Remove personal data older than RETENTION_MONTHS: original messages (their SHA-256 stays) and
    complainants' names and numbers in cases. Counts, statuses and scores stay."""
    from intake.retention import purge as do_purge
    from mailer.outbox import purge_sent

    a = _app()
    moment = parse_as_of(as_of, a.settings)
    cutoff = Period.of(moment)
    for _ in range(a.settings.retention_months):
        cutoff = cutoff.prev()
    first = cutoff.next()
    with a.sessions.begin() as s:
        report = do_purge(s, str(first), datetime.now(UTC), dry_run=dry_run)
        mails = purge_sent(s, datetime(first.year, first.month, 1, tzinfo=a.settings.tz), dry_run=dry_run)
    verb = "would purge" if dry_run else "purged"
    console.print(f"{verb} {report.messages} original message(s), {report.cases} case row(s) and {mails} sent "
                  f"mail(s) from before {first.thai()} (RETENTION_MONTHS={a.settings.retention_months})")



db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest version (also done automatically at every start)."""
    from config.db import current_revision, make_engine, migrate
    from bot.cli import _settings

    settings = _settings()
    engine = make_engine(settings.database_url)
    before = current_revision(engine)
    migrate(engine)
    console.print(f"schema {before or 'empty'} -> {current_revision(engine)}")


@app.command()
def doctor() -> None:
    """Check every setting and reach every server for real; print what fails and how to fix it."""
    from bot.cli import _settings
    from bot.doctor import run_checks

    results = run_checks(_settings())
    table = Table(title="complaint-bot doctor")
    for col in ("Check", "Result", "Detail", "Fix"):
        table.add_column(col)
    for r in results:
        verdict = "[red]FAIL[/red]" if not r.ok else "[yellow]warn[/yellow]" if r.warning else "[green]pass[/green]"
        table.add_row(r.name, verdict, r.detail, r.fix)
    console.print(table)
    failed = [r for r in results if not r.ok]
    warned = [r for r in results if r.ok and r.warning]
    console.print(f"{len(results) - len(failed)} passed ({len(warned)} with a warning), {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


@app.command("backup")
def backup_cmd(out: Annotated[Path, typer.Option("--out", help="The backup file to write (.zip)")]) -> None:
    """A consistent copy of the database (every original message is in it), safe while `run` works."""
    from bot.backup import BackupError, backup
    from bot.cli import _settings

    settings = _settings()
    try:
        manifest = backup(settings.database_url, out, require_secret_key(settings))
    except ConfigError as exc:
        err_console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from None
    except (BackupError, OSError, subprocess.CalledProcessError) as exc:
        err_console.print(f"[red]backup failed:[/red] {exc}")
        raise typer.Exit(1) from None
    counts = manifest["counts"]
    assert isinstance(counts, dict)
    console.print(f"wrote {out}: {counts.get('inbound_messages', 0)} messages, {counts.get('submissions', 0)} "
                  f"submissions, schema {manifest['revision']}")


@app.command("restore")
def restore_cmd(path: Annotated[Path, typer.Argument(help="A file written by `backup`")],
                force: Annotated[bool, typer.Option("--force", help="Replace a database that has data")] = False,
                trust_unsigned: Annotated[bool, typer.Option(
                    "--trust-unsigned", help="Accept a backup without a signature (from an older version)")] = False,
                ) -> None:
    """Load a backup into DATABASE_URL and verify it (signature, hash, schema, row counts). Stop `run` first."""
    from bot.backup import BackupError, restore
    from bot.cli import _settings

    settings = _settings()
    try:
        counts = restore(settings.database_url, path, require_secret_key(settings), force=force,
                         trust_unsigned=trust_unsigned)
    except ConfigError as exc:
        err_console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from None
    except (BackupError, OSError, subprocess.CalledProcessError, KeyError) as exc:
        err_console.print(f"[red]restore failed:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"restored and verified: {counts}")


@app.command()
def init(
    folder: Annotated[Path, typer.Option("--dir", help="Where to write .env and units.csv")] = Path("."),
    secretariat_email: Annotated[Optional[str], typer.Option(help="The secretariat mailbox address")] = None,
    imap_host: Annotated[Optional[str], typer.Option(help="IMAP server, e.g. mail.example.go.th")] = None,
    smtp_host: Annotated[Optional[str], typer.Option(help="SMTP server (default: the IMAP server)")] = None,
    password: Annotated[Optional[str], typer.Option(help="Mailbox password (asked for when not given)")] = None,
    smtp_port: Annotated[int, typer.Option(help="587 (STARTTLS) or 465 (TLS)")] = 587,
) -> None:
    """Write a commented .env and a unit registry to fill in, asking only what it must. Never overwrites."""
    from bot.init import InitError, imap_url, smtp_url, write_files
    from config.settings import new_secret_key

    email = secretariat_email or typer.prompt("Secretariat mailbox address (e.g. saraban@anamai.go.th)")
    host = imap_host or typer.prompt("IMAP server host", default=f"mail.{email.partition('@')[2]}")
    secret = password or typer.prompt("Mailbox password", hide_input=True)
    values = {"SECRETARIAT_EMAIL": email, "DIGEST_TO": email, "TRUSTED_DOMAINS": email.partition("@")[2],
              "MAIL_SOURCE": imap_url(host, email, secret),
              "SMTP_URL": smtp_url(smtp_host or host, email, secret, smtp_port), "UNITS_FILE": "units.csv",
              "SECRET_KEY": new_secret_key()}
    try:
        written = write_files(folder, values)
    except InitError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print("wrote " + ", ".join(str(p) for p in written)
                  + "\nnext: fill in units.csv, then run `complaint-bot doctor`")


oauth_app = typer.Typer(help="OAuth2 (XOAUTH2) for Microsoft 365 / Google Workspace mailboxes.", no_args_is_help=True)
app.add_typer(oauth_app, name="oauth")


@oauth_app.command("login")
def oauth_login() -> None:
    """Give consent once (device code in a browser); tokens are stored with mode 0600, outside .env."""
    from bot.cli import _settings
    from config.oauth import OAuthError, device_login

    settings = _settings()
    if settings.oauth is None:
        raise typer.BadParameter("set MAIL_AUTH=xoauth2 and the OAUTH_* settings first (see docs/deploy.md)")
    try:
        device_login(settings.oauth, console.print)
    except OAuthError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"consent stored in {settings.oauth.token_file}; `complaint-bot doctor` checks it")


@oauth_app.command("status")
def oauth_status() -> None:
    """Whether a valid access token can be had now (refreshing it if due)."""
    from bot.cli import _settings
    from config.oauth import OAuthError, access_token

    settings = _settings()
    if settings.oauth is None:
        console.print("MAIL_AUTH=password: OAuth2 is not used")
        return
    try:
        access_token(settings.oauth)
    except OAuthError as exc:
        err_console.print(f"[red]{exc}[/red]" + (" — consent must be renewed: run `complaint-bot oauth login`"
                                                 if exc.consent_needed else ""))
        raise typer.Exit(1) from None
    console.print("OAuth2 token valid")
