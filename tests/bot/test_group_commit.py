"""Group commit with look-ahead, on SQLite and PostgreSQL: a batch of messages stored in few transactions,
each message's files read in the sandbox while earlier ones are stored, and no message able to spoil
another's outcome."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import bot.lookahead
import bot.storing
import intake.pipeline
import intake.state
import intake.store
from bot.lookahead import LookAhead
from bot.samples import forms, make_mail, sample_cases
from bot.storing import process_batch
from intake.decisions import case_rows
from intake.models import InboundMessage, ProcessingAttempt, Submission
from tests.stored import stored_cases
from intake.pipeline import ingest
from intake.context import Fetched, IngestResult
from mailer.models import OutboxMessage
from scoring.periods import Period
from tests import servers
from tests.conftest import DOMAIN, SECRETARIAT, bkk, record_tasks

NOV = Period(2026, 11)
NAMES = {"hpc01": "ศูนย์อนามัยที่ 1 เชียงใหม่", "hpc02": "ศูนย์อนามัยที่ 2 พิษณุโลก", "hpc03": "ศูนย์อนามัยที่ 3 นครสวรรค์"}


def _mail(sender: str, i: int, **kw: object) -> Fetched:
    when = bkk(2026, 11, 20) + timedelta(minutes=i)
    local = sender.split("@")[0]
    attachments = kw.pop("attachments", forms(NAMES.get(local, "หน่วยงานอื่น"), NOV, sample_cases(NOV, 2 + i % 3)))
    raw = make_mail(sender=sender, to=SECRETARIAT, subject=f"รายงาน พ.ย. 69 ฉบับที่ {i}", body="ขอส่งรายงานครับ",
                    date_=when, attachments=attachments, **kw)  # type: ignore[arg-type]
    return Fetched(raw=raw, arrived_at=when, source="test", uidvalidity=1, uid=str(i + 1))


def _folds(session) -> dict[int, object]:  # type: ignore[no-untyped-def]
    """Each submission's fold state as what it means (its instants compared as instants, whatever their zone)."""
    from scoring.status import Folder

    def meaning(state):  # type: ignore[no-untyped-def]
        folder = Folder.load(state) if state is not None else None
        return None if folder is None else (folder.result(), folder.c01_rows, folder.c02_total, folder.nil)

    return {row[0]: meaning(row[1]) for row in session.execute(select(Submission.id, Submission.fold_state))}


def _stored_and_rebuilt(app):  # type: ignore[no-untyped-def]
    """HPC01's November fold states as stored, and as a rebuild of the chain gives them (rolled back)."""
    with app.sessions() as s:
        stored = _folds(s)
        intake.state.refresh_fold_states(s, "HPC01", "2026-11")
        s.flush()
        rebuilt = _folds(s)
        s.rollback()
    return stored, rebuilt


def test_a_batch_is_stored_in_order_and_a_failure_costs_only_its_message(db_url, make_app,  # type: ignore[no-untyped-def]
                                                                          monkeypatch) -> None:
    app = make_app(db_url)
    batch = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(12)]
    batch[4] = _mail("stranger@example.com", 4)  # a stranger (outside TRUSTED_DOMAINS): stored unread, its files never reach a parser
    batch[7] = _mail(f"hpc02@{DOMAIN}", 7)  # its parse will fail (a bug, say): quarantined alone
    batch.append(batch[1])  # the same message twice in one batch: stored once
    poisoned = batch[7].raw
    real_prepare = bot.lookahead.prepare
    read_by_parsers: list[str] = []
    real_submit = app.parsers.submit

    def prepare(fetched, ctx, **kw):  # type: ignore[no-untyped-def]
        if fetched.raw == poisoned:
            raise RuntimeError("parser bug on message 8")
        return real_prepare(fetched, ctx, **kw)

    def submit(fn, what, *args):  # type: ignore[no-untyped-def]
        if fn.__name__ == "read_messages":  # a group's task: its reader, once per message it carries
            read_by_parsers.extend([what.__name__] * len(args[0]))
        else:
            read_by_parsers.append(f"{fn.__name__}{' (stranger)' if what == batch[4].raw else ''}")
        return real_submit(fn, what, *args)

    monkeypatch.setattr(bot.lookahead, "prepare", prepare)
    monkeypatch.setattr(app.parsers, "submit", submit)
    results = process_batch(app, batch)

    outcomes = [r.outcome if r else None for r in results]
    assert outcomes == ["report"] * 4 + ["set_aside"] + ["report"] * 2 + ["quarantined"] + ["report"] * 4 + [None]
    assert "parser bug on message 8" in results[7].reason  # type: ignore[union-attr]
    # Every unit message (the one stored twice too) is parsed and read with its files, its bytes sent once
    # (a few unit messages to a task); the stranger's is parsed alone, its files never read.
    assert sorted(read_by_parsers) == ["parse_message (stranger)"] + ["read_message"] * 12
    with app.sessions() as s:
        stored = list(s.scalars(select(InboundMessage.uid).order_by(InboundMessage.id)))
        assert stored == [str(i + 1) for i in range(12)]  # in the mailbox's order
        assert s.scalar(select(func.count()).select_from(Submission)) == 10
        assert s.scalar(select(func.count()).select_from(ProcessingAttempt)) == 0  # every marker cleared
        receipts = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "receipt"))
    assert receipts == 11  # every unit message is answered, the quarantined one too; the stranger is not


