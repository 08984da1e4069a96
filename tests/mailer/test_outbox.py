"""The outbox over a real aiosmtpd: delivery, retries with backoff, permanent failures, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from config.settings import parse_smtp_url
from mailer.compose import build_message
from mailer.models import OutboxMessage
from mailer.outbox import Envelope, enqueue, queue, send_due
from mailer.transport import SmtpTransport
from tests import servers

SENDER = "saraban@anamai.example.go.th"


def _env(key: str, to: str = "hpc01@anamai.example.go.th") -> Envelope:
    raw = build_message(from_addr=SENDER, from_name="สลก.", to=[to], subject="ทดสอบ " + key, text="ข้อความ " * 400,
                        html="<p>ข้อความ</p>", message_id=f"<{key}@anamai.example.go.th>", date=datetime.now(UTC))
    return Envelope(key=key, kind="receipt", recipients=[to], subject="ทดสอบ", message_id=f"<{key}@x>", raw=raw)


def _rows(app) -> dict[str, OutboxMessage]:  # type: ignore[no-untyped-def]
    with app.sessions() as s:
        return {r.idempotency_key: r for r in s.scalars(select(OutboxMessage))}


def test_enqueue_is_idempotent(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    now = datetime.now(UTC)
    with app.sessions.begin() as s:
        assert enqueue(s, _env("k1"), now) is not None
        assert enqueue(s, _env("k1"), now) is None
    with app.sessions.begin() as s:
        assert enqueue(s, _env("k1"), now) is None
    assert list(_rows(app)) == ["k1"]


def test_a_receipt_queued_without_its_id_is_kept_once_limited_alike_and_on_postgresql_waits_for_nothing(
        db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """`queue` (a stored message's receipt, whose id nobody reads): a repeated key is skipped by the database,
    a rate limit drops or holds it as `enqueue`'s does, and on PostgreSQL its insert goes with the next statement
    (no wait for the server of its own) and reaches the database by COMMIT at the latest."""
    from mailer.limits import RateLimits

    app = make_app(db_url)
    now = datetime.now(UTC)
    with app.sessions.begin() as s:
        assert queue(s, _env("k1"), now) and queue(s, _env("k1"), now)
    with app.sessions.begin() as s:
        assert queue(s, _env("k1"), now)
    assert list(_rows(app)) == ["k1"]

    with app.sessions.begin() as s:  # k1 is the hour's first: three more fit in four
        dropped = [queue(s, _env(f"a{i}", f"u{i}@anamai.example.go.th"), now, RateLimits(total=4)) for i in range(5)]
        held = queue(s, Envelope(key="w", kind="receipt", recipients=["w@anamai.example.go.th"], subject="x",
                                 message_id="<w@x>", raw=b"x", waits=True), now, RateLimits(total=4))
    assert dropped == [True] * 3 + [False] * 2 and held
    rows = _rows(app)
    assert sorted(rows) == ["a0", "a1", "a2", "k1", "w"]
    assert rows["w"].next_attempt_at > now + timedelta(minutes=59) >= rows["a0"].next_attempt_at

    if app.sessions.kw["bind"].dialect.name == "postgresql":
        trips = servers.RoundTrips(app.sessions.kw["bind"])
        try:
            with app.sessions.begin() as s:
                queue(s, _env("b0", "b0@anamai.example.go.th"), now)  # the hour's count: once a second
                before = trips.count
                for i in range(1, 4):
                    queue(s, _env(f"b{i}", f"b{i}@anamai.example.go.th"), now)
                assert trips.count == before  # owed, not sent
        finally:
            trips.close()
        assert {"b0", "b1", "b2", "b3"} <= set(_rows(app))


def test_the_hourly_limit_on_all_mail_holds_within_and_across_transactions(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """The total is counted once per transaction and then kept by the transaction's own inserts."""
    from mailer.limits import RateLimits

    app = make_app(db_url)
    limits = RateLimits(total=5)
    now = datetime.now(UTC)
    with app.sessions.begin() as s:
        queued = [enqueue(s, _env(f"a{i}", f"u{i}@anamai.example.go.th"), now, limits) for i in range(4)]
        assert enqueue(s, _env("a0", "u0@anamai.example.go.th"), now, limits) is None  # a repeated key adds nothing
        queued += [enqueue(s, _env(f"b{i}", f"v{i}@anamai.example.go.th"), now, limits) for i in range(3)]
    assert [q is not None for q in queued] == [True] * 5 + [False] * 2
    with app.sessions.begin() as s:  # a new transaction counts again: the hour is full
        assert enqueue(s, _env("c", "w@anamai.example.go.th"), now, limits) is None
    with app.sessions.begin() as s:  # an hour later the window is empty again
        assert enqueue(s, _env("d", "w@anamai.example.go.th"), now + timedelta(hours=1, seconds=1), limits) is not None


def test_the_hours_mail_is_counted_once_per_transaction_and_kept_by_its_inserts(db_url, make_app,  # type: ignore[no-untyped-def]
                                                                                monkeypatch) -> None:
    """A backlog's receipts: every recipient's count was a statement of its own (a round trip each on
    PostgreSQL, for every message of many units' reports). A transaction counts the hour's mail once, for all
    recipients and kinds, and adds what it queues; the 21st receipt of the hour to one recipient still waits an
    hour, in the same transaction and in the next, while other recipients' go at once."""
    import mailer.limits
    from mailer.limits import RateLimits

    counted: list[datetime] = []
    real = mailer.limits.HOURS_MAIL

    class Counting:
        def all(self, connection, params):  # type: ignore[no-untyped-def]
            counted.append(params["since"])
            return real.all(connection, params)

    monkeypatch.setattr(mailer.limits, "HOURS_MAIL", Counting())
    app = make_app(db_url)
    limits = RateLimits(receipt=20)
    now = datetime.now(UTC)
    to = "hpc01@anamai.example.go.th"

    def receipt(key: str, recipient: str = to) -> Envelope:
        return Envelope(key=key, kind="receipt", recipients=[recipient], subject="x", message_id=f"<{key}@x>",
                        raw=b"x", waits=True)

    with app.sessions.begin() as s:
        for i in range(25):
            enqueue(s, receipt(f"r{i}"), now, limits)
        for i in range(30):  # many units' receipts: no statement each
            enqueue(s, receipt(f"o{i}", f"u{i}@anamai.example.go.th"), now, limits)
    assert len(counted) == 1
    with app.sessions.begin() as s:
        enqueue(s, receipt("next"), now, limits)
        enqueue(s, receipt("other", "u0@anamai.example.go.th"), now, limits)
    assert len(counted) == 2
    with app.sessions() as s:
        due = {row.idempotency_key: row.next_attempt_at > now + timedelta(minutes=59)
               for row in s.scalars(select(OutboxMessage))}
    assert [due[f"r{i}"] for i in range(25)] == [False] * 20 + [True] * 5 and due["next"]
    assert not any(due[f"o{i}"] for i in range(30)) and not due["other"]


def test_delivers_once_and_a_failing_recipient_blocks_nobody(db_url, make_app, smtp) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    smtp.handler.reject_rcpt["gone@anamai.example.go.th"] = "550 5.1.1 no such user"
    smtp.handler.reject_rcpt["full@anamai.example.go.th"] = "452 4.2.2 mailbox full"
    now = datetime.now(UTC)
    with app.sessions.begin() as s:
        enqueue(s, _env("gone", "gone@anamai.example.go.th"), now)
        enqueue(s, _env("full", "full@anamai.example.go.th"), now)
        enqueue(s, _env("ok"), now)
    transport = SmtpTransport(parse_smtp_url(smtp.url))
    report = send_due(app.sessions, transport, SENDER)
    assert (report.sent, report.retrying, report.failed) == (1, 1, 1)
    rows = _rows(app)
    assert rows["ok"].status == "sent" and rows["gone"].status == "failed" and "550" in rows["gone"].last_error
    assert rows["full"].status == "pending" and rows["full"].next_attempt_at > now + timedelta(seconds=30)
    assert [m.recipients for m in smtp.handler.messages] == [["hpc01@anamai.example.go.th"]]
    # Running again sends nothing: the retry is not due yet, the rest is settled.
    assert send_due(app.sessions, transport, SENDER).sent == 0
    # Once due, the transient one is retried and goes through.
    del smtp.handler.reject_rcpt["full@anamai.example.go.th"]
    later = lambda: datetime.now(UTC) + timedelta(hours=1)  # noqa: E731
    assert send_due(app.sessions, transport, SENDER, now=later).sent == 1
    assert _rows(app)["full"].attempts == 2


def test_server_down_keeps_everything_for_later(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    now = datetime.now(UTC)
    with app.sessions.begin() as s:
        for i in range(3):
            enqueue(s, _env(f"m{i}"), now)
    dead = SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{servers.free_port()}"), timeout=2)
    report = send_due(app.sessions, dead, SENDER)
    assert (report.sent, report.retrying, report.failed) == (0, 3, 0)
    assert all(r.status == "pending" and "connection failed" in r.last_error for r in _rows(app).values())


def test_transient_failures_give_up_after_max_age(db_url, make_app, smtp) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    smtp.handler.data_reply = "451 4.3.0 try again later"
    with app.sessions.begin() as s:
        enqueue(s, _env("old"), datetime.now(UTC) - timedelta(days=4))
    report = send_due(app.sessions, SmtpTransport(parse_smtp_url(smtp.url)), SENDER)
    assert report.failed == 1 and _rows(app)["old"].status == "failed"


def test_a_crashed_senders_claim_is_taken_over_after_the_lease(db_url, make_app, smtp) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    now = datetime.now(UTC)
    with app.sessions.begin() as s:
        row_id = enqueue(s, _env("claimed"), now)
        assert row_id is not None
        row = s.get(OutboxMessage, row_id)
        assert row is not None
        row.status, row.claimed_until = "sending", now + timedelta(minutes=5)
    transport = SmtpTransport(parse_smtp_url(smtp.url))
    assert send_due(app.sessions, transport, SENDER).sent == 0  # someone else is sending it
    assert send_due(app.sessions, transport, SENDER, now=lambda: now + timedelta(minutes=6)).sent == 1



def test_a_dead_senders_claim_is_taken_over_at_once(db_url, make_app, smtp) -> None:  # type: ignore[no-untyped-def]
    """A sender SIGKILLed mid-send leaves rows `sending` with its name: a process of this host that is gone
    gives them up at once (a live one keeps them until its lease ends)."""
    import socket
    import subprocess
    import sys

    from intake.lease import holder_is_dead

    app = make_app(db_url)
    now = datetime.now(UTC)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with app.sessions.begin() as s:
            for key, pid in (("of-the-dead", int(gone.stdout)), ("of-the-living", alive.pid), ("my-own", 1)):
                row = s.get(OutboxMessage, enqueue(s, _env(key), now))
                assert row is not None
                row.status, row.claimed_until = "sending", now + timedelta(minutes=5)
                row.claimed_by = f"{socket.gethostname()}:{pid}:0badc0de" if pid != 1 else "me:1:x"
        transport = SmtpTransport(parse_smtp_url(smtp.url))
        # "my-own": this sender's claim left by a send cut short (the database went away while it settled).
        report = send_due(app.sessions, transport, SENDER, holder="me:1:x", holder_is_dead=holder_is_dead)
        assert report.sent == 2 and _rows(app)["of-the-dead"].status == _rows(app)["my-own"].status == "sent"
        assert _rows(app)["of-the-living"].status == "sending"
    finally:
        alive.kill()
        alive.wait()


def test_on_postgresql_a_claim_of_a_worker_on_another_host_is_taken_over_when_it_dies(make_app, smtp,  # type: ignore[no-untyped-def]
                                                                                     postgres_ok) -> None:
    """A worker elsewhere holds an advisory lock named after itself for its life: while it lives its claims are
    its own; the moment its session dies (SIGKILL), they are taken over, without waiting for the claim's end."""
    import subprocess
    import sys
    import time as clock

    from tests import servers

    if not postgres_ok:
        servers.unavailable("PostgreSQL on 127.0.0.1:5432")
    name, url = servers.create_pg_database()
    try:
        app = make_app(url)
        holder = "another-host.example:4242:0badc0de"
        other = subprocess.Popen([sys.executable, "-c", (
            "import sys, time; sys.path.insert(0, '.');"
            "from db.engine import make_engine; from intake.lease import Liveness;"
            f"l = Liveness(make_engine({url!r}), {holder!r}); l.hold(); print('held', flush=True); time.sleep(60)")],
            stdout=subprocess.PIPE, text=True)
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        now = datetime.now(UTC)
        with app.sessions.begin() as s:
            row = s.get(OutboxMessage, enqueue(s, _env("elsewhere"), now))
            assert row is not None
            row.status, row.claimed_until, row.claimed_by = "sending", now + timedelta(minutes=5), holder
        transport = SmtpTransport(parse_smtp_url(smtp.url))
        assert app.liveness.is_dead(holder) is False
        assert send_due(app.sessions, transport, SENDER, holder=app.worker_id, holder_is_dead=app.liveness.is_dead).sent == 0
        other.kill()
        other.wait()
        deadline = clock.monotonic() + 10
        while not app.liveness.is_dead(holder) and clock.monotonic() < deadline:
            clock.sleep(0.1)
        assert send_due(app.sessions, transport, SENDER, holder=app.worker_id, holder_is_dead=app.liveness.is_dead).sent == 1
        app.close()
    finally:
        servers.drop_pg_database(name)


def test_a_rush_goes_out_in_one_flush_with_few_statements(db_url, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """450 messages, batches of 200: one call with a time budget sends them all (without one, a batch, as before).
    Counted in statements, not seconds: a batch is claimed by one UPDATE … RETURNING (it was one transaction a row)
    and settled by one UPDATE a message, on the flush's own connection (it was two transactions with two ORM reads
    a message)."""
    from sqlalchemy import event

    from mailer.transport import FileTransport

    app = make_app(db_url, MAIL_PER_HOUR="100000")
    now = datetime.now(UTC)
    with app.sessions.begin() as s:
        for i in range(450):
            assert enqueue(s, _env(f"r{i}", f"u{i}@anamai.example.go.th"), now) is not None
    statements: list[str] = []
    event.listen(app.engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, context, many: statements.append(" ".join(sql.split())[:60]))
    transport = FileTransport(tmp_path / "sent")
    assert send_due(app.sessions, transport, SENDER, limit=200).sent == 200  # no budget: one batch
    report = send_due(app.sessions, transport, SENDER, limit=200, budget=60)
    assert (report.sent, report.retrying, report.failed) == (250, 0, 0)
    assert len(list((tmp_path / "sent").glob("*.eml"))) == 450
    claims = [q for q in statements if q.startswith("UPDATE outbox") and "attempts=(outbox.attempts" in q]
    settles = [q for q in statements if q.startswith("UPDATE outbox") and "next_attempt" in q]
    assert len(claims) <= 4  # 200, then 200 and 50 (and the call that finds nothing more)
    assert len(settles) == 450
    assert len(statements) <= 450 + 4 * 4 + 10  # per batch: the claimants, the due rows, the claim, the load
    assert {r.status for r in _rows(app).values()} == {"sent"}
