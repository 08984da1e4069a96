"""Never lose a report, never answer twice: the worker killed at each step, servers that fail, two
workers on one mailbox, a database that is locked. See docs/reliability.md."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.samples import make_mail
from bot.service import poll_once
from intake.lease import LeaseState
from intake.models import InboundMessage, Submission
from mailer.models import OutboxMessage
from tests.conftest import DOMAIN, SECRETARIAT, bkk
from tests.paths import ROOT, DATA

pytestmark = pytest.mark.imap


def _mails(dovecot, user: str, n: int, start: int = 0) -> None:  # type: ignore[no-untyped-def]
    for i in range(start, start + n):
        sender = f"hpc0{1 + i % 3}@{DOMAIN}"
        raw = make_mail(sender=sender, to=SECRETARIAT, subject=f"รายงาน {i}", body=f"ไม่มีข้อร้องเรียนครับ ({i})",
                        date_=bkk(2026, 11, 3, 9, i))
        dovecot.append(user, raw, bkk(2026, 11, 3, 9, i))


def _env(db: str, dovecot, user: str, smtp, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    (tmp_path / "units.csv").exists() or (tmp_path / "units.csv").write_text(
        __import__("tests.conftest", fromlist=["UNITS"]).UNITS, encoding="utf-8")
    return {"DATABASE_URL": db, "UNITS_FILE": str(tmp_path / "units.csv"), "DATA_DIR": str(tmp_path / "data"),
            "MAIL_SOURCE": dovecot.url(user), "SMTP_URL": smtp.url, "SECRETARIAT_EMAIL": SECRETARIAT,
            "SECRET_KEY": "test-secret-4f1c9a7e2b6d8035c1e9a4f7b2d6", "MAILBOX_LEASE_SECONDS": "1", "SEND_LEASE_SECONDS": "1",
            "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}


def _run(env: dict[str, str], *args: str, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(ROOT / "tests" / "crash_worker.py"), *args] if crash else \
        [sys.executable, "-m", "bot.cli", *args]
    return subprocess.run(cmd, env={**env, **({"CRASH_AT": crash} if crash else {})}, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _counts(app) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with app.sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (InboundMessage, Submission, OutboxMessage))  # type: ignore[return-value]


@pytest.mark.parametrize("step", ["after_fetch", "after_commit", "after_mark", "during_send"])
def test_sigkill_at_each_step_loses_nothing_and_answers_once(step, dovecot, imap_user, smtp, db_url, make_app,
                                                             tmp_path) -> None:  # type: ignore[no-untyped-def]
    _mails(dovecot, imap_user, 3)
    env = _env(db_url, dovecot, imap_user, smtp, tmp_path)
    app = make_app(db_url)  # migrates the database, and lets the test look into it
    if step == "during_send":
        assert _run(env, "poll").returncode == 0
        killed = _run(env, "send", crash=step)
    else:
        killed = _run(env, "poll", crash=step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    time.sleep(1.2)  # the dead worker's leases (set to 1 s here) expire
    assert _run(env, "poll").returncode == 0
    assert _run(env, "send").returncode == 0

    assert _counts(app) == (3, 3, 3)  # every message stored once, one receipt each
    flags = dovecot.flags(imap_user)
    assert len(flags) == 3 and all("ComplaintBotDone" in f for f in flags.values())
    delivered = Counter(str(m.message["Message-ID"]) for m in smtp.handler.messages)
    assert len(delivered) == 3
    # Only a send killed after the server's OK may go out twice, with the same Message-ID.
    assert sum(delivered.values()) == (4 if step == "during_send" else 3)


def test_imap_server_restart_and_refused_logins_are_survived(imap_user, smtp, db_url, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A Dovecot of its own: stopped, started again, and refusing logins for a while."""
    from bot.runner import StopFlag, run_forever
    from tests import servers

    own = servers.start_dovecot()
    try:
        user = own.new_user()
        app = make_app(db_url, MAIL_SOURCE=own.url(user), SMTP_URL=smtp.url, IDLE_SECONDS="1", SWEEP_SECONDS="10")
        stop = StopFlag()
        worker = threading.Thread(target=run_forever, args=(app, stop), daemon=True)
        worker.start()
        _mails(own, user, 1)
        _wait(lambda: len(smtp.handler.messages) == 1)

        # Restart the server (same mail folder, new process): the worker reconnects by itself.
        own.stop()
        time.sleep(1.5)
        restarted = servers.restart_dovecot(own)
        _mails(restarted, user, 1, start=1)
        _wait(lambda: len(smtp.handler.messages) == 2)

        # Logins refused (the password changed on the server), then allowed again: nothing is skipped.
        original = restarted.users_file.read_text()
        restarted.users_file.write_text(original.replace(servers.PASSWORD, "changed-for-a-while"))
        time.sleep(1.1)  # Dovecot looks at the passwd-file's mtime at most once a second
        subprocess.run(["doveadm", "-c", str(restarted.conf), "kick", user], check=False, capture_output=True)
        raw = make_mail(sender=f"hpc03@{DOMAIN}", to=SECRETARIAT, subject="x", body="ไม่มีข้อร้องเรียน",
                        date_=bkk(2026, 11, 4))
        subprocess.run(["doveadm", "-c", str(restarted.conf), "save", "-u", user], input=raw, check=True)
        time.sleep(3)
        assert len(smtp.handler.messages) == 2
        restarted.users_file.write_text(original)
        _wait(lambda: len(smtp.handler.messages) == 3, timeout=60)
        stop.set()
        worker.join(timeout=30)
        assert _counts(app) == (3, 3, 3)
    finally:
        own.stop()