def test_the_look_ahead_is_bounded_in_messages_and_bytes(sqlite_only_url, make_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app = make_app(sqlite_only_url)
    batch = [_mail(f"hpc01@{DOMAIN}", i) for i in range(LookAhead.MESSAGES + 6)]
    ahead = LookAhead(app.intake, batch)  # a batch fetched whole: up to FETCHING go to the parsers at once
    held: list[int] = []
    while ahead.pending:
        ahead.next()
        held.append(len(ahead.ready) + len(ahead.parsing))
    assert max(held) == min(len(batch), LookAhead.FETCHING) - 1
    monkeypatch.setattr(LookAhead, "FETCHING", 8)
    ahead = LookAhead(app.intake, batch)  # while it is stored, MESSAGES ahead
    held = []
    while ahead.pending:
        ahead.next()
        held.append(len(ahead.ready) + len(ahead.parsing))
    assert max(held) == ahead.MESSAGES  # the parsers always have the next messages to read
    monkeypatch.setattr(LookAhead, "BYTES", 3 * len(batch[0].raw))
    ahead = LookAhead(app.intake, batch)
    held = []
    while ahead.pending:
        ahead.next()
        held.append(ahead.ready_bytes)
    assert 0 < max(held) <= 3 * len(batch[0].raw) + max(len(f.raw) for f in batch)
    monkeypatch.setattr(LookAhead, "BYTES", 64 * 1024 * 1024)
    monkeypatch.setattr(LookAhead, "FETCHING_BYTES", 5 * len(batch[0].raw))
    ahead = LookAhead(app.intake, batch)  # while fetched: bounded in bytes the tighter way
    assert 0 < ahead.ready_bytes <= 5 * len(batch[0].raw) + max(len(f.raw) for f in batch) < ahead.BYTES


@pytest.mark.parametrize("batch_ms", ["1", "10000"])
def test_short_transactions_store_the_same_as_one(db_url, make_app, batch_ms: str) -> None:  # type: ignore[no-untyped-def]
    """INTAKE_BATCH_MS bounds how long other writers wait; it must not change what is stored."""
    app = make_app(db_url, INTAKE_BATCH_MS=batch_ms)
    results = process_batch(app, [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(9)])
    assert [r.outcome for r in results if r] == ["report"] * 9
    assert [r.rows for r in results if r] == [2 + i % 3 for i in range(9)]


def test_a_message_another_worker_stores_meanwhile_is_theirs_not_quarantined(db_url, make_app, monkeypatch,  # type: ignore[no-untyped-def]
                                                                              caplog) -> None:
    """Between the batch's look-up of what is stored and its insert, another worker stores one of its messages:
    the unique key refuses the second copy and the batch leaves it to them (no quarantine, no error, no
    second receipt). Fails when a statement run on the driver's cursor raises the driver's own error."""
    import bot.storing

    app = make_app(db_url)
    batch = [_mail(f"hpc0{1 + i}@{DOMAIN}", i) for i in range(3)]
    real_mark = bot.storing._mark_batch

    def mark_after_another_worker(app_, marked):  # type: ignore[no-untyped-def]
        assert bot.storing.process_one(app_, batch[1]) is not None  # "another worker", committed
        return real_mark(app_, marked)

    monkeypatch.setattr(bot.storing, "_mark_batch", mark_after_another_worker)
    results = process_batch(app, batch)
    assert [r.outcome if r else None for r in results] == ["report", None, "report"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 3
        assert s.scalar(select(func.count()).select_from(InboundMessage).where(
            InboundMessage.outcome == "quarantined")) == 0
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 3


def test_a_message_that_kills_its_mime_parser_costs_only_itself(db_url, make_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A batch's messages are MIME-parsed in the sandbox: one whose parse kills the worker is quarantined
    unread (its body is not parsed again in this process), the pool replaces the worker, the rest are stored."""
    from tests import hostile_files

    app = make_app(db_url)
    batch = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(LookAhead.IN_SANDBOX_FROM + 2)]  # a backlog's batch
    killer = _mail(f"hpc03@{DOMAIN}", 2)
    batch[2] = Fetched(raw=killer.raw.replace(b"\nSubject:", b"\n" + hostile_files.PARSER_KILLER + b"\nSubject:", 1),
                       arrived_at=killer.arrived_at, source="test", uidvalidity=1, uid="3")
    assert hostile_files.PARSER_KILLER in batch[2].raw
    monkeypatch.setattr(bot.lookahead, "parse_message", hostile_files.parse_or_die)
    monkeypatch.setattr(bot.lookahead, "read_message", hostile_files.read_or_die)
    tasks = record_tasks(app, monkeypatch)
    results = process_batch(app, batch)
    # Four messages to a task; the members of the task that died are parsed once more alone (the killer dies
    # again), and the others' files read one per task.
    assert tasks.started == 3 + 4 + 3 * 2
    assert sorted(tasks) == ["parse_or_die"] * 4 + ["read_attachment"] * 3 * 2 + ["read_or_die"] * len(batch)
    assert [r.outcome if r else None for r in results] == ["report", "report", "quarantined"] + ["report"] * 7
    assert "SandboxFailure" in results[2].reason  # type: ignore[union-attr]
    with app.sessions() as s:
        kept = s.scalar(select(InboundMessage).where(InboundMessage.uid == "3"))
        assert kept is not None and kept.raw == batch[2].raw and kept.from_addr == f"hpc03@{DOMAIN}"


def test_a_reading_that_raises_in_a_groups_task_costs_only_its_message(db_url, make_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A backlog's unit messages are read a few to a task: one whose reading raises is answered with its error
    in its place (quarantined, kept), its group-mates' readings come back from the same task, nothing is read
    twice."""
    from tests import hostile_files

    app = make_app(db_url)
    batch = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(LookAhead.IN_SANDBOX_FROM + 2)]
    bad = _mail(f"hpc01@{DOMAIN}", 5)
    batch[5] = Fetched(raw=bad.raw.replace(b"\nSubject:", b"\n" + hostile_files.PARSER_KILLER + b"\nSubject:", 1),
                       arrived_at=bad.arrived_at, source="test", uidvalidity=1, uid="6")
    monkeypatch.setattr(bot.lookahead, "read_message", hostile_files.read_or_raise)
    tasks = record_tasks(app, monkeypatch)
    results = process_batch(app, batch)
    assert [r.outcome if r else None for r in results] == ["report"] * 5 + ["quarantined"] + ["report"] * 4
    assert "reader bug on this message" in results[5].reason  # type: ignore[union-attr]
    assert tasks == ["read_or_raise"] * len(batch) and tasks.started == 3  # 4 + 4 + 2, none again


def test_a_few_messages_are_parsed_here_without_starting_the_parsers(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """Between backlogs mail trickles in: a small batch of plain mail is MIME-parsed in this process, and the
    parser workers (a process start each) are not started for messages that have no files to read."""
    app = make_app(db_url)
    batch = [_mail(f"hpc0{1 + i}@{DOMAIN}", i, attachments=[]) for i in range(3)]
    results = process_batch(app, batch)
    assert [r.outcome for r in results if r] == ["no_report"] * 3
    assert not app.parsers.started


def test_a_message_over_the_size_limit_is_answered_too_large_not_parsed_by_a_worker(db_url, make_app,  # type: ignore[no-untyped-def]
                                                                                     monkeypatch) -> None:
    app = make_app(db_url, MAX_MESSAGE_MB="1")
    batch = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(LookAhead.IN_SANDBOX_FROM + 1)]
    big = _mail(f"hpc02@{DOMAIN}", 4, attachments=[("scan.bin", b"\x00" * (1024 * 1024 + 1))])
    batch[4] = big
    parsed_by_workers: list[int] = []
    real_submit = app.parsers.submit

    def submit(fn, what, *args):  # type: ignore[no-untyped-def]
        if isinstance(what, bytes):
            parsed_by_workers.append(len(what))
        elif fn.__name__ == "read_messages":  # a group's task: every message it carries
            parsed_by_workers.extend(len(raw) for raw, _ in args[0])
        return real_submit(fn, what, *args)

    monkeypatch.setattr(app.parsers, "submit", submit)
    results = process_batch(app, batch)
    assert results[4] is not None and results[4].outcome == "needs_review"
    assert [p.code for p in results[4].problems] == ["message_too_large"]
    assert len(big.raw) not in parsed_by_workers and len(parsed_by_workers) == len(batch) - 1
    assert [r.outcome for i, r in enumerate(results) if r and i != 4] == ["report"] * (len(batch) - 1)


def test_a_message_whose_storing_fails_midway_leaves_nothing_half_written(db_url, make_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """ingest fails for one message of a batch after it wrote its rows: what it wrote goes with its savepoint,
    the message is kept quarantined (and answered), and its neighbours in the same transaction are stored."""
    import bot.storing

    app = make_app(db_url)
    batch = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(5)]
    real_ingest = bot.storing.ingest

    def ingest(session, fetched, ctx, **kw):  # type: ignore[no-untyped-def]
        result = real_ingest(session, fetched, ctx, **kw)
        if fetched.uid == "3":
            raise RuntimeError("storing bug after the rows were written")
        return result

    monkeypatch.setattr(bot.storing, "ingest", ingest)
    results = process_batch(app, batch)
    assert [r.outcome if r else None for r in results] == ["report", "report", "quarantined", "report", "report"]
    assert "storing bug" in results[2].reason  # type: ignore[union-attr]
    with app.sessions() as s:
        kept = list(s.scalars(select(InboundMessage).where(InboundMessage.uid == "3")))
        assert [m.outcome for m in kept] == ["quarantined"]  # one row: the report written first was rolled back
        assert s.scalar(select(func.count()).select_from(Submission).where(Submission.inbound_id == kept[0].id)) == 0
        assert s.scalar(select(func.count()).select_from(Submission)) == 4
        receipts = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "receipt"))
    assert receipts == 5


