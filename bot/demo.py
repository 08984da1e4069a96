"""`complaint-bot demo`: a realistic month in a local Maildir, run through the real pipeline."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import select

from bot.app import App, build_app
from bot.samples import forms, make_mail, sample_cases
from bot.service import flush_outbox, poll_once, read_pending_scans
from bot.reporting import status_report
from config.msgid import make_message_id
from config.settings import new_secret_key, settings_from_mapping
from intake.message import parse_message
from intake.tables import Outcome, inbound_messages
from scoring.deadlines import deadline
from scoring.periods import Period

MARKER = ".complaint-bot-demo"
REPORT, NO_REPORT, SET_ASIDE, NEEDS_REVIEW = Outcome.REPORT, Outcome.NO_REPORT, Outcome.SET_ASIDE, Outcome.NEEDS_REVIEW
DOMAIN = "anamai.example.go.th"
SECRETARIAT = f"saraban.secretariat@{DOMAIN}"
UNITS_CSV = f"""code,name,senders,contacts,active
HPC01,ศูนย์อนามัยที่ 1 เชียงใหม่,hpc01@{DOMAIN},,yes
HPC02,ศูนย์อนามัยที่ 2 พิษณุโลก,hpc02@{DOMAIN},,yes
HPC03,ศูนย์อนามัยที่ 3 นครสวรรค์,hpc03@{DOMAIN},,yes
HPC04,ศูนย์อนามัยที่ 4 สระบุรี,hpc04@{DOMAIN},,yes
HPC05,ศูนย์อนามัยที่ 5 ราชบุรี,hpc05@{DOMAIN},,yes
HPC06,ศูนย์อนามัยที่ 6 ชลบุรี,hpc06@{DOMAIN},,yes
HPC07,ศูนย์อนามัยที่ 7 ขอนแก่น,hpc07@{DOMAIN},,yes
HPC08,ศูนย์อนามัยที่ 8 อุดรธานี,hpc08@{DOMAIN},,yes
HPC09,ศูนย์อนามัยที่ 9 นครราชสีมา,hpc09@{DOMAIN},,yes
DIV01,กองการเจ้าหน้าที่,saraban.central@{DOMAIN},hr@{DOMAIN},yes
DIV02,กองคลัง,saraban.central@{DOMAIN},finance@{DOMAIN},yes
OLD01,กองที่ยุบรวมแล้ว,old01@{DOMAIN},,no
"""


def demo_period(now: datetime) -> Period:
    """The latest period whose deadline has passed: on time, late and missing all show."""
    current = Period.of(now)
    return current if now > deadline(current, now.tzinfo) else current.prev()  # type: ignore[arg-type]


@dataclass(frozen=True)
class DemoMail:
    """One e-mail of the demo, and what the bot must make of it (the demo checks itself against this)."""

    arrived: datetime
    raw: bytes
    outcome: str  # an Outcome
    unit: str | None


# What each unit's status must be once the demo's mail is read (status, kind).
EXPECTED_STATUS = {
    "HPC01": ("on_time", "complaints"), "HPC02": ("on_time", "nil"), "HPC03": ("on_time", "nil"),
    "HPC04": ("on_time", "complaints"), "HPC05": ("late", "complaints"), "HPC06": ("on_time", "nil"),
    "HPC07": ("late", "complaints"), "HPC08": ("missing", None), "HPC09": ("missing", None),
    "DIV01": ("on_time", "nil"), "DIV02": ("needs_review", None),
}


def unit_names() -> dict[str, str]:
    """The registry's names by code: the demo's units send with them as display names, as a clerk's client does."""
    rows = [line.split(",") for line in UNITS_CSV.strip().splitlines()[1:]]
    return {row[0]: row[1] for row in rows}


