"""The secretariat's commands: status, reminders, digests, scores, exemptions, paper reports, review, evidence."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from bot.cli.common import (be_fiscal_year, console, handles_errors, in_the_bots_life, load_app, new_typer,
                            parse_as_of, parse_period, unit_of)
from scoring.periods import Period, thai_short_datetime
from mailer.words import KIND_SHORT, PROBLEM_SHORT, STATUS_THAI

if TYPE_CHECKING:
    from bot.app import App
    from rich.table import Table

app = typer.Typer()
review_app = new_typer("Messages that need a person: list them, then resolve or dismiss.",
                       invoke_without_command=True, no_args_is_help=False)
app.add_typer(review_app, name="review")

AsOf = Annotated[Optional[str], typer.Option("--as-of", help="Answer as of this moment (ISO; local time)")]
By = Annotated[str, typer.Option("--by", help="Who does this (recorded with the action)")]

STATUS_STYLE = {"on_time": "green", "late": "yellow", "incomplete": "magenta", "missing": "red",
                "needs_review": "cyan", "pending": "white", "exempt": "dim"}


def _who(by: str) -> str:
    return by or getpass.getuser()


def status_table(report: dict, app_: App) -> Table:
    period = Period.parse(report["period"])
    due = datetime.fromisoformat(report["deadline"])
    from rich.table import Table

    table = Table(title=f"สถานะการส่งรายงาน ประจำเดือน{period.thai()} (กำหนดส่ง {thai_short_datetime(due)} น.)",
                  caption="C/S/O/P = ข้อร้องเรียน/ข้อเสนอแนะ/ข้อคิดเห็น/คำชมเชย")
    wide = console.width >= 110  # Thai names need room; narrow terminals get codes only
    table.add_column("รหัส", no_wrap=True)
    if wide:
        table.add_column("หน่วยงาน", max_width=34)
    table.add_column("สถานะ", max_width=22)  # a person reads words; `status --json` keeps the codes
    for col in ("ประเภท", "ส่งครบเมื่อ", "C/S/O/P"):
        table.add_column(col, no_wrap=True)
    table.add_column("ปัญหาที่พบ")
    for row in report["units"]:
        unit = app_.registry.get(row["unit"])
        completed = row["completed_at"]
        counts = row["counts"]
        table.add_row(
            row["unit"], *([unit.name if unit else ""] if wide else []),
            f"[{STATUS_STYLE.get(row['status'], '')}]{STATUS_THAI.get(row['status'], row['status'])}[/]",
            KIND_SHORT.get(row["kind"] or "", row["kind"] or ""),
            thai_short_datetime(datetime.fromisoformat(completed)) if completed else "",
            "/".join(str(counts[k]) for k in ("complaint", "suggestion", "opinion", "compliment")),
            ", ".join(sorted({PROBLEM_SHORT.get(p["code"], p["code"]) for p in row["problems"]})),  # --json: codes
        )
    return table


@app.command()
@handles_errors
def status(
    period: Annotated[Optional[str], typer.Option(
        help="YYYY-MM (CE or BE); default: last month for two weeks after its deadline, else this month")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Answer as of this moment (ISO; local time)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON contract instead of a table")] = False,
) -> None:
    """Every active unit's status for a period: on_time, late, incomplete, missing, …"""
    from bot.reporting import status_report

    a = load_app()
    moment = parse_as_of(as_of, a.settings)
    report = status_report(a, in_the_bots_life(a, parse_period(period, moment, a)), moment)
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        console.print(status_table(report, a))