def test_a_write_the_database_refuses_fails_its_transaction_which_is_stored_again_carefully(  # type: ignore[no-untyped-def]
        db_url, make_app, monkeypatch, caplog) -> None:
    """A transaction of a batch goes without a savepoint a message. When the database refuses one message's write
    (on PostgreSQL the write is owed, so the error comes back with a later message's statement or at COMMIT, not
    its own), the whole transaction is rolled back and its messages are stored again, each in its savepoint, and
    so is the batch's rest: only the messages at fault are quarantined, each of their neighbours is stored once, with
    one receipt, and read anew (what the failed transaction did with it is not reused); a second failing message
    costs no second rollback."""
    import logging

    app = make_app(db_url, INTAKE_BATCH_MS="10000")  # one transaction for the batch, however slow the machine
    batch = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(6)]
    real_row, real_ingest = intake.store.inbound_row, bot.storing.ingest
    ingested: list[str] = []

    def inbound_row(fetched, mail, outcome, reason):  # type: ignore[no-untyped-def]
        row = real_row(fetched, mail, outcome, reason)
        if fetched.uid in ("2", "4") and outcome != "quarantined":
            row.sha256 = None  # NOT NULL: refused by the database itself, as an unstorable value would be
        return row

    def ingest(session, fetched, ctx, **kw):  # type: ignore[no-untyped-def]
        ingested.append(fetched.uid)
        return real_ingest(session, fetched, ctx, **kw)

    monkeypatch.setattr(intake.store, "inbound_row", inbound_row)
    monkeypatch.setattr("intake.pipeline.inbound_row", inbound_row)
    monkeypatch.setattr(bot.storing, "ingest", ingest)
    with caplog.at_level(logging.WARNING, logger="complaint_bot.intake"):
        results = process_batch(app, batch)
    assert [r.outcome if r else None for r in results] == ["report", "quarantined", "report", "quarantined",
                                                          "report", "report"]
    assert "IntegrityError" in results[1].reason and "IntegrityError" in results[3].reason  # type: ignore[union-attr]
    assert len([r for r in caplog.records if "stored again, each in its savepoint" in r.getMessage()]) == 1
    assert ingested == ["1", "2", "1", "2", "3", "4", "5", "6"]
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 6
        kept = s.scalars(select(InboundMessage).where(InboundMessage.uid == "4")).one()
        assert kept.outcome == "quarantined" and kept.raw == batch[3].raw  # kept whole for a person, not dropped
        assert s.scalar(select(func.count()).select_from(Submission)) == 4
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "receipt")) == 6
        assert s.scalar(select(func.count()).select_from(ProcessingAttempt)) == 0
        assert len(stored_cases(s)) == sum(r.rows for r in results if r and r.outcome == "report")