def build_messages(period: Period, now: datetime, secret: str) -> list[DemoMail]:
    """About fifteen e-mails a secretariat really gets in a month, with their arrival times and expected outcomes."""
    tz = now.tzinfo
    due = deadline(period, tz)  # type: ignore[arg-type]
    late = due + min((now - due) / 2, timedelta(days=2))
    names = unit_names()

    def on(day: int, hour: int = 10) -> datetime:
        return datetime(period.year, period.month, day, hour, 5, tzinfo=tz)

    thai = period.thai()
    subj = f"ส่งรายงานข้อร้องเรียน ประจำเดือน{thai}"
    cases = sample_cases(period, 3)
    reminder_id = make_message_id(secret, DOMAIN, "reminder", "HPC06", str(period), f"reminder:HPC06:{period}:2")
    mails: list[DemoMail] = []

    def add(when: datetime, sender: str, subject: str, body: str, expect: tuple[str, str | None],
            name: str = "", **kw: Any) -> None:
        unit = expect[1]
        display = name or (f"{names[unit]} กรมอนามัย" if unit else "")
        raw = make_mail(sender=sender, to=SECRETARIAT, subject=subject, body=body, date_=when, sender_name=display,
                        **kw)
        mails.append(DemoMail(when, raw, *expect))

    add(on(10), f"hpc01@{DOMAIN}", subj, "เรียน สลก.\n\nขอส่งแบบรายงาน Complaint_01 และ Complaint_02 ครับ",
        (REPORT, "HPC01"), attachments=forms(names["HPC01"], period, cases))
    add(on(12), f"hpc02@{DOMAIN}", f"รายงานข้อร้องเรียน {thai}",
        f"เรียน สำนักงานเลขานุการกรม\n\nศูนย์อนามัยที่ 2 ขอรายงานว่า เดือน{thai} ไม่มีข้อร้องเรียนครับ\n\nขอบคุณครับ",
        (REPORT, "HPC02"))
    add(on(15), f"hpc03@{DOMAIN}", subj, "ส่งแบบ Complaint_02 (ไม่มีเรื่อง) ค่ะ", (REPORT, "HPC03"),
        attachments=[("Complaint_02.xlsx", forms(names["HPC03"], period, [], c01=False, c02_counts={})[0][1])])
    add(on(20), f"hpc04@{DOMAIN}", subj, "ขอส่งรายงานค่ะ", (REPORT, "HPC04"),
        attachments=forms(names["HPC04"], period, sample_cases(period, 4),
                          c02_counts={"complaint": (2, 1, 1), "suggestion": (1, 0, 1), "compliment": (1, 1, 0)}))
    add(on(18), f"hpc05@{DOMAIN}", subj, "ส่ง Complaint_01 ก่อนนะครับ Complaint_02 จะตามไป", (REPORT, "HPC05"),
        attachments=forms(names["HPC05"], period, sample_cases(period, 2), c02=False))
    add(late, f"hpc05@{DOMAIN}", subj, "ส่ง Complaint_02 เพิ่มเติมครับ", (REPORT, "HPC05"),
        attachments=forms(names["HPC05"], period, sample_cases(period, 2), c01=False))
    add(on(24, 16), f"hpc06@{DOMAIN}", f"Re: [{period.tag}] แจ้งเตือนการส่งรายงานข้อร้องเรียน",
        "ไม่มีข้อร้องเรียนค่ะ\n\nเมื่อ 23 ต.ค. เวลา 09:00 สำนักงานเลขานุการกรม เขียนว่า:\n"
        "> ขอให้ส่งรายงานภายในวันที่ 25 หากไม่มีข้อร้องเรียน ตอบกลับว่า \"ไม่มีข้อร้องเรียน\"", (REPORT, "HPC06"),
        headers={"In-Reply-To": reminder_id, "References": reminder_id})
    add(late + timedelta(minutes=30), f"hpc07@{DOMAIN}", "ส่งรายงาน", "ขออภัยที่ส่งล่าช้าครับ", (REPORT, "HPC07"),
        attachments=[(n.replace(".xlsx", "_hpc07.xlsx"), d) for n, d in
                     forms(names["HPC07"], None, sample_cases(period, 1))])
    add(on(22), f"hpc08@{DOMAIN}", "รายงานข้อร้องเรียน", "จะส่งรายงานให้พรุ่งนี้ครับ", (NO_REPORT, "HPC08"))
    add(on(22, 11), f"hpc08@{DOMAIN}", "Automatic reply: รายงานข้อร้องเรียน",
        "ขณะนี้ไม่อยู่ที่สำนักงาน จะกลับวันจันทร์", (SET_ASIDE, None), name=f"{names['HPC08']} กรมอนามัย",
        headers={"Auto-Submitted": "auto-replied"})
    add(on(21), f"hpc09@{DOMAIN}", subj, f"เดือน{thai} ไม่มีข้อร้องเรียน แต่มีข้อเสนอแนะ 2 เรื่อง จะส่งแบบฟอร์มตามไปค่ะ",
        (NO_REPORT, "HPC09"))
    add(on(14), "somchai.personal@gmail.com", "สอบถาม", "ขอทราบวิธีร้องเรียนครับ", (SET_ASIDE, None),
        name="สมชาย ใจดี")
    add(on(16), f"newstaff@{DOMAIN}", subj, "ไม่มีข้อร้องเรียนครับ", (SET_ASIDE, None),
        name="นางสาวเจ้าหน้าที่ใหม่ ยังไม่ลงทะเบียน กลุ่มงานบริหารทั่วไป")
    add(on(19), f"saraban.central@{DOMAIN}", subj, "ส่งรายงานของกองการเจ้าหน้าที่", (REPORT, "DIV01"),
        name="งานสารบรรณกลาง กองการเจ้าหน้าที่ และกองคลัง กรมอนามัย",
        attachments=[("Complaint_02.xlsx", forms(names["DIV01"], period, [], c01=False, c02_counts={})[0][1])])
    add(on(23), f"saraban.central@{DOMAIN}", subj, "ไม่มีข้อร้องเรียนครับ", (NEEDS_REVIEW, None),
        name="งานสารบรรณกลาง กองการเจ้าหน้าที่ และกองคลัง กรมอนามัย")
    mails.append(mails[0])  # the same message delivered twice
    return mails


