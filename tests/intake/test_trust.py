"""Only a unit can make itself count; a crash or a bad address never silences the bot (docs/spec.md, "Trust").

Each attack is followed by the genuine unit's own report, which must count and be answered.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot.samples import make_mail
from bot.service import flush_outbox, poll_once
from bot.storing import process_batch, process_one
from bot.reporting import status_report
from config.msgid import make_message_id
from intake.lease import acquire
from intake.models import InboundMessage, MailboxLease
from intake.context import Fetched
from mailer.models import ContactStatus, OutboxMessage
from mailer.outbox import Envelope, enqueue
from scoring.periods import Period
from tests import servers
from tests.conftest import DOMAIN, SECRETARIAT, CaptureHandler, bkk, compose_queued_receipts
from tests.intake.test_hostile import delivered
from tests.paths import ROOT

NOV = Period(2026, 11)
U1 = f"hpc01@{DOMAIN}"
OURS = "mx.anamai.example.go.th"
GOOD = f"dmarc=pass header.from={DOMAIN}"


def _raw(from_line: str, body: str = "ไม่มีข้อร้องเรียนครับ", subject: str = "รายงาน พ.ย. 69") -> bytes:
    return (f"From: {from_line}\r\nTo: {SECRETARIAT}\r\nSubject: {subject}\r\nMessage-ID: <{abs(hash(from_line))}@x>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"{body}\r\n").encode()


def _status(app, unit: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return next(u for u in status_report(app, NOV, bkk(2026, 11, 30))["units"] if u["unit"] == unit)


def _outbox(app) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    compose_queued_receipts(app)
    with app.sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# --- Forged reports -------------------------------------------------------------------------------

FORGERIES = {
    "unquoted address as display name": f"{U1} <attacker@evil.example>",
    "encoded-word display name": "=?utf-8?q?hpc01=40anamai.example.go.th?= <attacker@evil.example>",
}


@pytest.mark.parametrize("kind", ["maildir", pytest.param("imap", marks=pytest.mark.imap)])
@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forged_report_never_counts_and_the_genuine_one_earns_its_timeliness(
        forgery: str, kind: str, db_url: str, make_app, tmp_path: Path, request: pytest.FixtureRequest) -> None:  # type: ignore[no-untyped-def]
    # The forgery arrives on time and even carries a DMARC pass, for the attacker's own domain.
    forged = delivered(_raw(FORGERIES[forgery]), "dmarc=pass header.from=evil.example")
    genuine = delivered(_raw(U1), GOOD)
    on_time, late = bkk(2026, 11, 20, 9), bkk(2026, 11, 27, 9)
    if kind == "imap":
        dovecot = request.getfixturevalue("dovecot")
        user = dovecot.new_user()
        dovecot.append(user, forged, on_time)
        dovecot.append(user, genuine, late)
        app = make_app(db_url, MAIL_SOURCE=dovecot.url(user), TRUSTED_AUTHSERV_ID=OURS)
    else:
        mail = tmp_path / "mail"
        for sub in ("new", "cur", "tmp"):
            (mail / sub).mkdir(parents=True)
        (mail / "new" / f"{int(on_time.timestamp())}.a.host").write_bytes(forged)
        (mail / "new" / f"{int(late.timestamp())}.b.host").write_bytes(genuine)
        app = make_app(db_url, MAIL_SOURCE=f"maildir:{mail}", TRUSTED_AUTHSERV_ID=OURS)
    assert poll_once(app, app.source()).processed == 2
    with app.sessions() as s:
        forged_row = s.scalars(select(InboundMessage).order_by(InboundMessage.arrived_at)).first()
    assert forged_row is not None and forged_row.outcome == "needs_review" and forged_row.unit_code is None
    assert forged_row.reason.startswith("sender:")
    # The unit is late by its own report: the forgery earned it nothing, and nobody was answered for it.
    assert _status(app, "HPC01")["status"] == "late"
    assert [o.recipients for o in _outbox(app)] == [[U1]]


@pytest.mark.parametrize("results,ok", [
    # Sender-controlled text inside a property value, and a comment, are not results.
    ("smtp.mailfrom=dmarc=pass@evil.example; spf=pass (dmarc=pass) smtp.mailfrom=evil.example; dmarc=fail "
     f"header.from={DOMAIN}", False),
    (f"spf=pass (dmarc=pass) smtp.mailfrom=evil.example; dkim=none; dmarc=fail header.from={DOMAIN}", False),
    # No DMARC policy: only an aligned SPF or DKIM pass vouches.
    (f"spf=fail smtp.mailfrom={DOMAIN}; dkim=none; dmarc=none header.from={DOMAIN}", False),
    (f"spf=pass smtp.mailfrom=bounce.evil.example; dkim=none; dmarc=none header.from={DOMAIN}", False),
    (f"spf=none; dkim=pass header.d={DOMAIN}; dmarc=none header.from={DOMAIN}", True),
    (f"spf=pass smtp.mailfrom=hpc01@{DOMAIN}; dkim=none", True),
    # DMARC pass for another domain does not vouch for this From.
    ("dmarc=pass header.from=evil.example", False),
    (GOOD, True),
])
def test_authentication_results_from_our_server_decide(results: str, ok: bool, db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, TRUSTED_AUTHSERV_ID=OURS)
    result = process_one(app, Fetched(delivered(_raw(U1), results), bkk(2026, 11, 10)))
    assert result is not None and result.outcome == ("report" if ok else "needs_review"), result.reason
    assert bool(_outbox(app)) == ok


def test_only_the_topmost_results_count(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, TRUSTED_AUTHSERV_ID=OURS)
    # Our server's header (fail) on top; the sender's own, with our id and a pass, below our Received line.
    raw = delivered(delivered(_raw(U1), GOOD), f"dmarc=fail header.from={DOMAIN}")
    assert process_one(app, Fetched(raw, bkk(2026, 11, 10))).outcome == "needs_review"  # type: ignore[union-attr]
    # Only the sender's copy, below our Received line (our server added nothing): no verdict.
    planted = (f"Received: from x by {OURS}; Tue, 10 Nov 2026 10:00:00 +0700\r\n"
               f"Authentication-Results: {OURS}; {GOOD}\r\n").encode() + _raw(U1, "ไม่มีข้อร้องเรียน ")
    assert process_one(app, Fetched(planted, bkk(2026, 11, 10))).outcome == "needs_review"  # type: ignore[union-attr]


# --- Bounces --------------------------------------------------------------------------------------

def _bounce(recipient: str, original_id: str) -> bytes:
    from tests.bot.test_month import _bounce as month_bounce

    return month_bounce(recipient, original_id)


def test_only_bounces_of_our_own_messages_count_and_a_reply_clears_the_flag(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    now = datetime.now(UTC)
    ours = make_message_id("test-secret-4f1c9a7e2b6d8035c1e9a4f7b2d6", app.settings.message_id_domain, "reminder", "HPC01", "2026-11", "r1")
    with app.sessions.begin() as s:
        enqueue(s, Envelope("r1", "reminder", [U1], "x", ours, b"x"), now)
    # Forged: a Message-ID we never signed, and one we signed but sent to someone else.
    process_one(app, Fetched(_bounce(U1, "<forged@evil.example>"), bkk(2026, 11, 10)))
    process_one(app, Fetched(_bounce(f"hpc02@{DOMAIN}", ours), bkk(2026, 11, 10, 1)))
    with app.sessions() as s:
        assert s.scalars(select(ContactStatus)).all() == []
    process_one(app, Fetched(_bounce(U1, ours), bkk(2026, 11, 10, 2)))
    with app.sessions() as s:
        assert s.get(ContactStatus, U1).unreachable  # type: ignore[union-attr]
    process_one(app, Fetched(_raw(U1), bkk(2026, 11, 11)))  # the unit writes to us: the address works
    with app.sessions() as s:
        assert not s.get(ContactStatus, U1).unreachable  # type: ignore[union-attr]
    # In one batch (one transaction): a bounce flags the address, the unit's next message clears it.
    process_batch(app, [Fetched(_bounce(U1, ours), bkk(2026, 11, 12)),
                        Fetched(_raw(U1, "ไม่มีข้อร้องเรียน "), bkk(2026, 11, 12, 1))])
    with app.sessions() as s:
        row = s.get(ContactStatus, U1)
        assert row is not None and row.bounces == 2 and not row.unreachable


# --- The outbox -----------------------------------------------------------------------------------

@pytest.fixture
def plain_smtp():  # type: ignore[no-untyped-def]
    """A real aiosmtpd that does not offer SMTPUTF8."""
    handler = CaptureHandler()
    port = servers.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


def test_a_non_ascii_address_fails_alone_and_never_stalls_the_outbox(db_url: str, make_app, plain_smtp, smtp,
                                                                     tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    handler, url = plain_smtp
    app = make_app(db_url, SMTP_URL=url)
    # A stranger inside the trusted domain gets a short notice; this one's address is not ASCII (RFC 6532).
    thai = f"สมชาย@{DOMAIN}"
    internationalised = (f"From: {thai}\r\nTo: " + SECRETARIAT + "\r\nSubject: x\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n\r\nไม่มีข้อร้องเรียน\r\n").encode()
    process_one(app, Fetched(internationalised, bkk(2026, 11, 10, 9)))
    process_one(app, Fetched(_raw(U1), bkk(2026, 11, 10, 10)))
    report = flush_outbox(app)
    assert (report.sent, report.failed, report.retrying) == (1, 1, 0)
    rows = {r.recipients[0]: r for r in _outbox(app)}
    assert rows[thai].status == "failed" and "SMTPUTF8" in rows[thai].last_error
    assert rows[U1].status == "sent" and [m.recipients for m in handler.messages] == [[U1]]
    # Where the server offers SMTPUTF8, the same address is delivered.
    app2 = make_app(db_url.replace("bot.sqlite3", "bot2.sqlite3") if "sqlite" in db_url else db_url, SMTP_URL=smtp.url)
    if "sqlite" in db_url:
        process_one(app2, Fetched(internationalised, bkk(2026, 11, 10, 9)))
        assert flush_outbox(app2).sent == 1 and smtp.handler.messages[0].recipients == [thai]


class ExplodingTransport:
    """A transport that raises what no one planned for, for one recipient."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []

    def open(self) -> None: ...

    def close(self) -> None: ...

    def send(self, raw: bytes, sender: str, recipients: list[str], name: str) -> None:
        if recipients == ["boom@x.example"]:
            raise KeyError("something nobody expected")
        self.sent.append(recipients)


