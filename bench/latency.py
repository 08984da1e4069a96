"""Receipt latency with IMAP IDLE: append → receipt accepted by the SMTP server, p50 and p95."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller

from bench.common import DOMAIN, SECRETARIAT, dovecot, make_bench_app, table, workdir
from bot.runner import StopFlag, run_forever
from bot.samples import make_mail
from tests import servers
from tests.conftest import CaptureHandler

BKK = ZoneInfo("Asia/Bangkok")


def idle_floor(server: servers.Dovecot, n: int = 10) -> list[float]:
    """What Dovecot itself takes to tell an idling client of a new message: a bare IDLE client (imap_tools), one
    APPEND from another connection, the time until the EXISTS line arrives. The bot cannot answer faster."""
    from imap_tools import MailBoxUnencrypted

    user = server.new_user()
    box = MailBoxUnencrypted("127.0.0.1", server.port).login(user, servers.PASSWORD)
    delays = []
    try:
        for i in range(n):
            raw = make_mail(sender=f"u0000@{DOMAIN}", to=SECRETARIAT, subject="idle", body=str(i), date_=datetime.now(BKK))
            box.idle.start()
            t0 = time.perf_counter()
            server.append(user, raw, datetime.now(BKK))
            while not any(b"EXISTS" in line for line in box.idle.poll(timeout=10)):
                pass
            delays.append(time.perf_counter() - t0)
            box.idle.stop()
    finally:
        box.logout()
    return delays


def main(n: int = 0) -> None:
    n = n or 50
    server = dovecot()
    handler = CaptureHandler()
    port = servers.free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        user = server.new_user()
        app = make_bench_app(workdir("latency"), 50, MAIL_SOURCE=server.url(user), SMTP_URL=f"smtp://127.0.0.1:{port}",
                             SWEEP_SECONDS="3600", IDLE_SECONDS="25")
        stop = StopFlag()
        worker = threading.Thread(target=run_forever, args=(app, stop), daemon=True)
        worker.start()
        time.sleep(1.5)
        latencies = []
        for i in range(n):
            now = datetime.now(BKK)
            raw = make_mail(sender=f"u{i % 50:04d}@{DOMAIN}", to=SECRETARIAT, subject="รายงาน",
                            body=f"ไม่มีข้อร้องเรียนครับ {i}", date_=now)
            before = len(handler.messages)
            t0 = time.perf_counter()
            server.append(user, raw, now)
            while len(handler.messages) == before:
                time.sleep(0.005)
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.2)
        stop.set()
        worker.join(timeout=60)
        floor = idle_floor(server)
        q = statistics.quantiles(latencies, n=20)
        table(f"Receipt latency over {n} messages (IDLE; append -> receipt accepted by SMTP)", [
            ("measure", "seconds"), ("p50", f"{statistics.median(latencies):.2f}"), ("p95", f"{q[18]:.2f}"),
            ("max", f"{max(latencies):.2f}"),
            ("floor: a bare IDLE client told of an APPEND, median (measured now)", f"{statistics.median(floor):.2f}"),
            ("p50 over the floor", f"{statistics.median(latencies) - statistics.median(floor):.2f}"),
        ])
    finally:
        smtp.stop()
        server.stop()
