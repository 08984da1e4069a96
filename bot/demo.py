"""`complaint-bot demo`: a realistic month in a local Maildir, run through the real pipeline."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from bot.app import build_app
from bot.samples import forms, make_mail, sample_cases
from bot.service import flush_outbox, poll_once, read_pending_scans
from bot.reporting import status_report
from config.msgid import make_message_id
from config.settings import new_secret_key, settings_from_mapping
from scoring.deadlines import deadline
from scoring.periods import Period

MARKER = ".complaint-bot-demo"
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


def build_messages(period: Period, now: datetime, secret: str) -> list[tuple[datetime, bytes]]:
    """About fifteen e-mails a secretariat really gets in a month, with their arrival times."""
    tz = now.tzinfo
    due = deadline(period, tz)  # type: ignore[arg-type]
    late = due + min((now - due) / 2, timedelta(days=2))

    def on(day: int, hour: int = 10) -> datetime:
        return datetime(period.year, period.month, day, hour, 5, tzinfo=tz)

    thai = period.thai()
    subj = f"ส่งรายงานข้อร้องเรียน ประจำเดือน{thai}"
    cases = sample_cases(period, 3)
    reminder_id = make_message_id(secret, DOMAIN, "reminder", "HPC06", str(period), f"reminder:HPC06:{period}:2")
    mails: list[tuple[datetime, bytes]] = []

    def add(when: datetime, sender: str, subject: str, body: str, **kw: Any) -> None:
        mails.append((when, make_mail(sender=sender, to=SECRETARIAT, subject=subject, body=body, date_=when, **kw)))

    add(on(10), f"hpc01@{DOMAIN}", subj, "เรียน สลก.\n\nขอส่งแบบรายงาน Complaint_01 และ Complaint_02 ครับ",
        attachments=forms("ศูนย์อนามัยที่ 1 เชียงใหม่", period, cases))
    add(on(12), f"hpc02@{DOMAIN}", f"รายงานข้อร้องเรียน {thai}",
        f"เรียน สำนักงานเลขานุการกรม\n\nศูนย์อนามัยที่ 2 ขอรายงานว่า เดือน{thai} ไม่มีข้อร้องเรียนครับ\n\nขอบคุณครับ")
    add(on(15), f"hpc03@{DOMAIN}", subj, "ส่งแบบ Complaint_02 (ไม่มีเรื่อง) ค่ะ",
        attachments=[("Complaint_02.xlsx", forms("ศูนย์อนามัยที่ 3 นครสวรรค์", period, [], c01=False,
                                                 c02_counts={})[0][1])])
    add(on(20), f"hpc04@{DOMAIN}", subj, "ขอส่งรายงานค่ะ",
        attachments=forms("ศูนย์อนามัยที่ 4 สระบุรี", period, sample_cases(period, 4),
                          c02_counts={"complaint": (2, 1, 1), "suggestion": (1, 0, 1), "compliment": (1, 1, 0)}))
    add(on(18), f"hpc05@{DOMAIN}", subj, "ส่ง Complaint_01 ก่อนนะครับ Complaint_02 จะตามไป",
        attachments=forms("ศูนย์อนามัยที่ 5 ราชบุรี", period, sample_cases(period, 2), c02=False))
    add(late, f"hpc05@{DOMAIN}", subj, "ส่ง Complaint_02 เพิ่มเติมครับ",
        attachments=forms("ศูนย์อนามัยที่ 5 ราชบุรี", period, sample_cases(period, 2), c01=False))
    add(on(24, 16), f"hpc06@{DOMAIN}", f"Re: [{period.tag}] แจ้งเตือนการส่งรายงานข้อร้องเรียน",
        "ไม่มีข้อร้องเรียนค่ะ\n\nเมื่อ 23 ต.ค. เวลา 09:00 สำนักงานเลขานุการกรม เขียนว่า:\n"
        "> ขอให้ส่งรายงานภายในวันที่ 25 หากไม่มีข้อร้องเรียน ตอบกลับว่า \"ไม่มีข้อร้องเรียน\"",
        headers={"In-Reply-To": reminder_id, "References": reminder_id})
    add(late + timedelta(minutes=30), f"hpc07@{DOMAIN}", "ส่งรายงาน", "ขออภัยที่ส่งล่าช้าครับ",
        attachments=[(n.replace(".xlsx", "_hpc07.xlsx"), d) for n, d in
                     forms("ศูนย์อนามัยที่ 7 ขอนแก่น", None, sample_cases(period, 1))])
    add(on(22), f"hpc08@{DOMAIN}", "รายงานข้อร้องเรียน", "จะส่งรายงานให้พรุ่งนี้ครับ")
    add(on(22, 11), f"hpc08@{DOMAIN}", "Automatic reply: รายงานข้อร้องเรียน",
        "ขณะนี้ไม่อยู่ที่สำนักงาน จะกลับวันจันทร์", headers={"Auto-Submitted": "auto-replied"})
    add(on(21), f"hpc09@{DOMAIN}", subj, f"เดือน{thai} ไม่มีข้อร้องเรียน แต่มีข้อเสนอแนะ 2 เรื่อง จะส่งแบบฟอร์มตามไปค่ะ")
    add(on(14), "somchai.personal@gmail.com", "สอบถาม", "ขอทราบวิธีร้องเรียนครับ")
    add(on(16), f"newstaff@{DOMAIN}", subj, "ไม่มีข้อร้องเรียนครับ")
    add(on(19), f"saraban.central@{DOMAIN}", subj, "ส่งรายงานของกองการเจ้าหน้าที่",
        attachments=[("Complaint_02.xlsx", forms("กองการเจ้าหน้าที่", period, [], c01=False, c02_counts={})[0][1])])
    add(on(23), f"saraban.central@{DOMAIN}", subj, "ไม่มีข้อร้องเรียนครับ")
    mails.append(mails[0])  # the same message delivered twice
    return mails


def write_maildir(root: Path, mails: list[tuple[datetime, bytes]]) -> None:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, (when, raw) in enumerate(mails):
        # Delivery agents name files "<unix time>.<unique>.<host>": the time is the arrival time.
        (root / "new" / f"{int(when.timestamp())}.M{i:04d}P1.demo").write_bytes(raw)


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
    console.print(
        f"{poll.seen} messages read: {poll.processed} stored, {poll.duplicates} duplicate; "
        f"outcomes {poll.outcomes}\n{sent.sent} receipts written to {folder / 'outbox'} (.eml files)\n"
        f"database: {settings.database_url}\n"
        f"try: cd {folder} && {Path(sys.argv[0]).resolve()} status --period {period} --json\n"
        f"finished in {time.monotonic() - started:.1f} s"
    )
