"""The administrator's commands: set-up, the registry, the schema, health, backups, retention, OAuth, the demo."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from bot.cli.common import (console, handles_errors, load_app, new_typer, parse_as_of, registry, settings,
                            setup_logging)
from scoring.periods import Period

app = typer.Typer()
units_app = new_typer("The unit registry (UNITS_FILE).")
db_app = new_typer("The database schema.")
oauth_app = new_typer("OAuth2 (XOAUTH2) for Microsoft 365 / Google Workspace mailboxes.")
app.add_typer(units_app, name="units")
app.add_typer(db_app, name="db")
app.add_typer(oauth_app, name="oauth")


@app.command()
@handles_errors
def init(
    folder: Annotated[Path, typer.Option("--dir", help="Where to write .env and units.csv")] = Path("."),
    secretariat_email: Annotated[Optional[str], typer.Option(help="The secretariat mailbox address")] = None,
    imap_host: Annotated[Optional[str], typer.Option(help="IMAP server, e.g. mail.example.go.th")] = None,
    smtp_host: Annotated[Optional[str], typer.Option(help="SMTP server (default: the IMAP server)")] = None,
    password: Annotated[Optional[str], typer.Option(help="Mailbox password (asked for when not given)")] = None,
    smtp_port: Annotated[int, typer.Option(help="587 (STARTTLS) or 465 (TLS)")] = 587,
    staff_email: Annotated[Optional[str], typer.Option(
        help="The secretariat clerk who reads the digest and may reply with commands (a person's address)")] = None,
) -> None:
    """Write a commented .env and a unit registry to fill in, asking only what it must. Never overwrites."""
    from bot.init import imap_url, smtp_url, write_files
    from config.settings import new_secret_key

    email = secretariat_email or typer.prompt("Secretariat mailbox address (e.g. saraban@anamai.go.th)")
    host = imap_host or typer.prompt("IMAP server host", default=f"mail.{email.partition('@')[2]}")
    secret = password or typer.prompt("Mailbox password", hide_input=True)
    staff = staff_email or typer.prompt(
        "Clerk's address for the digest and for replies that command (a person's, e.g. clerk@anamai.go.th; "
        "the bot's own mailbox works too)", default=email)
    values = {"SECRETARIAT_EMAIL": email, "DIGEST_TO": staff, "STAFF_EMAILS": staff,
              "TRUSTED_DOMAINS": email.partition("@")[2],
              "MAIL_SOURCE": imap_url(host, email, secret),
              "SMTP_URL": smtp_url(smtp_host or host, email, secret, smtp_port), "UNITS_FILE": "units.csv",
              "SECRET_KEY": new_secret_key()}
    written = write_files(folder, values)
    console.print("wrote " + ", ".join(str(p) for p in written)
                  + "\nnext: fill in units.csv, then run `complaint-bot doctor`")


@units_app.command("list")
@handles_errors
def units_list() -> None:
    """Show the registered units."""
    s, reg = registry()
    from rich.table import Table

    table = Table(title=f"Units ({s.units_file})")
    for col in ("Code", "Name", "Senders", "Contacts", "Active"):
        table.add_column(col)
    for u in reg.units:
        table.add_row(u.code, u.name, "\n".join(u.senders), "\n".join(u.contacts), "yes" if u.active else "no")
    console.print(table)


@units_app.command("check")
@handles_errors
def units_check() -> None:
    """Find registry mistakes (the same check as `doctor`): bad or duplicate addresses, units without senders,
    the example registry left as it is. Exit 1 if any."""
    from bot.doctor import registry_findings

    found = registry_findings(settings())
    for p in found.problems:
        console.print(f"[red]•[/red] {p}")
    for w in found.notes:
        console.print(f"[yellow]• note:[/yellow] {w}")
    if found.problems:
        console.print(f"fix: {found.fix}")
        raise typer.Exit(1)
    console.print(f"[green]{found.units} units, no mistakes[/green]")


@db_app.command("upgrade")
@handles_errors
def db_upgrade() -> None:
    """Bring the database schema to the newest version (also done automatically at every start)."""
    from db.engine import make_engine
    from bot.schema import current_revision, migrate

    engine = make_engine(settings().database_url)
    before = current_revision(engine)
    migrate(engine)
    console.print(f"schema {before or 'empty'} -> {current_revision(engine)}")


@app.command()
@handles_errors
def doctor() -> None:
    """Check every setting and reach every server for real; print what fails and how to fix it."""
    from bot.doctor import run_checks

    results = run_checks(settings())
    from rich.table import Table

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
@handles_errors
def backup_cmd(out: Annotated[Path, typer.Option("--out", help="The backup file to write (.zip)")]) -> None:
    """A consistent copy of the database (every original message is in it), safe while `run` works."""
    from bot.backup import backup

    s = settings()
    from config.settings import require_secret_key

    manifest = backup(s.database_url, out, require_secret_key(s))
    counts = manifest["counts"]
    assert isinstance(counts, dict)
    console.print(f"wrote {out}: {counts.get('inbound_messages', 0)} messages, {counts.get('submissions', 0)} "
                  f"submissions, schema {manifest['revision']}")


@app.command("restore")
@handles_errors
def restore_cmd(path: Annotated[Path, typer.Argument(help="A file written by `backup`")],
                force: Annotated[bool, typer.Option("--force", help="Replace a database that has data")] = False,
                trust_unsigned: Annotated[bool, typer.Option(
                    "--trust-unsigned", help="Accept a backup without a signature (from an older version)")] = False,
                ) -> None:
    """Load a backup into DATABASE_URL and verify it (signature, hash, schema, row counts). Stop `run` first."""
    from bot.backup import BackupError, restore

    s = settings()
    try:
        from config.settings import require_secret_key

        counts = restore(s.database_url, path, require_secret_key(s), force=force, trust_unsigned=trust_unsigned)
    except KeyError as exc:  # a zip without the member a backup has
        raise BackupError(f"not a complaint-bot backup: {exc}") from None
    console.print(f"restored and verified: {counts}")


@app.command()
@handles_errors
def purge(as_of: Annotated[Optional[str], typer.Option("--as-of", help="As of this moment (ISO; local time)")] = None,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; change nothing")] = False) -> None:
    """Remove personal data older than RETENTION_MONTHS: original messages (their SHA-256 stays) and
    complainants' names and numbers in cases. Counts, statuses and scores stay."""
    from intake.retention import purge as do_purge
    from mailer.outbox import purge_sent

    a = load_app()
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