def test_the_databases_trouble_while_a_message_is_stored_is_retried_not_quarantined(db_url, make_app,  # type: ignore[no-untyped-def]
                                                                                   monkeypatch) -> None:
    """A deadlock (two workers folding two unit-months in opposite orders), a lost connection: an operational
    error of the database while a message is stored is not the message's fault. Its transaction fails and its
    messages are stored when tried again, by the batch or alone, none quarantined; what the transactions before it
    stored stands."""
    import sqlite3

    import psycopg
    from sqlalchemy.exc import DBAPIError

    import bot.storing

    app = make_app(db_url, INTAKE_BATCH_MS="10000")
    batch = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(4)]
    real_ingest = bot.storing.ingest
    failing = {"3"}
    postgres = db_url.startswith("postgresql")

    def ingest(session, fetched, ctx, **kw):  # type: ignore[no-untyped-def]
        if fetched.uid in failing:  # as each driver says it
            cause = (psycopg.errors.DeadlockDetected("deadlock detected") if postgres
                     else sqlite3.OperationalError("database is locked"))
            raise DBAPIError.instance("SELECT ...", None, cause, psycopg.Error if postgres else sqlite3.Error)
        return real_ingest(session, fetched, ctx, **kw)

    monkeypatch.setattr(bot.storing, "ingest", ingest)
    results = process_batch(app, batch)
    assert all(isinstance(r, bot.storing.NotStored) for r in results)  # one transaction: all of it again
    alone = bot.storing._alone(app, batch[3])  # each alone, as a later poll tries a batch that failed
    assert isinstance(alone, IngestResult) and alone.outcome == "report"
    assert isinstance(bot.storing._alone(app, batch[2]), bot.storing.NotStored)  # uid 3 fails again: left for later
    failing.clear()
    process_batch(app, batch)
    with app.sessions() as s:
        outcomes = sorted(m.outcome for m in s.scalars(select(InboundMessage)))
    assert outcomes == ["report"] * 4


def _maildir(tmp_path, mails: list[Fetched]):  # type: ignore[no-untyped-def]
    folder = tmp_path / "mail"
    for sub in ("new", "cur", "tmp"):
        (folder / sub).mkdir(parents=True)
    for i, fetched in enumerate(mails):
        (folder / "new" / f"{1_700_000_000 + i}.m{i}.host").write_bytes(fetched.raw)
    return folder


def test_a_backlog_of_large_messages_settles_in_batches_bounded_in_bytes(sqlite_only_url, make_app, tmp_path,  # type: ignore[no-untyped-def]
                                                                          monkeypatch) -> None:
    """A batch is held in memory until it is stored and marked: besides INTAKE_BATCH_MESSAGES it closes at
    BATCH_BYTES of raw messages, and every message is still stored."""
    import bot.fetching
    import bot.service

    mails = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(7)]
    app = make_app(sqlite_only_url, MAIL_SOURCE=f"maildir:{_maildir(tmp_path, mails)}", INTAKE_BATCH_MS="10000")
    largest = max(len(f.raw) for f in mails)
    monkeypatch.setattr(bot.fetching, "BATCH_BYTES", 3 * largest)
    sizes: list[int] = []
    real = bot.service.process_batch

    def counting(app, batch, ahead=None, between=lambda: None):  # type: ignore[no-untyped-def]
        sizes.append(len(batch))
        return real(app, batch, ahead, between)

    monkeypatch.setattr(bot.service, "process_batch", counting)
    source = app.source()
    report = bot.service.poll_once(app, source)
    source.close()
    assert report.processed == 7 and sum(sizes) == 7
    assert max(sizes) <= 4 and len(sizes) >= 2  # never the whole backlog at once (200 messages would be allowed)


