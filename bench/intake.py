"""Backlog intake: N realistic unit messages in a real Dovecot; the whole pipeline versus a raw fetch."""

from __future__ import annotations

import imaplib
import random
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from imap_tools import MailBoxUnencrypted

from bench.common import DOMAIN, SECRETARIAT, dovecot, make_bench_app, rss_mb, table, workdir
from bot.samples import counts_of, make_mail
from bot.service import poll_once
from intake.blank_forms import Case, complaint_01, complaint_02
from scoring.periods import Period
from tests import servers

BKK = ZoneInfo("Asia/Bangkok")
NOV = Period(2026, 11)
CHANNELS = ("โทรศัพท์", "เว็บไซต์", "อีเมล", "Facebook", "ตู้รับความคิดเห็น")
CATS = ("complaint", "suggestion", "opinion", "compliment")


def form_pool(n: int = 12) -> list[list[tuple[str, bytes]]]:
    """A dozen pairs of forms of 20-200 rows (building 5,000 distinct workbooks would measure openpyxl)."""
    rnd = random.Random(7)
    pool = []
    for i in range(n):
        rows = 20 + (180 * i) // max(n - 1, 1)
        cases = [Case(datetime(2026, 11, 1 + j % 25).date(), rnd.choice(CHANNELS), rnd.choice(CATS),
                      f"เรื่องที่ {j} รายละเอียดโดยย่อของเรื่องร้องเรียน", f"นายทดสอบ ระบบ{j}", "ดำเนินการตรวจสอบ",
                      bool(j % 3)) for j in range(rows)]
        pool.append([("Complaint_01.xlsx", complaint_01(f"หน่วยงานที่ {i}", NOV, cases)),
                     ("Complaint_02.xlsx", complaint_02(f"หน่วยงานที่ {i}", NOV, counts_of(cases)))])
    return pool


def fill(server: servers.Dovecot, user: str, n: int, units: int) -> int:
    pool = form_pool()
    c = server.client(user)
    size = 0
    start = datetime(2026, 11, 20, 8, 0, tzinfo=BKK)
    for i in range(n):
        when = start + timedelta(seconds=30 * i)
        raw = make_mail(sender=f"u{i % units:04d}@{DOMAIN}", to=SECRETARIAT, subject=f"รายงานประจำเดือน พ.ย. 69 ({i})",
                        body="เรียน สลก.\nขอส่งรายงานครับ", date_=when, attachments=pool[i % len(pool)])
        size += len(raw)
        c.append("INBOX", None, imaplib.Time2Internaldate(when), raw)
    c.logout()
    return size // max(n, 1)


def raw_fetch_rate(server: servers.Dovecot, user: str) -> tuple[int, float]:
    start = time.perf_counter()
    with MailBoxUnencrypted("127.0.0.1", server.port).login(user, servers.PASSWORD) as box:
        n = sum(1 for _ in box.fetch(mark_seen=False, bulk=100))
    return n, n / (time.perf_counter() - start)


def sandbox_cost(n: int = 600) -> None:
    """The price of isolation: the same attachments read in this process and in the parser sandbox."""
    from intake.documents import read_attachment, read_documents
    from intake.message import Attachment
    from intake.sandbox import Limits, Sandbox

    messages = [[Attachment(name, "", data) for name, data in pair] for pair in form_pool()]
    sandbox = Sandbox(Limits())
    read_documents(messages[0], sandbox)  # start the workers outside the measurement
    try:
        start = time.perf_counter()
        for i in range(n):
            for att in messages[i % len(messages)]:
                read_attachment(att, None)
        inline = n / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(n):
            read_documents(messages[i % len(messages)], sandbox)
        boxed = n / (time.perf_counter() - start)
    finally:
        sandbox.close()
    table(f"Reading two forms of 20-200 rows per message, {n} messages", [
        ("where the readers run", "messages/s", "ratio"),
        ("in the worker's own process (no isolation)", f"{inline:,.0f}", "1.00"),
        ("in the sandbox (2 reused workers, limits)", f"{boxed:,.0f}", f"{boxed / inline:.2f}"),
    ])


def _intake(server: servers.Dovecot, n: int, units: int, batch: int) -> tuple[float, float, list[tuple[int, float]]]:
    """A fresh mailbox of n messages read by one worker storing `batch` messages per transaction:
    (raw fetch rate, pipeline rate, RSS samples)."""
    user = server.new_user()
    t = time.perf_counter()
    avg = fill(server, user, n, units)
    print(f"appended {n} messages (~{avg // 1024} KB each) in {time.perf_counter() - t:.0f} s")
    fetched, raw_rate = raw_fetch_rate(server, user)
    app = make_bench_app(workdir("intake"), units, MAIL_SOURCE=server.url(user), INTAKE_BATCH_MESSAGES=str(batch))
    samples: list[tuple[int, float]] = []
    source = app.source()
    start = time.perf_counter()
    report = poll_once(app, source, progress=lambda k: samples.append((k, rss_mb())) if k % 1000 < batch else None)
    elapsed = time.perf_counter() - start
    source.close()
    app.close()
    assert fetched == n and report.processed == n, (fetched, report)
    return raw_rate, report.processed / elapsed, samples


def main(n: int = 0) -> None:
    n = n or 5000
    units = 1000
    server = dovecot()
    try:
        rows = [("measure", "messages/s", "ratio to raw fetch")]
        for batch in (1, 50):  # a transaction per message, then group commit (the default)
            raw_rate, rate, samples = _intake(server, n, units, batch)
            rows += [(f"raw imap-tools fetch (bulk 100), mailbox {len(rows)}", f"{raw_rate:,.0f}", "1.00"),
                     (f"pipeline, {batch} message(s) per transaction", f"{rate:,.0f}", f"{rate / raw_rate:.2f}")]
            print(f"  batch {batch}: RSS (MB) by messages processed: "
                  + ", ".join(f"{k}: {m:.0f}" for k, m in samples))
        table(f"Backlog intake: {n} messages, forms of 20-200 rows, SQLite, one worker", rows)
    finally:
        server.stop()
    sandbox_cost()