def test_no_exception_type_stalls_the_queue(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    from mailer.outbox import send_due

    app = make_app(db_url)
    now = datetime.now(UTC)
    with app.sessions.begin() as s:
        for key, to in (("a", "boom@x.example"), ("b", U1)):
            enqueue(s, Envelope(key, "receipt", [to], "x", f"<{key}@x>", b"x"), now)
    transport = ExplodingTransport()
    report = send_due(app.sessions, transport, SECRETARIAT)
    assert transport.sent == [[U1]] and report.sent == 1 and report.retrying == 1
    statuses = {r.idempotency_key: r.status for r in _outbox(app)}
    assert statuses == {"a": "pending", "b": "sent"}  # never left in "sending"


def test_digest_requests_are_rate_limited_before_anything_is_built(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, DIGEST_TO=f"chief@{DOMAIN}")
    started = time.monotonic()
    for i in range(50):
        raw = make_mail(sender=f"chief@{DOMAIN}", to=SECRETARIAT, subject="สถานะ", body=f"ขอสถานะ {i}",
                        date_=bkk(2026, 11, 26, 9))
        assert process_one(app, Fetched(raw, bkk(2026, 11, 26, 9, 0, i))).outcome == "command"  # type: ignore[union-attr]
    digests = [o for o in _outbox(app) if o.kind == "digest"]
    assert len(digests) == app.settings.digests_per_recipient_per_hour == 4
    assert time.monotonic() - started < 30


# --- The mailbox lease after a crash ---------------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_dead_holders_lease_is_taken_at_once_and_a_live_one_is_named(db_url: str, make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    now = datetime.now(UTC)
    host = socket.gethostname()
    with app.sessions.begin() as s:
        s.add(MailboxLease(source="maildir", holder=f"{host}:{_dead_pid()}:dead", expires_at=now + timedelta(hours=1)))
    assert acquire(app.sessions, "maildir", app.worker_id, now, timedelta(minutes=5)).held  # no 100 s wait

    # A live holder (this test process, seen from a CLI in another process): named, exit 75 (EX_TEMPFAIL).
    with app.sessions.begin() as s:
        s.get(MailboxLease, "maildir").holder = f"{host}:{os.getpid()}:live"  # type: ignore[union-attr]
    (tmp_path / "mail").mkdir()
    env = {"DATABASE_URL": db_url, "UNITS_FILE": str(tmp_path / "units.csv"), "DATA_DIR": str(tmp_path / "data"),
           "MAIL_SOURCE": f"maildir:{tmp_path / 'mail'}", "SMTP_URL": f"file:{tmp_path / 'sent'}",
           "SECRETARIAT_EMAIL": SECRETARIAT, "SECRET_KEY": "test-secret-4f1c9a7e2b6d8035c1e9a4f7b2d6", "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    busy = subprocess.run([sys.executable, "-m", "bot.cli", "poll"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert busy.returncode == 75 and f"{host}:{os.getpid()}:live" in busy.stderr, busy.stderr
    # After a SIGKILL of that worker, the next poll takes over at once.
    with app.sessions.begin() as s:
        s.get(MailboxLease, "maildir").holder = f"{host}:{_dead_pid()}:killed"  # type: ignore[union-attr]
    again = subprocess.run([sys.executable, "-m", "bot.cli", "poll"], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr  # the killed worker is a pid that no longer exists


def test_sender_strings_in_our_mail_are_short_and_never_links(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    import email
    import email.policy

    app = make_app(db_url)
    name = "https://evil.example/login.xlsx" + "x" * 300 + ".xlsx"
    raw = make_mail(sender=U1, to=SECRETARIAT, subject="ดู www.evil.example ด่วน", body="ส่งรายงาน",
                    date_=bkk(2026, 11, 10), attachments=[(name, b"not a workbook")])
    process_one(app, Fetched(raw, bkk(2026, 11, 10)))
    [receipt] = _outbox(app)
    msg = email.message_from_bytes(receipt.raw, policy=email.policy.default)
    for part in ("plain", "html"):
        text = msg.get_body((part,)).get_content()  # type: ignore[union-attr]
        assert "https://" not in text and "www.evil" not in text and "x" * 100 not in text
        assert "https[:]//evil.example/login.xlsx" in text
