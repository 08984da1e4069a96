"""A unit's own requests by mail (intake/screening.py `unit_requests` decided who may ask): its fiscal-year record
and its evidence pack, each for the sender's own units only, rate-limited per unit and hour, answered in the
transaction that stored the request. The outbox row of each answer is the record of who asked and what was sent
(the digest lists them)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.app import App
from bot.evidence import evidence_files, pack
from bot.reporting import unit_year
from config.units import Unit
from intake.context import Fetched, IngestResult
from mailer.models import OutboxMessage
from mailer.unit_answers import UnitAnswer, enqueue_unit_answer
from scoring.periods import Period, fiscal_year_of

log = logging.getLogger("complaint_bot.intake")


def answer_unit_request(app: App, s: Session, fetched: Fetched, result: IngestResult, now: datetime) -> None:
    assert result.reply_to is not None and result.command is not None
    kind = result.command.removeprefix("unit_")
    fiscal_year = result.fiscal_year or fiscal_year_of(Period.of(fetched.arrived_at.astimezone(app.settings.tz)))
    for code in result.for_units:
        unit = app.registry.get(code)
        if unit is None:
            continue
        if _asked_this_hour(s, unit.code, f"unit_{kind}", now) >= app.mail.limits.per_recipient(f"unit_{kind}"):
            log.warning("%s request #%d from %s not answered: %s's hourly limit", kind, result.inbound_id,
                        result.reply_to, unit.code)
            continue
        answer = UnitAnswer(kind=kind, key=f"unit-{kind}:{result.inbound_id}:{unit.code}", to=result.reply_to,
                            unit_code=unit.code, unit_name=unit.name, fiscal_year=fiscal_year,
                            months=unit_year(app, s.connection(), unit, fiscal_year, fetched.arrived_at),
                            original_message_id=result.original_message_id, original_subject=result.original_subject)
        if kind == "evidence":
            answer = _with_pack(app, answer, unit, fetched.arrived_at)
        enqueue_unit_answer(s, answer, app.mail, now)


def _asked_this_hour(s: Session, unit_code: str, kind: str, now: datetime) -> int:
    return int(s.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.unit_code == unit_code, OutboxMessage.kind == kind,
        OutboxMessage.created_at >= now - timedelta(hours=1))) or 0)


def _with_pack(app: App, answer: UnitAnswer, unit: Unit, as_of: datetime) -> UnitAnswer:
    """The pack as the settings allow (originals only with UNIT_EVIDENCE_ORIGINALS), never over OUTGOING_MAX_MB:
    too large, it is sent without the originals, then as its summary and hashes alone, and the mail says so."""
    limit = app.settings.outgoing_max_mb * 1024 * 1024
    originals = app.settings.unit_evidence_originals
    files = evidence_files(app, unit, answer.fiscal_year, as_of, originals=originals)
    zipped = pack(files)
    note = "" if originals else "originals_left_out"
    if len(zipped) > limit and originals:
        files = evidence_files(app, unit, answer.fiscal_year, as_of, originals=False)
        zipped, note = pack(files), "too_large"
    if len(zipped) > limit:
        files = {name: data for name, data in files.items() if name.endswith((".xlsx", ".txt"))}
        zipped, note = pack(files), "too_large"
    return replace(answer, pack=zipped, pack_note=note)