def _wait(cond, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_uidvalidity_change_rescans_without_reprocessing(dovecot, imap_user, smtp, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    _mails(dovecot, imap_user, 2)
    app = make_app(db_url, MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url)
    source = app.source()
    assert poll_once(app, source).processed == 2
    source.close()
    # The folder is rebuilt from a backup: same messages, new UIDs, new UIDVALIDITY, no keywords.
    c = dovecot.client(imap_user)
    c.select("INBOX")
    typ, data = c.uid("FETCH", "1:*", "(BODY.PEEK[])")
    raws = [item[1] for item in data if isinstance(item, tuple)]
    c.close()
    c.rename("INBOX", "Old")
    c.create("INBOX")
    c.logout()
    for raw in raws:
        dovecot.append(imap_user, raw, bkk(2026, 11, 3))
    source = app.source()
    report = poll_once(app, source)
    source.close()
    assert (report.seen, report.processed, report.duplicates) == (2, 0, 2)
    assert _counts(app) == (2, 2, 2)


def test_two_workers_on_one_mailbox_process_each_message_once(dovecot, imap_user, smtp, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    _mails(dovecot, imap_user, 30)
    apps = [make_app(db_url, MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url) for _ in range(2)]
    reports = []

    def work(app) -> None:  # type: ignore[no-untyped-def]
        source = app.source()
        reports.append(poll_once(app, source))
        source.close()

    threads = [threading.Thread(target=work, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert _counts(apps[0]) == (30, 30, 30)
    assert sum(r.processed for r in reports) == 30


def test_two_mailboxes_with_the_same_folder_name_are_two_sources(dovecot, imap_user, smtp, db_url,  # type: ignore[no-untyped-def]
                                                                  make_app) -> None:
    """One worker per mailbox (two accounts, both INBOX, on one database): neither waits for the other's
    lease, and the second account's UIDs (1, 2, ... again, even under the same UIDVALIDITY) are not
    mistaken for the first's."""
    other = dovecot.new_user()
    _mails(dovecot, imap_user, 5)
    _mails(dovecot, other, 5, start=5)
    reports = []
    for user in (imap_user, other):
        app = make_app(db_url, MAIL_SOURCE=dovecot.url(user), SMTP_URL=smtp.url)
        source = app.source()
        reports.append(poll_once(app, source))  # the first worker's lease is still running meanwhile
        source.close()
    assert [(r.skipped, r.seen, r.processed) for r in reports] == [(False, 5, 5), (False, 5, 5)]
    assert _counts(app) == (10, 10, 10)


def test_without_the_lease_unique_keys_still_store_each_message_once(dovecot, imap_user, smtp, db_url,
                                                                      make_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import bot.service

    monkeypatch.setattr(bot.service, "acquire", lambda *a, **k: LeaseState(True))  # both workers think they hold it
    test_two_workers_on_one_mailbox_process_each_message_once(dovecot, imap_user, smtp, db_url, make_app)


def test_a_locked_database_leaves_the_mailbox_alone(dovecot, imap_user, smtp, tmp_path, make_app) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    path = tmp_path / "locked.sqlite3"
    app = make_app(f"sqlite:///{path}?timeout=0.2", MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url)
    _mails(dovecot, imap_user, 2)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # a backup tool, or another program, holds the database
    source = app.source()
    report = poll_once(app, source)
    assert report.db_unavailable and report.seen == 0
    blocker.execute("COMMIT")
    blocker.close()
    report = poll_once(app, source)
    source.close()
    assert report.processed == 2 and _counts(app) == (2, 2, 2)


def test_a_database_lost_mid_poll_retries_each_message_later(dovecot, imap_user, smtp, tmp_path, make_app,
                                                             monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    import bot.service

    path = tmp_path / "lost.sqlite3"
    app = make_app(f"sqlite:///{path}?timeout=0.2", MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url)
    _mails(dovecot, imap_user, 2)
    blocker = sqlite3.connect(path, isolation_level=None)
    real_acquire = bot.service.acquire

    def acquire_then_lose_the_database(*args, **kwargs):  # type: ignore[no-untyped-def]
        held = real_acquire(*args, **kwargs)
        blocker.execute("BEGIN EXCLUSIVE")
        return held

    monkeypatch.setattr(bot.service, "acquire", acquire_then_lose_the_database)
    source = app.source()
    report = poll_once(app, source)
    assert (report.seen, report.failed, report.processed) == (2, 2, 0)
    assert not any("ComplaintBotDone" in f for f in dovecot.flags(imap_user).values())  # not marked: not lost
    blocker.execute("COMMIT")
    monkeypatch.setattr(bot.service, "acquire", real_acquire)
    report = poll_once(app, source)
    source.close()
    blocker.close()
    assert report.processed == 2 and _counts(app) == (2, 2, 2)  # nothing half-stored


@pytest.mark.slow
def test_run_sigkilled_at_random_moments_loses_nothing(dovecot, imap_user, smtp, db_url, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The real `run` worker SIGKILLed six times at random moments (mid-batch, mid-send, mid-OCR of three scanned
    memos, while its parsers read, while it starts), then left to finish: every report counted once, every receipt delivered (only a send
    killed after the server's OK goes out twice, with the same Message-ID), and nothing waits for a claim to
    expire (the default 5-minute send claim and 60-second mailbox lease are taken over at once from the dead)."""
    import random

    from bot.samples import forms, sample_cases
    from bot.reporting import status_report
    from scoring.periods import Period

    seed = int(os.environ.get("KILL_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    nov = Period(2026, 11)
    for i in range(120):
        sender = f"hpc0{1 + i % 3}@{DOMAIN}"
        files = forms(f"ศูนย์อนามัยที่ {1 + i % 3}", nov, sample_cases(nov, 2)) if i % 2 else []
        raw = make_mail(sender=sender, to=SECRETARIAT, subject=f"รายงาน พ.ย. 69 ฉบับที่ {i}",
                        body=f"ไม่มีข้อร้องเรียนครับ ({i})" if not files else "ส่งแบบรายงาน", date_=bkk(2026, 11, 3, 9, i % 60),
                        attachments=files)
        dovecot.append(imap_user, raw, bkk(2026, 11, 3, 9, i % 60))
    files = DATA / "files"
    for i, scan in enumerate(("memo_scan.png", "memo_scan.jpg", "memo_scan.pdf")):  # read by the OCR queue
        raw = make_mail(sender=f"hpc0{1 + i}@{DOMAIN}", to=SECRETARIAT, subject="บันทึกข้อความ", body="แนบไฟล์สแกน",
                        date_=bkk(2026, 11, 4, 9, i), attachments=[(scan, (files / scan).read_bytes())])
        dovecot.append(imap_user, raw, bkk(2026, 11, 4, 9, i))
    env = {**_env(db_url, dovecot, imap_user, smtp, tmp_path), "MAILBOX_LEASE_SECONDS": "60", "SEND_LEASE_SECONDS": "300",
           "INTAKE_BATCH_MESSAGES": "10", "SEND_INTERVAL_SECONDS": "1", "RECEIPTS_PER_SENDER_PER_HOUR": "100"}
    app = make_app(db_url)

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=ROOT, text=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    for _ in range(6):
        worker = start()
        time.sleep(rng.uniform(0.3, 2.5))
        worker.kill()
        worker.wait(10)
    worker = start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with app.sessions() as s:
                stored = s.scalar(select(func.count()).select_from(InboundMessage))
                pending = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent"))
                scanning = s.scalar(select(func.count()).select_from(InboundMessage)
                                    .where(InboundMessage.scans_pending))
            if stored == 123 and pending == scanning == 0 and \
                    len({str(m.message["Message-ID"]) for m in smtp.handler.messages}) >= 123:
                break
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert (stored, pending) == (123, 0), f"seed {seed}: {stored} stored, {pending} unsent\n{err[-2000:]}"
    with app.sessions() as s:
        outcomes = Counter(s.scalars(select(InboundMessage.outcome)))
        scans_waiting = s.scalar(select(func.count()).select_from(InboundMessage).where(InboundMessage.scans_pending))
        odd = s.execute(select(InboundMessage.subject, InboundMessage.outcome, InboundMessage.reason, InboundMessage.problems)
                        .where(InboundMessage.outcome != "report")).all()
    assert outcomes == {"report": 123} and scans_waiting == 0, f"seed {seed}: {outcomes} {odd}"
    delivered = Counter(str(m.message["Message-ID"]) for m in smtp.handler.messages)
    assert len(delivered) == 123, f"seed {seed}"
    assert sum(delivered.values()) - 123 <= 6, f"seed {seed}: {delivered.most_common(3)}"  # at most one per kill
    status = {u["unit"]: u["status"] for u in status_report(app, nov, bkk(2026, 11, 27))["units"]}
    assert status["HPC01"] == status["HPC02"] == status["HPC03"] == "on_time", f"seed {seed}"