@oauth_app.command("login")
@handles_errors
def oauth_login() -> None:
    """Give consent once (device code in a browser); tokens are stored with mode 0600, outside .env."""
    from config.oauth import device_login

    s = settings()
    if s.oauth is None:
        raise typer.BadParameter("set MAIL_AUTH=xoauth2 and the OAUTH_* settings first (see docs/deploy.md)")
    device_login(s.oauth, console.print)
    console.print(f"consent stored in {s.oauth.token_file}; `complaint-bot doctor` checks it")


@oauth_app.command("status")
@handles_errors
def oauth_status() -> None:
    """Whether a valid access token can be had now (refreshing it if due)."""
    from bot.cli.common import CommandFailed
    from config.oauth import OAuthError, access_token

    s = settings()
    if s.oauth is None:
        console.print("MAIL_AUTH=password: OAuth2 is not used")
        return
    try:
        access_token(s.oauth)
    except OAuthError as exc:
        if exc.consent_needed:
            raise CommandFailed(f"{exc} — consent must be renewed: run `complaint-bot oauth login`") from None
        raise
    console.print("OAuth2 token valid")


@app.command()
@handles_errors
def demo(
    folder: Annotated[Path, typer.Option("--dir", help="Where to build the demo")] = Path("complaint-bot-demo"),
) -> None:
    """A self-contained run on ~15 sample e-mails in a local Maildir: no servers, no network."""
    from bot.cli.secretariat import status_table
    from bot.demo import run_demo

    setup_logging("text", logging.WARNING)
    run_demo(folder, console.get(), status_table)
