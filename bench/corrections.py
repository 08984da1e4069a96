"""One unit sending correction after correction: does the thousandth message cost what the first did?

The unit-period state is folded incrementally (each submission keeps the fold state after it), so the
rate over the last hundred messages should match the first hundred. In process (no IMAP): this isolates
the work that grows with history from fetch and transport.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench.common import DOMAIN, SECRETARIAT, make_bench_app, table, workdir
from bench.intake import form_pool
from bot.samples import make_mail
from bot.storing import process_one
from intake.context import Fetched

BKK = ZoneInfo("Asia/Bangkok")


def main(n: int = 0) -> None:
    n = n or 5000  # the backlog the issue names: growth with history shows over thousands, not hundreds
    app = make_bench_app(workdir("corrections"), 10)
    forms = form_pool(2)[0]
    start = datetime(2026, 11, 1, 8, 0, tzinfo=BKK)
    mails = [make_mail(sender=f"u0000@{DOMAIN}", to=SECRETARIAT, subject=f"แก้ไขรายงาน พ.ย. 69 ครั้งที่ {i}",
                       body="ส่งฉบับแก้ไขครับ", date_=start + timedelta(minutes=i), attachments=forms) for i in range(n)]
    times: list[float] = []
    for i, raw in enumerate(mails):
        t = time.perf_counter()
        process_one(app, Fetched(raw=raw, arrived_at=start + timedelta(minutes=i)))
        times.append(time.perf_counter() - t)
    app.close()
    first, last = 100 / sum(times[:100]), 100 / sum(times[-100:])
    table(f"One unit's corrections: {n} messages with two forms each, SQLite, in process", [
        ("messages", "messages/s", "ratio to the first hundred"),
        ("1-100", f"{first:,.0f}", "1.00"),
        (f"{n - 99}-{n}", f"{last:,.0f}", f"{last / first:.2f}"),
    ])