def test_a_bounce_in_a_backlog_is_parsed_once_and_never_sent_to_the_readers(sqlite_only_url, make_app,  # type: ignore[no-untyped-def]
                                                                            monkeypatch) -> None:
    """Screening from the header block sends a robot's message (a bounce) the old way, without parsing its
    delivery report: `prepare` parses it once, here; its attachment never reaches a reader."""
    import intake.screening
    from tests.bot.test_month import _bounce

    app = make_app(sqlite_only_url)
    batch = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(LookAhead.IN_SANDBOX_FROM + 1)]
    batch[2] = Fetched(raw=_bounce(f"hpc02@{DOMAIN}", "<not-ours@example.com>"), arrived_at=batch[2].arrived_at,
                       source="test", uidvalidity=1, uid="3")
    parsed: list[int] = []
    real_parse_bounce = intake.screening.parse_bounce

    def counting(raw):  # type: ignore[no-untyped-def]
        parsed.append(len(raw))
        return real_parse_bounce(raw)

    monkeypatch.setattr(intake.screening, "parse_bounce", counting)
    tasks = record_tasks(app, monkeypatch)
    results = process_batch(app, batch)
    assert parsed == [len(batch[2].raw)]
    assert results[2] is not None and results[2].outcome == "set_aside"
    assert sorted(tasks) == ["parse_message"] + ["read_message"] * (len(batch) - 1)


def test_a_failed_message_leaves_no_case_sheet_and_a_sheet_is_read_in_its_own_transaction(db_url, make_app,  # type: ignore[no-untyped-def]
                                                                                         monkeypatch) -> None:
    """A message's Complaint_01 rows go as one document with its submission, in its savepoint (on PostgreSQL
    owed to the next statement): a message that fails after its submission was written is rolled back with its
    savepoint, sheet and all; every sheet belongs to a stored submission; a digest built in the same transaction
    reads a sheet written in it."""
    app = make_app(db_url, INTAKE_BATCH_MS="10000")  # one transaction for the batch, however slow the machine
    batch = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(9)]
    real_store = intake.pipeline.store_submission

    def store_submission(session, sub, doc):  # type: ignore[no-untyped-def]
        real_store(session, sub, doc)
        if sub.inbound_id and session.get(InboundMessage, sub.inbound_id).uid == "6":
            raise RuntimeError("a bug after the sheet was written")

    monkeypatch.setattr("intake.pipeline.store_submission", store_submission)
    results = process_batch(app, batch)

    assert [r.outcome if r else None for r in results] == ["report"] * 5 + ["quarantined"] + ["report"] * 3
    expected = sum(r.rows for r in results if r and r.outcome == "report")
    with app.sessions() as s:
        cases = stored_cases(s)
        assert len(cases) == expected
        subs = set(s.scalars(select(Submission.id)))
        assert len(subs) == 8 and {sub_id for sub_id, _ in cases} == subs  # the quarantined message has none

    with app.sessions() as s:  # a sheet written and read in one transaction
        late = _mail(f"hpc01@{DOMAIN}", 20)
        result = ingest(s, late, app.intake)
        sub_id = s.scalar(select(Submission.id).where(Submission.inbound_id == result.inbound_id))
        assert len(list(case_rows(s, [sub_id]))) == result.rows > 0
        s.rollback()
    with app.sessions() as s:
        assert len(stored_cases(s)) == expected  # rolled back with its transaction


