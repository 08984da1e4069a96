"""One message costs only itself: text no database stores, a header block of many thousand fields, a native panic
in a reader, mail that references the staff's mail, a replayed command (issue: "One message costs only itself")."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.samples import forms, make_mail, sample_cases
from bot.service import poll_once
from bot.reporting import status_report
from intake.message import parse_message
from intake.models import InboundMessage, Submission
from scoring.periods import Period
from tests.conftest import DOMAIN, SECRETARIAT, bkk
from tests.paths import DATA

NOV = Period(2026, 11)
ARRIVED = bkk(2026, 11, 20, 10)


def _maildir(folder: Path, mails: list[bytes], when: datetime = ARRIVED) -> str:
    for sub in ("new", "cur", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for i, raw in enumerate(mails):
        (folder / "new" / f"{int(when.timestamp()) + i}.M{i}P1.test").write_bytes(raw)
    return f"maildir:{folder}"


def _report(unit: int) -> bytes:
    return make_mail(sender=f"hpc0{unit}@{DOMAIN}", to=SECRETARIAT, subject="รายงาน พ.ย. 69", body="ส่งรายงาน",
                     date_=ARRIVED, attachments=forms(f"ศูนย์อนามัยที่ {unit}", NOV, sample_cases(NOV, 2)))


# Headers that decode to what no database stores: a lone surrogate (utf-7, refused by SQLite's driver), NUL
# (refused by PostgreSQL's text and json), other C0 controls; in the subject, the display name and a filename.
UNSTORABLE = [
    b"Subject: =?utf-7?q?hello+2AA-there?=",
    b"Subject: =?utf-8?q?hello=00there=07=1B?=",
    b"Subject: =?utf-8?q?=00?=\r\nX-Note: =?utf-7?q?+2AA-?=",
]


@pytest.mark.parametrize("header", UNSTORABLE)
def test_text_no_database_stores_costs_no_one_else(header: bytes, db_url: str, make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stranger = (b"From: =?utf-7?q?Mallory+2AA-?= <mallory@evil.example>\r\nTo: " + SECRETARIAT.encode() + b"\r\n"
                + header + b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                b"Content-Type: text/plain; charset=utf-8\r\n\r\nhello\x00there\r\n--b\r\nContent-Type: text/csv\r\n"
                b"Content-Disposition: attachment; filename*=utf-8''a%00b%07.csv\r\n\r\nx,y\x00\r\n--b--\r\n")
    unit = (b"From: =?utf-8?q?=E0=B8=A8=E0=B8=B9?= <hpc03@" + DOMAIN.encode() + b">\r\nTo: "
            + SECRETARIAT.encode() + b"\r\n" + header + b"\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n\xe0\xb9\x84\xe0\xb8\xa1\xe0\xb9\x88\xe0\xb8\xa1\xe0\xb8\xb5"
            b"\xe0\xb8\x82\xe0\xb9\x89\xe0\xb8\xad\xe0\xb8\xa3\xe0\xb9\x89\xe0\xb8\xad\xe0\xb8\x87\xe0\xb9\x80\xe0\xb8\xa3"
            b"\xe0\xb8\xb5\xe0\xb8\xa2\xe0\xb8\x99\x00\r\n")  # "ไม่มีข้อร้องเรียน" and a NUL
    source = _maildir(tmp_path / "Maildir", [_report(1), stranger, _report(2), unit, _report(1).replace(b"2 ", b"3 ")])
    app = make_app(db_url, MAIL_SOURCE=source)
    report = poll_once(app, app.source())
    assert (report.seen, report.processed) == (5, 5), report
    assert poll_once(app, app.source()).seen == 0  # nothing left to fail again
    status = {u["unit"]: u["status"] for u in status_report(app, NOV, bkk(2026, 11, 27))["units"]}
    assert status["HPC01"] == status["HPC02"] == status["HPC03"] == "on_time"
    with app.sessions() as s:
        subjects = s.scalars(select(InboundMessage.subject).order_by(InboundMessage.id)).all()
        assert len(subjects) == 5 and not any("\x00" in t or "\ud800" in t for t in subjects)
        assert s.scalar(select(Submission.nil_statement).where(Submission.unit_code == "HPC03"))


def _fault_in_receipt(monkeypatch: pytest.MonkeyPatch, refused: bool = False) -> bytes:
    """A unit's report whose receipt cannot be queued (a fault outside its savepoint) until it is quarantined;
    `refused`: the fault is a write the database itself refuses (an IntegrityError, as a duplicate key is)."""
    import bot.handlers
    from sqlalchemy import text

    real = bot.handlers.queue_receipt

    def faulty(app, session, result, now):  # type: ignore[no-untyped-def]
        stored = session.get(InboundMessage, result.inbound_id)
        if stored is not None and b"X-Fault" in stored.raw and result.outcome != "quarantined":
            if refused:
                session.execute(text("INSERT INTO processing_attempts (sha256) VALUES (NULL)"))  # NOT NULL
            raise RuntimeError("a fault outside the message's savepoint")
        return real(app, session, result, now)

    monkeypatch.setattr(bot.handlers, "queue_receipt", faulty)
    return _report(3).replace(b"Subject:", b"X-Fault: yes\r\nSubject:", 1)


def test_a_message_that_cannot_be_stored_costs_only_itself(db_url: str, make_app, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault outside any savepoint (here: queueing its receipt) fails the batch's transaction: the next poll
    stores the others alone and leaves this one, unmarked and counted; after its attempts it is kept quarantined,
    and the poll reports each failure (so `poll` exits non-zero and `run` is not healthy meanwhile)."""
    bad = _fault_in_receipt(monkeypatch)
    # One transaction for the batch, however slow the machine (a transaction ends after INTAKE_BATCH_MS).
    app = make_app(db_url, INTAKE_BATCH_MS="10000",
                   MAIL_SOURCE=_maildir(tmp_path / "Maildir", [_report(1), _report(2), bad, _report(1)[:-2]]))
    first = poll_once(app, app.source())
    assert (first.processed, first.failed) == (0, 4)  # the batch's transaction failed: nothing marked
    second = poll_once(app, app.source())
    assert (second.seen, second.processed, second.failed) == (4, 3, 1)  # the others stored alone
    third = poll_once(app, app.source())
    assert (third.seen, third.processed, third.failed, third.outcomes) == (1, 1, 0, {"quarantined": 1})
    assert poll_once(app, app.source()).seen == 0
    status = {u["unit"]: u["status"] for u in status_report(app, NOV, bkk(2026, 11, 27))["units"]}
    assert status["HPC01"] == status["HPC02"] == "on_time"