@app.command()
@handles_errors
def remind(as_of: AsOf = None,
           dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; send nothing")] = False,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Queue what the monthly cycle has due now (or --as-of): reminders, overdue notices, the digest, and the review
    alert when messages wait for a person; each is sent once only."""
    from bot.cycle import plan_notices, planned_digests, run_cycle

    a = load_app()
    moment = parse_as_of(as_of, a.settings)
    if dry_run:
        with a.sessions() as s:
            planned = [n.to_dict() for n in plan_notices(a, s, moment)] + planned_digests(a, s, moment)
    else:
        report = run_cycle(a, moment)
        planned = [n.to_dict() for n in report.notices] + [
            {"unit": None, "period": p, "kind": "digest", "to": list(a.settings.digest_to)} for p in report.digests]
        if report.review_alert:
            planned.append({"unit": None, "period": None, "kind": "review", "to": list(a.settings.staff_emails)})
    if as_json:
        print(json.dumps({"reminders": planned}, ensure_ascii=False))
        return
    for n in planned:
        to = ", ".join(n["to"])  # type: ignore[arg-type]
        console.print(f"{'would queue' if dry_run else 'queued'} {n['kind']} {n['unit'] or ''} {n['period'] or ''} → {to}")
    console.print(f"{len(planned)} message(s)")


@app.command()
@handles_errors
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

    a = load_app()
    moment = parse_as_of(as_of, a.settings)
    p = in_the_bots_life(a, parse_period(period, moment, a))
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
@handles_errors
def score(fiscal_year: Annotated[int, typer.Option("--fiscal-year", help="Buddhist Era, e.g. 2570")],
          as_of: AsOf = None, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Fiscal-year scores per unit: months due, on time, late, missing, exempt, score and level."""
    from bot.reporting import scores

    be_fiscal_year(fiscal_year)
    a = load_app()
    moment = parse_as_of(as_of, a.settings)
    with a.sessions() as s:
        _, _, results = scores(a, s, fiscal_year, moment)
    if as_json:
        print(json.dumps({"fiscal_year": fiscal_year, "units": [r.to_dict() for r in results]}, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table(title=f"คะแนนการส่งรายงาน ปีงบประมาณ {fiscal_year}")
    for col in ("รหัส", "ครบกำหนด", "ตรงเวลา", "ล่าช้า", "ไม่ส่ง", "รอตรวจสอบ", "ยกเว้น", "คะแนน", "ระดับ"):
        table.add_column(col, justify="right" if col != "รหัส" else "left")  # `--json` keeps the codes
    for r in results:
        table.add_row(r.unit, str(r.due), str(r.on_time), str(r.late), str(r.missing), str(r.needs_review),
                      str(r.exempt), f"{r.score:g}", str(r.level))
    console.print(table)


@app.command()
@handles_errors
def exempt(unit: Annotated[str, typer.Option("--unit")], period: Annotated[str, typer.Option("--period")],
           reason: Annotated[str, typer.Option("--reason")], by: By = "") -> None:
    """Excuse a unit from a period's report (recorded with who, when and why)."""
    from intake.decisions import exempt as do_exempt

    a = load_app()
    with a.sessions.begin() as s:
        do_exempt(s, unit_of(a, unit), parse_period(period, a.now()), reason, _who(by), datetime.now(UTC))
    console.print(f"{unit.upper()} exempt for {period}")


@app.command()
@handles_errors
def record(unit: Annotated[str, typer.Option("--unit")], period: Annotated[str, typer.Option("--period")],
           received: Annotated[str, typer.Option("--received", help="When the paper report arrived (ISO, local)")],
           nil: Annotated[bool, typer.Option("--nil", help="The report says there were no complaints")] = False,
           file: Annotated[Optional[list[Path]], typer.Option("--file", help="Complaint_01/02 typed from paper")] = None,
           reason: Annotated[str, typer.Option("--reason")] = "", by: By = "") -> None:
    """Record a report that came on paper; on time or late by --received."""
    from intake.decisions import record_paper
    from intake.reading import read_documents

    a = load_app()
    if not nil and not file:
        raise typer.BadParameter("give --nil or --file")
    from intake.message import Attachment

    files = [Attachment(f.name, "application/octet-stream", f.read_bytes()) for f in file or []]
    doc = read_documents(files, a.parsers)
    with a.sessions.begin() as s:
        sub, problems, _ = record_paper(s, unit_of(a, unit), parse_period(period, a.now()),
                                     parse_as_of(received, a.settings), nil=nil, doc=doc, actor=_who(by),
                                     reason=reason, now=datetime.now(UTC))
    console.print(f"recorded {'nil report' if nil else f'{sub.c01_rows} case(s)'} for {unit.upper()} {period}"
                  + (f"; problems: {', '.join(p.code for p in problems)}" if problems else ""))


@review_app.callback()
def review(ctx: typer.Context) -> None:
    """List what needs a person (undecidable, quarantined, unknown senders)."""
    if ctx.invoked_subcommand is not None:
        return
    from intake.decisions import review_items

    a = load_app()
    with a.sessions() as s:
        items = review_items(s)
    from rich.table import Table

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
@handles_errors
def review_resolve(msg: Annotated[int, typer.Argument(help="Message number from `review`")],
                   unit: Annotated[str, typer.Option("--unit")],
                   period: Annotated[Optional[str], typer.Option("--period")] = None,
                   reason: Annotated[str, typer.Option("--reason")] = "", by: By = "") -> None:
    """Attribute a stored message to a unit (and period); it is read again and the sender answered."""
    from bot.reread import reread

    a = load_app()
    result = reread(a, msg, "resolve", _who(by), reason, unit_of(a, unit),
                    parse_period(period, a.now()) if period else None)
    console.print(f"message #{msg}: {result.outcome} for {unit.upper()} {result.period}")


@review_app.command("dismiss")
@handles_errors
def review_dismiss(msg: Annotated[int, typer.Argument()], reason: Annotated[str, typer.Option("--reason")] = "",
                   by: By = "") -> None:
    """Set a stored message aside for good (it stays stored)."""
    from intake.decisions import dismiss

    a = load_app()
    with a.sessions.begin() as s:
        dismiss(s, msg, _who(by), reason, datetime.now(UTC))
    console.print(f"message #{msg} dismissed")


@app.command()
@handles_errors
def reprocess(msg: Annotated[int, typer.Argument(help="Message number from `review`")],
              reason: Annotated[str, typer.Option("--reason")] = "", by: By = "") -> None:
    """Read a stored message again (after a registry fix) and answer the sender."""
    from bot.reread import reread

    a = load_app()
    result = reread(a, msg, "reprocess", _who(by), reason)
    console.print(f"message #{msg}: {result.outcome}"
                  + (f" for {result.unit.code} {result.period}" if result.unit else ""))


@app.command()
@handles_errors
def evidence(unit: Annotated[str, typer.Option("--unit")],
             fiscal_year: Annotated[int, typer.Option("--fiscal-year", help="Buddhist Era, e.g. 2570")],
             out: Annotated[Path, typer.Option("--out", help="The .zip to write")], as_of: AsOf = None) -> None:
    """A unit's originals and receipts for a fiscal year, a summary workbook and a SHA-256 manifest."""
    from bot.evidence import build_evidence

    be_fiscal_year(fiscal_year)  # before anything opens or writes
    a = load_app()
    n = build_evidence(a, unit_of(a, unit), fiscal_year, parse_as_of(as_of, a.settings), out)
    console.print(f"wrote {out}: {n} files (verify with: unzip -p {out} manifest-sha256.txt)")
