"""`complaint-bot evidence`: a unit's originals and receipts for a fiscal year, a summary, a SHA-256 manifest."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App
from bot.reporting import unit_states
from config.units import Unit
from intake.decisions import paper_originals, unit_messages
from mailer.models import OutboxMessage
from mailer.receipts import compose_queued
from mailer.workbook import STATUS_FILL
from scoring.periods import fiscal_year_periods, thai_date, thai_datetime
from mailer.words import KIND_SHORT, STATUS_THAI

MANIFEST = "manifest-sha256.txt"


def _summary(unit: Unit, fiscal_year: int, as_of: datetime, rows: list[tuple[list[object], str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "สรุป"
    font = Font(name="TH Sarabun New", size=14)
    ws.append([f"หลักฐานการส่งรายงานการจัดการข้อร้องเรียน {unit.name} ({unit.code}) ปีงบประมาณ พ.ศ. {fiscal_year}"])
    ws.append([f"จัดทำ ณ {thai_datetime(as_of)}"])
    ws.append(["เดือน", "กำหนดส่ง", "สถานะ", "ประเภทรายงาน", "ครบถ้วนเมื่อ", "จำนวนอีเมลที่ได้รับ"])
    for row, status in rows:
        ws.append(row)
        if status in STATUS_FILL:  # the digest's status colours
            ws.cell(row=ws.max_row, column=3).fill = PatternFill("solid", fgColor=STATUS_FILL[status])
    for line in ws.iter_rows():
        for cell in line:
            cell.font = font
    for col, width in zip("ABCDEF", (18, 26, 26, 22, 30, 18)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A4"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _paper_scans(app: App, s: Session, unit: Unit, periods: list[str]) -> dict[str, bytes]:
    """What a paper report's mail attached (the scan, the forms typed from it), as the unit's originals. Only the
    files: the staff member's mail itself may carry other units' commands."""
    files: dict[str, bytes] = {}
    for period, msg in paper_originals(s, unit.code, periods):
        if msg.purged_at is not None or not msg.raw:
            continue
        parsed = app.parse_stored(msg.raw)
        stamp = msg.arrived_at.astimezone(app.settings.tz).strftime("%Y%m%d-%H%M%S")
        for n, attachment in enumerate(parsed.attachments, start=1):
            name = attachment.filename.replace("/", "_").replace("\\", "_") or f"file-{n}"
            files[f"originals/{period}/{stamp}-{msg.id:06d}-paper/{n:02d}-{name}"] = attachment.data
    return files


def build_evidence(app: App, unit: Unit, fiscal_year: int, as_of: datetime, out: Path) -> int:
    """Write the zip; returns the number of files in it (manifest included)."""
    files = evidence_files(app, unit, fiscal_year, as_of)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pack(files))
    return len(files) + 1


def evidence_files(app: App, unit: Unit, fiscal_year: int, as_of: datetime, *, originals: bool = True) -> dict[str, bytes]:
    """The pack's files: the unit's original mails (or, with `originals` False, their SHA-256 only: they carry
    complainants' personal data), the scans of its paper reports, the bot's receipts to it, and a summary."""
    periods = fiscal_year_periods(fiscal_year)
    files: dict[str, bytes] = {}
    rows: list[tuple[list[object], str]] = []
    with app.sessions() as s:
        hashes: list[str] = []
        purged: list[str] = []
        originals_of: dict[str, int] = {}  # month -> the unit's mails of it, kept or by hash
        for msg in unit_messages(s, unit.code, [str(p) for p in periods]):
            stamp = msg.arrived_at.astimezone(app.settings.tz).strftime("%Y%m%d-%H%M%S")
            name = f"originals/{msg.period}/{stamp}-{msg.id:06d}.eml"
            if msg.purged_at is not None:  # past retention: only its hash remains
                purged.append(f"{msg.sha256}  {name}\n")
                continue
            originals_of[str(msg.period)] = originals_of.get(str(msg.period), 0) + 1
            if originals:
                files[name] = msg.raw
            else:
                hashes.append(f"{msg.sha256}  {name}\n")
        if originals:
            files.update(_paper_scans(app, s, unit, [str(p) for p in periods]))
        if purged:
            files["purged-originals-sha256.txt"] = "".join(purged).encode()
        if hashes:
            files["originals-sha256.txt"] = "".join(hashes).encode()
        sent = s.scalars(select(OutboxMessage).where(OutboxMessage.unit_code == unit.code,
                                                     OutboxMessage.period.in_([str(p) for p in periods]))
                         .order_by(OutboxMessage.id))
        mail = app.mail
        for row in sent:  # a receipt not sent yet is composed as it will be sent
            raw = row.raw if row.raw or row.payload is None else compose_queued(row, mail)[1]
            files[f"receipts/{row.period}/{row.id:06d}-{row.kind}.eml"] = raw
        for period in periods:
            if period.first_day() > as_of.astimezone(app.settings.tz).date():
                continue
            st = next((x for x in unit_states(app, s, period, as_of) if x.unit.code == unit.code), None)
            if st is None:
                continue
            count = originals_of.get(str(period), 0) + sum(1 for name in files
                                                           if name.startswith(f"originals/{period}/") and "-paper/" in name)
            completed = st.completed_at
            rows.append(([period.thai(), thai_date(app.deadline(period).date()), STATUS_THAI.get(st.status.value, st.status.value),
                          KIND_SHORT.get(st.kind or "", ""),
                          thai_datetime(completed.astimezone(app.settings.tz)) if completed else "", count],
                         st.status.value))
    files["summary.xlsx"] = _summary(unit, fiscal_year, as_of.astimezone(app.settings.tz), rows)
    return files


def pack(files: dict[str, bytes]) -> bytes:
    """The files as a zip with a SHA-256 manifest of every file in it."""
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            zf.writestr(name, data)
        zf.writestr(MANIFEST, manifest)
    return out.getvalue()


def verify_evidence(path: Path) -> list[str]:
    """Files whose hash disagrees with the manifest, or that are missing from it or from the zip."""
    with zipfile.ZipFile(path) as zf:
        listed = {}
        for line in zf.read(MANIFEST).decode().splitlines():
            digest, _, name = line.partition("  ")
            listed[name] = digest
        names = set(zf.namelist()) - {MANIFEST}
        bad = [n for n in sorted(names) if listed.get(n) != hashlib.sha256(zf.read(n)).hexdigest()]
    return bad + sorted(set(listed) - names)
