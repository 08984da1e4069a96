"""Which month a unit's message reports on (docs/spec.md, "Rules"), and the Complaint_01 rows dated outside it."""

from __future__ import annotations

from collections.abc import Callable

from config.msgid import read_message_ids
from config.units import Unit
from intake.context import Fetched, IntakeContext
from intake.documents import Documents, filename_periods_text
from intake.message import ParsedMail
from intake.problems import WARNING, Problem, where
from intake.text import strip_quoted
from scoring.periods import Period, find_periods, find_tag_period


def decide_period(mail: ParsedMail, doc: Documents, unit: Unit, fetched: Fetched, ctx: IntakeContext,
                  completed: Callable[[Period], bool]) -> tuple[Period, str, list[Problem]]:
    """docs/spec.md's order: written in a form or the text; the bot message replied to; the arrival month."""
    problems: list[Problem] = []
    form_periods: list[Period] = []
    for form in doc.forms:
        for p in form.periods[:1]:
            if p not in form_periods:
                form_periods.append(p)
    subject = mail.subject
    tag = find_tag_period(subject)
    text = " ".join([subject.replace(f"[{tag.tag}]", " ") if tag else subject, strip_quoted(mail.text)[:5000],
                     *(t[:5000] for t in doc.memo_text), filename_periods_text(mail.attachments)])
    text_periods = find_periods(text)
    if form_periods:
        chosen, rule = form_periods[0], "form"
        if len(form_periods) > 1:
            problems.append(Problem("period_conflict", WARNING, {
                "periods": ", ".join(p.thai() for p in form_periods), "chosen": chosen.thai()}))
        elif text_periods and text_periods[0] != chosen:
            problems.append(Problem("period_conflict", WARNING, {
                "written": text_periods[0].thai(), "chosen": chosen.thai()}))
        return chosen, rule, problems
    if text_periods:
        return text_periods[0], "text", problems
    for ref in read_message_ids(ctx.secret, [mail.in_reply_to, *mail.references]):
        if ref.period and ref.unit in (None, unit.code):
            return Period.parse(ref.period), "reply", problems
    if tag:
        return tag, "reply", problems
    arrival_local = fetched.arrived_at.astimezone(ctx.deadline_for(Period.of(fetched.arrived_at)).tzinfo)
    month = Period.of(arrival_local)
    if fetched.arrived_at > ctx.deadline_for(month):
        if completed(month):
            return month.next(), "arrival_next", problems
        return month, "arrival_late", problems
    return month, "arrival", problems


def date_problems(doc: Documents, period: Period) -> list[Problem]:
    """Complaint_01 rows received outside the reported month (a wrong date, or the wrong month's form)."""
    out = []
    for form in doc.forms:
        for r in form.rows:
            if r.received and not period.contains(r.received):
                when = "after" if r.received > period.last_day() else "before"
                out.append(Problem("date_out_of_period", WARNING, {
                    **where(form.filename, None, r.row),
                    "date": f"{r.received.day}/{r.received.month}/{r.received.year + 543}", "when": when,
                    "period": period.thai()}))
    return out