def test_a_refused_write_is_not_taken_for_a_message_stored_before(db_url: str, make_app, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """An IntegrityError while a message is stored alone means "another worker stored it" only when it is
    stored: a write refused for any other reason (here its receipt's, a NOT NULL) leaves it unmarked and
    counted, as any fault does, until it is quarantined after its attempts; it was taken for a message stored
    before, marked done and never kept. (Nor was such an error counted as an attempt: it was retried for ever.)"""
    bad = _fault_in_receipt(monkeypatch, refused=True)
    app = make_app(db_url, MAIL_SOURCE=_maildir(tmp_path / "Maildir", [bad]))  # one message: stored alone
    first = poll_once(app, app.source())
    assert (first.seen, first.processed, first.failed) == (1, 0, 1)
    second = poll_once(app, app.source())
    assert (second.seen, second.processed, second.failed) == (1, 0, 1)
    third = poll_once(app, app.source())
    assert (third.seen, third.processed, third.failed, third.outcomes) == (1, 1, 0, {"quarantined": 1})
    with app.sessions() as s:
        kept = s.scalars(select(InboundMessage)).one()
        assert kept.outcome == "quarantined" and kept.raw == bad


def test_a_refused_write_in_a_batch_is_not_taken_for_a_message_stored_before(db_url: str, make_app,  # type: ignore[no-untyped-def]
                                                                            tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The same in a batch (stored again a savepoint a message once it failed): the message whose handlers' write
    is refused is never answered as stored before; its neighbour is stored, and it is kept, quarantined, after its
    attempts."""
    bad = _fault_in_receipt(monkeypatch, refused=True)
    app = make_app(db_url, INTAKE_BATCH_MS="10000", MAIL_SOURCE=_maildir(tmp_path / "Maildir", [_report(1), bad]))
    outcomes: dict[str, int] = {}
    for _ in range(5):
        report = poll_once(app, app.source())
        assert report.duplicates == 0, report  # never "stored before": it was not
        for outcome, count in report.outcomes.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
        if report.seen == 0:
            break
    assert outcomes == {"report": 1, "quarantined": 1}
    with app.sessions() as s:
        kept = s.scalars(select(InboundMessage).where(InboundMessage.outcome == "quarantined")).one()
        assert kept.raw == bad


def test_a_failed_transaction_costs_only_its_messages_not_the_transactions_before_it(  # type: ignore[no-untyped-def]
        db_url: str, make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch stored in several transactions (each ends after INTAKE_BATCH_MS; 0 makes one a message): when one
    fails, the messages of the transactions before it were committed and are answered as stored (the caller
    marks them done now); the failed one and the batch's rest are left for later. The whole batch was reported
    failed and left unmarked (seen under load: the next poll found the committed ones stored and marked them
    without counting them)."""
    from bot.storing import NotStored, process_batch
    from intake.context import Fetched

    bad = _fault_in_receipt(monkeypatch)
    app = make_app(db_url, INTAKE_BATCH_MS="0")
    batch = [Fetched(raw=raw, arrived_at=ARRIVED + timedelta(minutes=i), uid=str(i))
             for i, raw in enumerate([_report(1), _report(2), bad, _report(1)[:-2]])]
    results = process_batch(app, batch)
    assert [type(r).__name__ for r in results] == ["IngestResult", "IngestResult", "NotStored", "NotStored"]
    assert all("a fault outside" in str(r.error) for r in results if isinstance(r, NotStored))
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 2
    again = process_batch(app, batch[2:])  # the next poll: markers left, so each alone; the fault again
    assert [type(r).__name__ for r in again] == ["NotStored", "IngestResult"]


def test_the_quarantine_keeps_what_cannot_fail(db_url: str, make_app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Should a message's headers not be storable in any way, it is kept bare: bytes, hash, arrival, the error."""
    import intake.store
    from intake.context import Fetched
    from intake.store import quarantine

    real = intake.store.inbound_row

    def refuse_headers(fetched, mail, outcome, reason):  # type: ignore[no-untyped-def]
        row = real(fetched, mail, outcome, reason)
        if mail is not None:
            row.sha256 = None  # NOT NULL: refused on every database, as an unstorable header would be
        return row

    monkeypatch.setattr(intake.store, "inbound_row", refuse_headers)
    app = make_app(db_url)
    raw = _report(1)
    with app.sessions.begin() as s:
        result = quarantine(s, Fetched(raw=raw, arrived_at=ARRIVED), "ValueError: broke the pipeline")
    with app.sessions() as s:
        row = s.get(InboundMessage, result.inbound_id)
        assert row is not None and row.raw == raw and row.outcome == "quarantined" and row.from_addr == ""
        assert "its headers could not be stored" in row.reason


# --- Header blocks and MIME structures a stranger writes ---------------------------------------------------------

def test_a_header_block_of_many_thousand_fields_is_cut_before_any_work(db_url: str, make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """100,000 fields with a raw 8-bit byte each (18 s per 10,000 before, quadratic): only the first
    MAX_HEADER_FIELDS are parsed, the sender is doubtful (a second From could hide past the cut), and the reports
    beside it are stored."""
    from intake.headers import MAX_HEADER_FIELDS

    flood = (b"From: hpc03@" + DOMAIN.encode() + b"\r\nSubject: x\r\n"
             + b"".join(b"X-F%d: caf\xe9\r\n" % i for i in range(100_000)) + b"\r\n\xe0\xb9\x84\xe0\xb8\xa1\xe0\xb9\x88")
    parsed = parse_message(flood)
    assert len(parsed.all_headers) == MAX_HEADER_FIELDS and parsed.sender_problem and parsed.from_addr == ""
    assert parse_message(flood, body=False).all_headers == parsed.all_headers  # the look-ahead's view: the same
    app = make_app(db_url, MAIL_SOURCE=_maildir(tmp_path / "Maildir", [_report(1), flood, _report(2)]))
    report = poll_once(app, app.source())
    assert (report.processed, report.failed, report.outcomes) == (3, 0, {"report": 2, "needs_review": 1})


def test_recovering_raw_header_bytes_is_one_pass() -> None:
    """The header list of each part is rebuilt once, not scanned again for every field name."""
    import email
    import email.policy

    from intake.headers import recover_raw_headers

    msg = email.message_from_bytes(b"".join(b"X-F%d: " % i + "ไม่มี".encode() + b"\r\n" for i in range(5000))
                                   + b"\r\nbody", policy=email.policy.compat32)
    scans = 0
    real_delitem = type(msg).__delitem__

    def counting(self, name):  # type: ignore[no-untyped-def]
        nonlocal scans
        scans += 1
        return real_delitem(self, name)

    type(msg).__delitem__ = counting  # type: ignore[method-assign]
    try:
        recover_raw_headers(msg)
    finally:
        type(msg).__delitem__ = real_delitem  # type: ignore[method-assign]
    assert scans == 0 and msg["X-F4999"] == "ไม่มี" and list(msg.keys())[:2] == ["X-F0", "X-F1"]


def test_a_strangers_mime_structure_is_parsed_in_a_worker(make_app, sqlite_only_url: str,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """One message alone (as `run` sees it) with 60,000 empty parts: parsed by a sandbox worker, never here."""
    from bot.storing import process_one
    from intake.context import Fetched
    from tests.conftest import record_tasks

    app = make_app(sqlite_only_url)
    tasks = record_tasks(app, monkeypatch)
    monkeypatch.setattr(app.parsers, "run", lambda fn, *a: app.parsers.result(app.parsers.submit(fn, *a)))
    parts = (b"From: hpc01@" + DOMAIN.encode() + b"\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"--b\r\n\r\n" * 60_000 + b"--b--\r\n")
    small = _report(2)
    assert process_one(app, Fetched(raw=small, arrived_at=ARRIVED)) is not None
    assert "parse_message" not in tasks  # a small, flat message is parsed here
    result = process_one(app, Fetched(raw=parts, arrived_at=ARRIVED))
    assert result is not None and tasks.count("parse_message") == 1


# --- Mail that references the staff's mail; commands replayed ------------------------------------------------------

OURS = "mx.anamai.example.go.th"
CLERK = f"clerk@{DOMAIN}"


def _staff_app(make_app, db_url: str):  # type: ignore[no-untyped-def]
    return make_app(db_url, TRUSTED_AUTHSERV_ID=OURS, STAFF_EMAILS=CLERK, DIGEST_TO=f"boss@{DOMAIN}")


def _authenticated(raw: bytes) -> bytes:
    return f"Authentication-Results: {OURS}; dmarc=pass header.from={DOMAIN}\r\n".encode() + raw


def _digest(app):  # type: ignore[no-untyped-def]
    from bot.cycle import send_digest
    from mailer.models import OutboxMessage

    send_digest(app, NOV, bkk(2026, 11, 26, 9), "digest:2026-11")
    with app.sessions() as s:
        return s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")).one()


def test_a_units_answer_to_a_forwarded_digest_is_its_report(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    """The secretariat forwards the digest to a late unit; the unit's authenticated nil report quotes it."""
    import time_machine

    from bot.storing import process_one
    from intake.context import Fetched

    app = _staff_app(make_app, db_url)
    with time_machine.travel(bkk(2026, 11, 26, 9), tick=False):
        digest = _digest(app)
        raw = make_mail(sender=f"hpc02@{DOMAIN}", to=SECRETARIAT, subject=f"Re: Fw: {digest.subject}",
                        body="เดือนพฤศจิกายน 2569 ไม่มีข้อร้องเรียนค่ะ ขออภัยที่ล่าช้า\n\n> สรุปการส่งรายงาน",
                        date_=bkk(2026, 11, 26, 10),
                        headers={"In-Reply-To": f"<fw.1@{DOMAIN}>", "References": f"{digest.message_id} <fw.1@{DOMAIN}>"})
        result = process_one(app, Fetched(raw=_authenticated(raw), arrived_at=bkk(2026, 11, 26, 10)))
    assert result is not None and (result.outcome, result.unit and result.unit.code) == ("report", "HPC02")
    assert result.reply_to == f"hpc02@{DOMAIN}"
    status = {u["unit"]: u["status"] for u in status_report(app, NOV, bkk(2026, 11, 27))["units"]}
    assert status["HPC02"] == "late"


def test_a_command_mail_replayed_is_not_done_again(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    """The clerk's exemption, undone, then the same mail again through another hop (its DKIM signature and
    Message-ID unchanged, so DMARC passes again): not done twice; refused and listed. A second mail with the
    same DKIM signature but another Message-ID is refused the same way."""
    import time_machine

    from bot.digest_data import digest_data
    from bot.storing import process_one
    from intake.models import Exemption
    from intake.context import Fetched
    from mailer.models import OutboxMessage

    app = _staff_app(make_app, db_url)
    with time_machine.travel(bkk(2026, 11, 26, 9), tick=False):
        digest = _digest(app)
        signature = "DKIM-Signature: v=1; a=rsa-sha256; d=" + DOMAIN + "; s=sel; h=from:to:subject:message-id;\r\n" \
            "\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGhpcyBpcyBhIHNpZ25hdHVyZQ==\r\n\tAAAAbbbbCCCC\r\n"
        mail = make_mail(sender=CLERK, to=SECRETARIAT, subject=f"Re: {digest.subject}", date_=bkk(2026, 11, 26, 9),
                         body="ยกเว้น HPC02 พฤศจิกายน 2569 เหตุผล ปิดปรับปรุงอาคาร",
                         headers={"In-Reply-To": digest.message_id})
        message_id = parse_message(mail).message_id
        done = process_one(app, Fetched(raw=_authenticated(signature.encode() + mail), arrived_at=bkk(2026, 11, 26, 9)))
        assert done is not None and done.outcome == "command"

        def exempt() -> list[str]:
            with app.sessions() as s:
                return list(s.scalars(select(Exemption.unit_code)))

        assert exempt() == ["HPC02"]
        from tests.conftest import compose_queued_receipts
        compose_queued_receipts(app)
        with app.sessions() as s:
            answer = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "staff")).one()
        undo = make_mail(sender=CLERK, to=SECRETARIAT, subject=f"Re: {answer.subject}", date_=bkk(2026, 11, 26, 9, 5),
                         body="ยกเลิก A-1", headers={"In-Reply-To": answer.message_id, "References": digest.message_id})
        process_one(app, Fetched(raw=_authenticated(undo), arrived_at=bkk(2026, 11, 26, 9, 5)))
        assert exempt() == []
        hop = b"Received: from relay2.example by mx.anamai.example.go.th; Thu, 26 Nov 2026 10:00:00 +0700\r\n"
        replayed = process_one(app, Fetched(raw=_authenticated(hop + signature.encode() + mail),
                                            arrived_at=bkk(2026, 11, 26, 10)))
        renamed = mail.replace(message_id.encode(), f"<another.2@{DOMAIN}>".encode())
        resigned = process_one(app, Fetched(raw=_authenticated(signature.encode() + renamed),
                                            arrived_at=bkk(2026, 11, 26, 10, 1)))
        for result in (replayed, resigned):
            assert result is not None and result.outcome == "command_refused" and "done before" in result.reason
        assert exempt() == []
        with app.sessions() as s:
            assert len(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "staff")).all()) == 2
            refused = digest_data(app, s, NOV, bkk(2026, 11, 26, 11)).refused
        assert [who for _, who, _ in refused] == [CLERK, CLERK]


def test_strangers_notices_never_spend_the_units_receipts(make_app, sqlite_only_url: str) -> None:  # type: ignore[no-untyped-def]
    """MAIL_PER_HOUR=10: ten notices to senders inside TRUSTED_DOMAINS who are no unit, then twelve units'
    reports. Strangers get at most half the hour; every unit's receipt is queued, those over the hour wait."""
    from bot.storing import process_one
    from intake.context import Fetched
    from mailer.models import OutboxMessage

    app = make_app(sqlite_only_url, MAIL_PER_HOUR="10")
    for i in range(10):
        raw = make_mail(sender=f"staff{i}@{DOMAIN}", to=SECRETARIAT, subject="สอบถาม", body="ขอทราบวิธีส่งรายงาน",
                        date_=ARRIVED)
        assert process_one(app, Fetched(raw=raw, arrived_at=ARRIVED)).outcome == "set_aside"  # type: ignore[union-attr]
    for i in range(12):
        raw = make_mail(sender=f"hpc0{1 + i % 3}@{DOMAIN}", to=SECRETARIAT, subject=f"รายงาน {i}",
                        body=f"ไม่มีข้อร้องเรียน ({i})", date_=ARRIVED)
        assert process_one(app, Fetched(raw=raw, arrived_at=ARRIVED)).outcome == "report"  # type: ignore[union-attr]
    with app.sessions() as s:
        rows = s.execute(select(OutboxMessage.unit_code, OutboxMessage.next_attempt_at)).all()
    strangers = [due for unit, due in rows if unit is None]
    units = sorted(due for unit, due in rows if unit is not None)
    assert len(strangers) == 5 and len(units) == 12
    later = [due for due in units if due - units[0] > timedelta(minutes=30)]
    assert len(later) == 7  # 5 strangers and 5 units went at once; the other 7 units wait an hour, none lost


def test_a_quarantined_report_from_a_unit_waits_for_review_not_missing(db_url: str, make_app,  # type: ignore[no-untyped-def]
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import intake.pipeline
    from bot.storing import process_one
    from intake.context import Fetched

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a reader bug")

    monkeypatch.setattr(intake.pipeline, "attribute", broken)
    app = make_app(db_url)
    result = process_one(app, Fetched(raw=_report(1), arrived_at=ARRIVED))
    assert result is not None and result.outcome == "quarantined" and result.reply_to == f"hpc01@{DOMAIN}"
    status = {u["unit"]: u["status"] for u in status_report(app, NOV, bkk(2026, 11, 27))["units"]}
    assert status["HPC01"] == "needs_review" and status["HPC02"] == "missing"


def test_run_retries_within_seconds_while_messages_cannot_be_stored(make_app, sqlite_only_url: str, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A poll that left messages unstored (the database went away) is not a healthy cycle: no heartbeat, and
    the next poll comes after the loop's short backoff, not at the next sweep (SWEEP_SECONDS is an hour here)."""
    import threading

    import bot.runner
    from bot.health import Health
    from bot.runner import StopFlag, run_forever
    from bot.service import PollReport

    polls: list[float] = []
    healthy: list[bool] = []
    stop = StopFlag()

    def poll(app, source, stop_flag):  # type: ignore[no-untyped-def]
        polls.append(time.monotonic())
        if len(polls) >= 3:
            stop.set()
        return PollReport(failed=1) if len(polls) == 1 else PollReport()

    monkeypatch.setattr(bot.runner, "poll_once", poll)
    monkeypatch.setattr(Health, "ok", lambda self, app, now: healthy.append(True))
    app = make_app(sqlite_only_url, MAIL_SOURCE=_maildir(tmp_path / "Maildir", []), SWEEP_SECONDS="3600",
                   IDLE_SECONDS="1")
    worker = threading.Thread(target=run_forever, args=(app, stop))
    worker.start()
    worker.join(30)
    assert not worker.is_alive() and len(polls) >= 2
    assert polls[1] - polls[0] < 10  # the backoff's first step (2 s), not the hour's sweep
    assert len(healthy) == len(polls) - 1  # the failed poll did not count as healthy


def test_a_postgresql_crash_under_a_running_worker_loses_nothing(make_app, smtp, dovecot, imap_user,  # type: ignore[no-untyped-def]
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A private PostgreSQL crashes (`pg_ctl stop -m immediate`) in the middle of a 40-message backlog under one
    `run` worker and comes back 5 s later: intake resumes within seconds of its return, every report counts and
    every receipt is delivered. Over IMAP: IDLE wakes the worker only for new mail, so only a retry brings it back."""
    import threading

    import bot.service
    from bot.runner import StopFlag, run_forever
    from mailer.models import OutboxMessage
    from tests import servers

    server = servers.start_private_postgres()
    if server is None:
        servers.unavailable("PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
    assert server is not None
    try:
        mails = [make_mail(sender=f"hpc0{1 + i % 3}@{DOMAIN}", to=SECRETARIAT, subject=f"รายงาน พ.ย. 69 ฉบับที่ {i}",
                           body=f"ไม่มีข้อร้องเรียน ({i})", date_=ARRIVED) for i in range(40)]
        for i, raw in enumerate(mails):
            dovecot.append(imap_user, raw, ARRIVED.replace(minute=i))
        app = make_app(server.url, MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url,
                       INTAKE_BATCH_MESSAGES="4", SWEEP_SECONDS="3600", IDLE_SECONDS="1", SEND_INTERVAL_SECONDS="1")
        real = bot.service.process_batch

        def slowly(app_, batch, ahead=None, between=lambda: None):  # type: ignore[no-untyped-def]
            time.sleep(0.05 * len(batch))  # a backlog long enough to crash in the middle of
            return real(app_, batch, ahead, between)

        monkeypatch.setattr(bot.service, "process_batch", slowly)

        def stored() -> int:
            try:
                with app.sessions() as s:
                    return len(s.scalars(select(InboundMessage.id)).all())
            except Exception:  # noqa: BLE001 - the database is down
                return -1

        stop = StopFlag()
        worker = threading.Thread(target=run_forever, args=(app, stop))
        worker.start()
        try:
            deadline = time.monotonic() + 30
            while stored() < 8 and time.monotonic() < deadline:
                time.sleep(0.05)
            server.crash()
            time.sleep(5)
            server.start()
            back = time.monotonic()
            while stored() < 40 and time.monotonic() - back < 30:
                time.sleep(0.2)
            resumed = time.monotonic() - back
            assert stored() == 40, stored()
            while time.monotonic() - back < 60:
                with app.sessions() as s:
                    if s.scalars(select(OutboxMessage.status)).all().count("sent") == 40:
                        break
                time.sleep(0.2)
        finally:
            stop.set()
            worker.join(60)
        assert resumed < 20  # seconds after PostgreSQL answered again, not the next sweep
        status = {u["unit"]: u["status"] for u in status_report(app, NOV, bkk(2026, 11, 27))["units"]}
        assert status["HPC01"] == status["HPC02"] == status["HPC03"] == "on_time"
        delivered = [m.message["Message-ID"] for m in smtp.handler.messages]
        assert len(set(delivered)) == 40  # every receipt delivered (a retry after the crash sends the same one)
    finally:
        app.close() if "app" in locals() else None
        server.stop()


def test_a_reply_to_the_confirmation_defaults_to_the_digests_month(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    """The staff's answer keeps the digest in its References and carries its [CR-…] tag: a line without a month
    in a reply to the answer means the digest's month, as in a reply to the digest itself."""
    import email as email_lib

    import time_machine

    from bot.storing import process_one
    from intake.models import Exemption
    from intake.context import Fetched
    from mailer.models import OutboxMessage
    from tests.conftest import compose_queued_receipts

    app = _staff_app(make_app, db_url)
    with time_machine.travel(bkk(2026, 11, 26, 9), tick=False):
        digest = _digest(app)
        first = make_mail(sender=CLERK, to=SECRETARIAT, subject=f"Re: {digest.subject}", date_=bkk(2026, 11, 26, 9),
                          body="ยกเว้น HPC02 เหตุผล ปิดปรับปรุงอาคาร",
                          headers={"In-Reply-To": digest.message_id, "References": digest.message_id})
        assert process_one(app, Fetched(raw=_authenticated(first), arrived_at=bkk(2026, 11, 26, 9))).outcome == "command"  # type: ignore[union-attr]
        compose_queued_receipts(app)
        with app.sessions() as s:
            answer = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "staff")).one()
        sent = email_lib.message_from_bytes(answer.raw)
        assert "[CR-2569-11]" in answer.subject and digest.message_id in str(sent["References"])
        again = make_mail(sender=CLERK, to=SECRETARIAT, subject=f"Re: {answer.subject}", date_=bkk(2026, 11, 26, 10),
                          body="ยกเว้น HPC03 เหตุผล น้ำท่วม",  # no month: the thread's
                          headers={"In-Reply-To": answer.message_id,
                                   "References": " ".join([*str(sent['References']).split(), answer.message_id])})
        assert process_one(app, Fetched(raw=_authenticated(again), arrived_at=bkk(2026, 11, 26, 10))).outcome == "command"  # type: ignore[union-attr]
    with app.sessions() as s:
        assert sorted(s.execute(select(Exemption.unit_code, Exemption.period)).all()) == [
            ("HPC02", "2026-11"), ("HPC03", "2026-11")]


def test_a_staff_reply_from_the_bots_own_address_commands(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    """The secretariat reads the bot's mailbox and replies to the digest from that same address (DIGEST_TO and
    STAFF_EMAILS left at the mailbox, as `init` used to write them): the bot knows its own mail by what it wrote
    (signed Message-ID, its loop header), so the clerk's reply commands and is answered; the digest itself,
    arriving in the same mailbox, is set aside as the bot's own."""
    import time_machine

    from bot.storing import process_one
    from intake.models import Exemption
    from intake.context import Fetched

    app = make_app(db_url, TRUSTED_AUTHSERV_ID=OURS, DIGEST_TO=SECRETARIAT)
    with time_machine.travel(bkk(2026, 11, 26, 9), tick=False):
        digest = _digest(app)
        echo = process_one(app, Fetched(raw=digest.raw, arrived_at=bkk(2026, 11, 26, 9)))  # its copy comes back
        assert echo is not None and echo.outcome == "set_aside" and "own mail" in echo.reason
        reply = make_mail(sender=SECRETARIAT, to=SECRETARIAT, subject=f"Re: {digest.subject}",
                          date_=bkk(2026, 11, 26, 9, 5), body="ยกเว้น HPC02 เหตุผล ปิดปรับปรุงอาคาร",
                          headers={"In-Reply-To": digest.message_id, "References": digest.message_id})
        result = process_one(app, Fetched(raw=_authenticated(reply), arrived_at=bkk(2026, 11, 26, 9, 5)))
        assert result is not None and result.outcome == "command", result and result.reason
        ask = make_mail(sender=SECRETARIAT, to=SECRETARIAT, subject="สถานะ", body="ขอสรุปการส่งรายงาน",
                        date_=bkk(2026, 11, 26, 9, 10))
        asked = process_one(app, Fetched(raw=_authenticated(ask), arrived_at=bkk(2026, 11, 26, 9, 10)))
        assert asked is not None and (asked.outcome, asked.command) == ("command", "digest")
    with app.sessions() as s:
        assert s.scalars(select(Exemption.unit_code)).all() == ["HPC02"]
        from mailer.models import OutboxMessage
        assert len(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")).all()) == 2


def test_the_review_alert_says_which_file_could_not_be_read_and_names_the_unit(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    """A unit's report held because its file could not be read (an old .doc): the alert shows the stored reason,
    not "cannot decide which unit or month", and its suggested reply names that unit."""
    import email as email_lib

    import time_machine

    from bot.cycle import run_cycle
    from bot.storing import process_one
    from intake.context import Fetched
    from mailer.models import OutboxMessage

    app = _staff_app(make_app, db_url)
    doc = (DATA / "others" / "poi" / "52117.doc").read_bytes()
    raw = make_mail(sender=f"hpc02@{DOMAIN}", to=SECRETARIAT, subject="รายงาน พ.ย. 69", body="แนบบันทึกข้อความครับ",
                    date_=ARRIVED, attachments=[("บันทึกข้อความ.doc", doc)])
    with time_machine.travel(ARRIVED, tick=False):
        held = process_one(app, Fetched(raw=_authenticated(raw), arrived_at=ARRIVED))
        assert held is not None and held.outcome == "needs_review" and held.unit and held.unit.code == "HPC02"
        assert run_cycle(app, ARRIVED).review_alert
    with app.sessions() as s:
        alert = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "review")).one()
    body = email_lib.message_from_bytes(alert.raw, policy=__import__("email.policy").policy.default)
    text = body.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "ไฟล์ Word รุ่นเก่า" in text and "หน่วยงานใดหรือเดือนใด" not in text
    assert "HPC02" in text and "รหัสหน่วยงาน" not in text


def test_a_large_held_message_resolved_by_a_person_is_read_whole(make_app, sqlite_only_url: str) -> None:  # type: ignore[no-untyped-def]
    """A message over a megabyte from a doubtful From is stored from its header block only; when a person names
    its unit, it is parsed whole (in the sandbox) and its form read."""
    from bot.reread import reread_in
    from bot.storing import process_one
    from mailer.blank_forms import complaint_02
    from intake.context import Fetched

    app = make_app(sqlite_only_url)
    raw = make_mail(sender=f"hpc01@{DOMAIN}, someone@elsewhere.example", to=SECRETARIAT, subject="รายงาน พ.ย. 69",
                    body="แนบแบบ 02 และภาพประกอบ", date_=ARRIVED,
                    attachments=[("Complaint_02.xlsx", complaint_02("ศูนย์อนามัยที่ 1 เชียงใหม่", NOV, {})),
                                 ("ภาพประกอบ.bin", bytes(range(256)) * 5000)])
    assert len(raw) > 1024 * 1024
    held = process_one(app, Fetched(raw=raw, arrived_at=ARRIVED))
    assert held is not None and held.outcome == "needs_review"
    with app.sessions.begin() as s:
        result, _ = reread_in(app, s, held.inbound_id, "resolve", "clerk", "the unit's clerk confirmed by phone",
                              app.registry.get("HPC01"), None, bkk(2026, 11, 21))
    assert result.outcome == "report" and [f.detail for f in result.files if f.kind == "complaint_02"] == ["c02_total"]