def write_maildir(root: Path, mails: list[DemoMail]) -> None:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, mail in enumerate(mails):
        # Delivery agents name files "<unix time>.<unique>.<host>": the time is the arrival time.
        (root / "new" / f"{int(mail.arrived.timestamp())}.M{i:04d}P1.demo").write_bytes(mail.raw)


def check_demo(app: App, mails: list[DemoMail], status: dict) -> tuple[int, list[str]]:
    """How many of the demo's expectations held (each message's outcome and unit, stored once; each unit's status
    and kind), and a line for each that did not."""
    with app.engine.connect() as conn:
        stored = [tuple(row) for row in conn.execute(
            select(inbound_messages.c.message_id, inbound_messages.c.outcome, inbound_messages.c.unit_code))]
    wrong: list[str] = []
    for mail in {m.raw: m for m in mails}.values():
        message_id = parse_message(mail.raw, body=False).message_id
        got = [(outcome, unit) for mid, outcome, unit in stored if mid == message_id]
        if got != [(mail.outcome, mail.unit)]:
            found = ", ".join(" ".join(filter(None, pair)) for pair in got) or "nothing stored"
            wrong.append(f"{message_id}: expected {' '.join(filter(None, (mail.outcome, mail.unit)))}, got {found}")
    units = {u["unit"]: (u["status"], u["kind"]) for u in status["units"]}
    for code, want in EXPECTED_STATUS.items():
        if units.get(code) != want:
            wrong.append(f"{code}: expected {' '.join(filter(None, want))}, got "
                         f"{' '.join(filter(None, units.get(code, ('absent', None))))}")
    checks = len({m.raw for m in mails}) + len(EXPECTED_STATUS)
    return checks - len(wrong), wrong


def run_demo(folder: Path, console: Console, table: Callable[[dict, Any], Any]) -> None:
    started = time.monotonic()
    if folder.exists():
        if not (folder / MARKER).exists():
            raise SystemExit(f"{folder} exists and is not a demo folder; choose another with --dir")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("created by complaint-bot demo\n")
    (folder / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    values = {"DATA_DIR": "data", "UNITS_FILE": "units.csv", "MAIL_SOURCE": f"maildir:{folder.resolve() / 'Maildir'}",
              "SMTP_URL": f"file:{folder.resolve() / 'outbox'}", "SECRETARIAT_EMAIL": SECRETARIAT,
              "TRUSTED_DOMAINS": DOMAIN, "SECRET_KEY": new_secret_key()}
    # A .env of its own (0600: it holds the key), so the follow-up commands work from the demo folder.
    env_file = folder / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    env_file.chmod(0o600)
    settings = settings_from_mapping(values, base_dir=folder)
    now = datetime.now(settings.tz)
    period = demo_period(now)
    mails = build_messages(period, now, settings.secret_key)
    write_maildir(folder / "Maildir", mails)
    console.print(f"[bold]complaint-bot demo[/bold]: {len(mails)} e-mails for {period.thai()} in {folder / 'Maildir'}")

    app = build_app(settings)
    poll = poll_once(app, app.source())
    read_pending_scans(app)
    sent = flush_outbox(app)
    report = status_report(app, period, now)
    console.print(table(report, app))
    held, wrong = check_demo(app, mails, report)
    console.print(
        f"{poll.seen} messages read: {poll.processed} stored, {poll.duplicates} duplicate; "
        f"outcomes {poll.outcomes}\n{sent.sent} receipts written to {folder / 'outbox'} (.eml files)\n"
        f"database: {settings.database_url}\n"
        f"try: cd {folder} && {Path(sys.argv[0]).resolve()} status --period {period} --json\n"
        f"finished in {time.monotonic() - started:.1f} s"
    )
    for line in wrong:
        console.print(f"[red]not as expected[/red]: {line}")
    console.print(f"as expected: {held}/{held + len(wrong)}")
    if wrong:
        raise SystemExit(1)