@pytest.mark.slow
def test_a_units_report_folded_as_messages_are_stored_is_the_full_fold_also_out_of_order(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """Each submission keeps its unit-month's report folded up to it (the receipt's report, O(1) a message). On
    PostgreSQL a submission is folded before its insert (its id reserved), which carries the state; on SQLite
    after it. Either way, with reports arriving out of order (a message delayed in transit is stored after a
    newer one), in one batch and across batches, every state is the one a rebuild of the chain gives."""
    app = make_app(db_url, INTAKE_BATCH_MS="10000")
    unit = f"hpc01@{DOMAIN}"

    for minutes in ([0, 5, 2], [7, 1, 9, 3, 8]):  # 2 arrived before 5 but is stored after it; so are 1, 3 and 8
        results = process_batch(app, [_mail(unit, i) for i in minutes])
        assert all(r is not None and r.outcome == "report" for r in results)
        stored, rebuilt = _stored_and_rebuilt(app)
        assert None not in stored.values() and stored == rebuilt
    assert len(stored) == 8


def test_a_message_of_a_batch_waits_for_postgresql_a_few_times(make_app, postgres_ok) -> None:  # type: ignore[no-untyped-def]
    """Each wait for the server is a round trip, and on two busy cores one cost 0.4-0.8 ms, more than most of the
    statements it carried: a message of a backlog waited 11.7 times (its savepoint's SAVEPOINT and RELEASE, its
    case rows' COPY twice, and one wait for each other statement); then 3.8 (the savepoint's statements and the
    fold state's update go with the next statement, the batch's case rows in one COPY, the recipient's hourly
    count once a second); then 2.7 (the fold's look-up and the unit's review look-up in one pipeline); now 2.6:
    the receipt's insert owed too (nobody reads its id). 10.6 statements, as before: the fold state goes in the
    submission's insert (not an UPDATE after it), and the unit-month's fold lock (in the look-ups' wait) came in.
    Now 1.6 waits and 8.6 statements: a transaction goes without a savepoint a message (stored again with them only
    when a message fails), so a message's writes go with the next message's look-ups. Then 7.6 statements: the
    batch's processing markers in one statement (psycopg's executemany sent one a row); 4.6: a message's inserts
    and the next message's row in one statement (db/owed.py `_merged`). Now 0.63 waits and 1.93 statements: a
    transaction reads a unit-month's newest part and the month's waiting messages once, and knows them after that
    (intake/state.py `_Memo`; these 30 messages are three units' months). Counted from the protocol, not timed."""
    if not postgres_ok:
        servers.unavailable("PostgreSQL on 127.0.0.1:5432")
    name, url = servers.create_pg_database()
    try:
        app = make_app(url, INTAKE_BATCH_MS="10000")
        process_batch(app, [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(3)])  # workers and caches warm
        batch = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", 10 + i) for i in range(30)]
        trips = servers.RoundTrips(app.sessions.kw["bind"])
        try:
            results = process_batch(app, batch)
            per_message, statements = trips.count / len(batch), trips.statements / len(batch)
        finally:
            trips.close()
        assert all(r is not None and r.outcome == "report" for r in results)
        assert per_message <= 0.7, per_message
        assert statements <= 2.0, statements
    finally:
        app.close()
        servers.drop_pg_database(name)


def test_the_next_batch_goes_to_the_parsers_while_a_batch_is_stored(sqlite_only_url, make_app, tmp_path,  # type: ignore[no-untyped-def]
                                                                    monkeypatch) -> None:
    """While a batch is stored, the next batch's first messages are fetched and handed to the parser workers once
    the stored batch's own are all with them (bot/fetching.py): at a batch's end the workers read on instead of
    idling through its commit, its marks on the server and the next fetch. Every message is still stored once,
    in the mailbox's order, each batch marked on the server only after it is committed."""
    import bot.service

    mails = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(30)]
    app = make_app(sqlite_only_url, MAIL_SOURCE=f"maildir:{_maildir(tmp_path, mails)}", INTAKE_BATCH_MESSAGES="10",
                   INTAKE_BATCH_MS="10000")
    uid_of = {f.raw: i for i, f in enumerate(mails)}
    events: list[tuple[str, list[int]]] = []
    real_submit, real_process = app.parsers.submit, bot.service.process_batch

    def submit(fn, what, *args):  # type: ignore[no-untyped-def]
        raws = [raw for raw, _ in args[0]] if fn.__name__ == "read_messages" else [what]
        events.append(("parsing", [uid_of[raw] for raw in raws if raw in uid_of]))
        return real_submit(fn, what, *args)

    def settling(app_, batch, ahead=None, between=lambda: None):  # type: ignore[no-untyped-def]
        events.append(("storing", [uid_of[f.raw] for f in batch]))
        results = real_process(app_, batch, ahead, between)
        events.append(("stored", [uid_of[f.raw] for f in batch]))
        return results

    monkeypatch.setattr(app.parsers, "submit", submit)
    monkeypatch.setattr(bot.service, "process_batch", settling)
    source = app.source()
    marked: list[int] = []
    real_mark = source.mark_all
    monkeypatch.setattr(source, "mark_all", lambda batch: (marked.extend(uid_of[f.raw] for f in batch),
                                                            real_mark(batch)))
    report = bot.service.poll_once(app, source)
    source.close()

    assert report.processed == 30 and marked == list(range(30))
    batches = [uids for kind, uids in events if kind == "storing"]
    assert batches == [list(range(0, 10)), list(range(10, 20)), list(range(20, 30))]
    for k in (1, 2):  # the next batch's first messages were with the parsers before the batch before it was stored
        stored_before = events.index(("stored", batches[k - 1]))
        early = {uid for kind, uids in events[:stored_before] if kind == "parsing" for uid in uids}
        assert early & set(batches[k]), (k, events)
    parsed = [uid for kind, uids in events if kind == "parsing" for uid in uids]
    assert sorted(parsed) == list(range(30))  # each read once
    with app.sessions() as s:
        stored = list(s.scalars(select(InboundMessage.sha256).order_by(InboundMessage.id)))
    assert stored == [f.sha256 for f in mails]  # in the mailbox's order


