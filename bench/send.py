"""A month-end rush through the outbox: N receipts queued as data, delivered to a real aiosmtpd.

Floor, in the same run: the standard library's smtplib sending the same N composed messages over one
connection (what any sender must do at least). Then `complaint-bot send` (one flush, everything due) and the
`run` worker's schedule (a flush every SEND_INTERVAL_SECONDS, each with its time budget): how long until the
last receipt is accepted.
"""

from __future__ import annotations

import smtplib
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from bench.common import DOMAIN, SECRETARIAT, make_bench_app, table, workdir
from bot.app import App
from bot.service import flush_outbox
from mailer.models import OutboxMessage
from mailer.receipts import ReceiptInfo, compose_queued, enqueue_receipt
from scoring.periods import Period
from tests import servers

BKK = ZoneInfo("Asia/Bangkok")


class _Sink:
    """Accepts every message and counts it (a real SMTP exchange, nothing kept)."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 - aiosmtpd's
        self.count += 1
        return "250 OK"


def _queue(app: App, n: int, units: int) -> None:
    period = Period(2026, 11)
    arrived = datetime(2026, 11, 25, 16, tzinfo=BKK)
    with app.sessions.begin() as s:
        for i in range(n):
            code = f"U{i % units:04d}"
            info = ReceiptInfo(key=f"receipt:{i}", situation="report", reference=f"{period.tag}-{i:06d}",
                               to=f"u{i % units:04d}@{DOMAIN}", arrived_at=arrived, unit_code=code,
                               unit_name=f"หน่วยงานที่ {i % units}", period=period, period_rule="form",
                               deadline=datetime(2026, 11, 25, 23, 59, 59, tzinfo=BKK), status="on_time",
                               report_kind="nil", completed_at=arrived, counts={"complaint": 0},
                               files=[("Complaint_02.xlsx", "form", "c02_total", {"sheet": "Sheet1", "total": "0"})],
                               original_message_id=f"<m{i}@{DOMAIN}>", original_subject="ส่งรายงาน ประจำเดือน พ.ย. 69")
            enqueue_receipt(s, info, app.mail, datetime.now(UTC))


def _pending(app: App) -> int:
    with app.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")) or 0)


def _floor(port: int, app: App, n: int) -> float:
    with app.sessions() as s:
        rows = s.scalars(select(OutboxMessage).limit(200)).all()
        messages = [(compose_queued(r, app.mail)[1], r.recipients) for r in rows]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(n):
            raw, to = messages[i % len(messages)]
            smtp.sendmail(SECRETARIAT, to, raw)
    return n / (time.perf_counter() - started)


def main(n: int = 0) -> None:
    n = n or 5000
    units = min(n, 1000)  # 5 receipts per unit at most: under RECEIPTS_PER_SENDER_PER_HOUR
    sink = _Sink()
    port = servers.free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=port)
    smtp.start()
    rows: list[tuple[str, ...]] = [("what", "messages", "seconds", "msg/s", "ratio to floor")]
    try:
        app = make_bench_app(workdir("send"), units, SMTP_URL=f"smtp://127.0.0.1:{port}", MAIL_PER_HOUR="100000")
        _queue(app, n, units)
        floor = _floor(port, app, n)
        rows.append(("smtplib, one connection, composed (floor)", str(n), f"{n / floor:.1f}", f"{floor:.0f}", "1.00"))
        started = time.perf_counter()
        report = flush_outbox(app, budget=3600)
        took = time.perf_counter() - started
        rows.append(("complaint-bot send (compose + deliver + settle)", str(report.sent), f"{took:.1f}",
                     f"{report.sent / took:.0f}", f"{report.sent / took / floor:.2f}"))
        assert report.sent == n and _pending(app) == 0, (report, _pending(app))

        app2 = make_bench_app(workdir("send-run"), units, SMTP_URL=f"smtp://127.0.0.1:{port}", MAIL_PER_HOUR="100000")
        _queue(app2, n, units)
        interval = app2.settings.send_interval_seconds
        started = time.perf_counter()
        flushes = 0
        while _pending(app2):  # as `run` does: a flush, then the next at the next interval
            tick = time.perf_counter()
            flush_outbox(app2)
            flushes += 1
            if _pending(app2):
                time.sleep(max(interval - (time.perf_counter() - tick), 0))
        took = time.perf_counter() - started
        rows.append((f"`run`: flushes every {interval} s ({flushes} needed)", str(n), f"{took:.1f}", f"{n / took:.0f}",
                     f"{n / took / floor:.2f}"))
    finally:
        smtp.stop()
    table(f"Month-end rush: {n:,} receipts queued as data, delivered to aiosmtpd on this machine", rows)