def test_what_is_fetched_ahead_is_bounded_in_messages_and_bytes(sqlite_only_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """While a batch is stored, the next one is fetched ahead only up to AHEAD messages and AHEAD_BYTES (the stored
    batch holds up to BATCH_BYTES already), TOP_UP at a time, and only once the stored batch's messages are all
    with the workers."""
    from types import SimpleNamespace

    from bot.fetching import BATCH_BYTES, Batches

    app = make_app(sqlite_only_url)

    def backlog(size: int):  # type: ignore[no-untyped-def]
        for i in range(1000):
            yield Fetched(raw=b"x" * size, arrived_at=bkk(2026, 11, 20), source="test", uidvalidity=1, uid=str(i))

    storing, busy = SimpleNamespace(handed_over=True), SimpleNamespace(handed_over=False)
    for size, most in ((1000, Batches.AHEAD), (Batches.AHEAD_BYTES // 3 + 1, 3)):
        batches = Batches(backlog(size), app.intake, limit=200, batch_ms=60_000, on_fetched=lambda: None,
                          renew=lambda: None, stop=lambda: False)
        batches.top_up(busy)  # type: ignore[arg-type]
        assert batches.batch == []
        sizes = []
        for _ in range(30):
            batches.top_up(storing)  # type: ignore[arg-type]
            sizes.append(len(batches.batch))
        assert sizes[0] == min(Batches.TOP_UP, most) and sizes[-1] == most, sizes
        batch, _ = batches.fill()  # the rest of the batch, fetched whole: 200 messages, or BATCH_BYTES of them
        assert len(batch) == min(200, -(-BATCH_BYTES // size))


def test_the_lease_is_renewed_between_batches_never_while_one_is_stored(sqlite_only_url, make_app, tmp_path,  # type: ignore[no-untyped-def]
                                                                         monkeypatch) -> None:
    """A long backlog renews the mailbox's lease every hundred messages fetched. Renewed while a batch was stored
    (its next batch being fetched ahead), the lease's write waited for the batch's transaction, which holds
    SQLite's write lock, through the 30 s busy timeout, and failed the poll (found by `bench intake` at 5,000).
    Now it is renewed only between batches, still about every hundred messages."""
    import bot.service

    mails = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(130)]
    app = make_app(sqlite_only_url, MAIL_SOURCE=f"maildir:{_maildir(tmp_path, mails)}", INTAKE_BATCH_MESSAGES="10",
                   INTAKE_BATCH_MS="10000")
    storing: list[bool] = []
    renewed_while_storing: list[int] = []
    renewals: list[int] = []
    real_process, real_acquire = bot.service.process_batch, bot.service.acquire

    def settling(app_, batch, ahead=None, between=lambda: None):  # type: ignore[no-untyped-def]
        storing.append(True)
        try:
            return real_process(app_, batch, ahead, between)
        finally:
            storing.pop()

    def acquire(*args, **kw):  # type: ignore[no-untyped-def]
        renewals.append(1)
        if storing:
            renewed_while_storing.append(1)
        return real_acquire(*args, **kw)

    monkeypatch.setattr(bot.service, "process_batch", settling)
    monkeypatch.setattr(bot.service, "acquire", acquire)
    source = app.source()
    report = bot.service.poll_once(app, source)
    source.close()
    assert report.processed == 130
    assert renewed_while_storing == [] and len(renewals) == 1 + 1  # taken once, renewed once past a hundred


def test_a_fetch_failing_while_a_batch_is_stored_fails_after_that_batch_is_settled(sqlite_only_url, make_app,  # type: ignore[no-untyped-def]
                                                                                    tmp_path) -> None:
    """The mailbox breaking off while the next batch is fetched ahead does not cost the batch being stored: it is
    stored and marked, then the poll fails as a failing fetch always made it fail; what was fetched of the next
    batch stays unmarked for the next poll."""
    import bot.service
    from intake.errors import SourceError

    mails = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(25)]
    app = make_app(sqlite_only_url, MAIL_SOURCE=f"maildir:{_maildir(tmp_path, mails)}", INTAKE_BATCH_MESSAGES="10",
                   INTAKE_BATCH_MS="10000")
    source = app.source()
    real_fetch = source.fetch_new

    def breaking(known):  # type: ignore[no-untyped-def]
        for i, fetched in enumerate(real_fetch(known)):
            if i == 13:  # while the first batch is stored, the second fetched ahead
                raise SourceError(source.name, "connection reset")
            yield fetched

    source.fetch_new = breaking  # type: ignore[method-assign]
    with pytest.raises(SourceError, match="connection reset"):
        bot.service.poll_once(app, source)
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 10
    source.fetch_new = real_fetch  # type: ignore[method-assign]
    report = bot.service.poll_once(app, source)  # the rest, the messages fetched ahead among them
    source.close()
    assert (report.seen, report.processed) == (15, 15)


@pytest.mark.parametrize("n", [3, 30])
def test_a_backlogs_messages_go_to_the_parsers_while_it_is_fetched(n: int, sqlite_only_url, make_app, tmp_path,  # type: ignore[no-untyped-def]
                                                                    monkeypatch) -> None:
    """The intake loop hands a batch's messages to the parser workers as it fetches them (bot/service.py,
    `LookAhead.add`): when the batch is handed over to be stored, the workers hold a look-ahead's worth of it
    already. A trickle (fewer than IN_SANDBOX_FROM messages) is still MIME-parsed in this process."""
    import bot.service

    mails = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(n)]
    app = make_app(sqlite_only_url, MAIL_SOURCE=f"maildir:{_maildir(tmp_path, mails)}", INTAKE_BATCH_MS="10000")
    in_flight: list[tuple[int, int]] = []  # (messages handed to the parsers, the batch's size) when it is settled
    real = bot.service.process_batch

    def settling(app_, batch, ahead=None, between=lambda: None):  # type: ignore[no-untyped-def]
        assert ahead is not None and len(ahead.waiting) + len(ahead.grouping) + len(ahead.parsing) == len(batch)
        in_flight.append((len(ahead.parsing), len(batch)))  # nothing stored yet
        return real(app_, batch, ahead, between)

    monkeypatch.setattr(bot.service, "process_batch", settling)
    source = app.source()
    report = bot.service.poll_once(app, source)
    source.close()
    assert report.processed == n
    if n < LookAhead.IN_SANDBOX_FROM:
        assert in_flight == [(0, n)]  # parsed here when stored (only their files go to the workers)
    else:  # every message fetched is with the workers (up to FETCHING), but for a group of four still forming
        assert in_flight == [(min(n, LookAhead.FETCHING) // LookAhead.GROUP * LookAhead.GROUP, n)]
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == n


def test_parsers_that_cannot_start_while_a_batch_is_fetched_leave_it_for_the_next_poll(sqlite_only_url, make_app,  # type: ignore[no-untyped-def]
                                                                                        tmp_path, monkeypatch) -> None:
    """Handing a message to the parsers during the fetch fails when their pool cannot start: the poll goes on, the
    batch is left unmarked for the next poll (as when the same failure meets it while it is stored), and the next
    poll, the parsers back, stores every message once."""
    import bot.service

    mails = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(LookAhead.IN_SANDBOX_FROM + 4)]
    app = make_app(sqlite_only_url, MAIL_SOURCE=f"maildir:{_maildir(tmp_path, mails)}", INTAKE_BATCH_MS="10000")
    real_submit = app.parsers.submit

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the parser pool cannot start")

    monkeypatch.setattr(app.parsers, "submit", broken)
    source = app.source()
    first = bot.service.poll_once(app, source)
    assert (first.processed, first.failed) == (0, len(mails))
    monkeypatch.setattr(app.parsers, "submit", real_submit)
    second = bot.service.poll_once(app, source)
    source.close()
    assert (second.processed, second.failed) == (len(mails), 0)
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == len(mails)


def test_parser_workers_that_cannot_run_leave_a_backlog_for_later_quarantining_none(sqlite_only_url, make_app,  # type: ignore[no-untyped-def]
                                                                                     tmp_path, monkeypatch) -> None:
    """Parser workers that fail as they start (the host refuses them memory or a process) fail every task: the
    house's trouble, not a message's. Every message of a backlog was quarantined for it and answered that it could
    not be read; now the poll stops with its batch unmarked, nothing stored, answered or counted against a message,
    over more polls than a message's attempts, and once the workers run again each is stored once, as a report."""
    import bot.service
    import intake.sandbox
    from tests import hostile_files

    mails = [_mail(f"hpc0{1 + i % 3}@{DOMAIN}", i) for i in range(LookAhead.IN_SANDBOX_FROM + 4)]
    app = make_app(sqlite_only_url, MAIL_SOURCE=f"maildir:{_maildir(tmp_path, mails)}", INTAKE_BATCH_MS="10000")
    real_start = intake.sandbox._init_worker
    monkeypatch.setattr(intake.sandbox, "_init_worker", hostile_files.cannot_start)
    source = app.source()
    for _ in range(bot.storing.MAX_ATTEMPTS + 1):
        report = bot.service.poll_once(app, source)
        assert report.parsers_unavailable and (report.processed, report.failed) == (0, len(mails)), report
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert [a.attempts for a in s.scalars(select(ProcessingAttempt))] == [0] * len(mails)
        assert all("ParsersUnavailable" in a.last_error for a in s.scalars(select(ProcessingAttempt)))
    monkeypatch.setattr(intake.sandbox, "_init_worker", real_start)
    report = bot.service.poll_once(app, source)
    source.close()
    assert not report.parsers_unavailable and report.outcomes == {"report": len(mails)}, report
    with app.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == len(mails)
        assert s.scalar(select(func.count()).select_from(ProcessingAttempt)) == 0


def test_two_workers_storing_one_units_month_at_once_fold_each_others_parts(make_app, postgres_ok) -> None:  # type: ignore[no-untyped-def]
    """Two workers (two mailboxes) store reports of the same unit and month at the same moment on PostgreSQL:
    the second folds its report only after the first's transaction ends, so neither state misses the other's
    part (each folded from what was committed, it would: the later one's receipt, and every later one's, would
    show the unit's month without the other's report)."""
    import threading

    if not postgres_ok:
        servers.unavailable("PostgreSQL on 127.0.0.1:5432")
    name, url = servers.create_pg_database()
    try:
        app = make_app(url)
        unit = f"hpc01@{DOMAIN}"
        first, second = _mail(unit, 1), _mail(unit, 2)
        folded_first = threading.Event()
        errors: list[BaseException] = []

        def store(fetched: Fetched, before_commit: threading.Event | None) -> None:
            try:
                with app.sessions.begin() as s:
                    ingest(s, fetched, app.intake)
                    if before_commit is not None:
                        folded_first.set()
                        time.sleep(0.5)  # the other worker folds meanwhile
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        a = threading.Thread(target=store, args=(first, folded_first))
        a.start()
        assert folded_first.wait(30)
        b = threading.Thread(target=store, args=(second, None))
        b.start()
        a.join(30)
        b.join(30)
        assert not errors, errors
        stored, rebuilt = _stored_and_rebuilt(app)
        assert len(stored) == 2 and stored == rebuilt
    finally:
        app.close()
        servers.drop_pg_database(name)


def test_two_workers_that_wait_for_each_others_unit_months_lose_nothing(make_app, postgres_ok) -> None:  # type: ignore[no-untyped-def]
    """Worker A stores HPC01's report then HPC02's in one transaction; worker B, HPC02's then HPC01's, at the same
    moment: each holds the month it folded first and waits for the other's, a deadlock. The server fails one
    transaction; its messages are not quarantined but stored when its batch is tried again, and every month's
    state is the full fold."""
    import threading

    if not postgres_ok:
        servers.unavailable("PostgreSQL on 127.0.0.1:5432")
    name, url = servers.create_pg_database()
    workers = []
    try:
        workers = [make_app(url, INTAKE_BATCH_MS="10000"), make_app(url, INTAKE_BATCH_MS="10000")]
        batches = [[_mail(f"hpc01@{DOMAIN}", 1), _mail(f"hpc02@{DOMAIN}", 2)],
                   [_mail(f"hpc02@{DOMAIN}", 3), _mail(f"hpc01@{DOMAIN}", 4)]]
        first_folded = threading.Barrier(2, timeout=30)
        outcomes: list[list[object]] = [[], []]

        def work(i: int) -> None:
            calls = iter([lambda: first_folded.wait()] + [lambda: None] * 3)
            outcomes[i] = process_batch(workers[i], batches[i], between=lambda: next(calls)())

        threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        failed = [i for i in (0, 1) if any(isinstance(r, bot.storing.NotStored) for r in outcomes[i])]
        assert len(failed) == 1, outcomes  # the server ended the deadlock by failing one of the two
        again = process_batch(workers[failed[0]], batches[failed[0]])  # its next poll
        assert all(isinstance(r, IngestResult) and r.outcome == "report" for r in again), again
        with workers[0].sessions() as s:
            assert sorted(m.outcome for m in s.scalars(select(InboundMessage))) == ["report"] * 4
            for unit in ("HPC01", "HPC02"):
                stored = _folds(s)
                intake.state.refresh_fold_states(s, unit, "2026-11")
                s.flush()
                assert _folds(s) == stored
            s.rollback()
    finally:
        for app in workers:
            app.close()
        servers.drop_pg_database(name)
