"""Backlog intake: N realistic unit messages in a real Dovecot; the whole pipeline versus a raw fetch."""

from __future__ import annotations

import imaplib
import io
import random
import statistics
import time
from dataclasses import dataclass
from typing import cast
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from imap_tools import MailBoxUnencrypted
from python_calamine import CalamineWorkbook

from bench.common import DOMAIN, SECRETARIAT, CpuUse, cpu_use, dovecot, make_bench_app, rss_mb, table, workdir
from bot.samples import counts_of, make_mail
from bot.service import poll_once
from mailer.blank_forms import Case, complaint_01, complaint_02
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
    """n messages with two forms each; `units` = 1 is one unit sending correction after correction."""
    pool = form_pool()
    c = server.client(user)
    size = 0
    start = datetime(2026, 11, 20, 8, 0, tzinfo=BKK)
    for i in range(n):
        when = start + timedelta(seconds=30 * i)
        subject = f"รายงานประจำเดือน พ.ย. 69 ({i})" if units > 1 else f"แก้ไขรายงาน พ.ย. 69 ครั้งที่ {i}"
        raw = make_mail(sender=f"u{i % units:04d}@{DOMAIN}", to=SECRETARIAT, subject=subject,
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


def floor_rate(server: servers.Dovecot, user: str) -> tuple[float, CpuUse]:
    """The issue's floor: fetch, MIME parse, and a calamine read of every sheet of every attachment, in one
    process, storing nothing and answering no one."""
    n = 0
    with cpu_use() as cpu, MailBoxUnencrypted("127.0.0.1", server.port).login(user, servers.PASSWORD) as box:
        for msg in box.fetch(mark_seen=False, bulk=100):
            for part in msg.obj.walk():  # imap-tools parsed the MIME (email.message_from_bytes)
                if part.get_filename():
                    book = CalamineWorkbook.from_filelike(io.BytesIO(cast(bytes, part.get_payload(decode=True))))
                    for name in book.sheet_names:
                        book.get_sheet_by_name(name).to_python()
            n += 1
    return n / cpu.wall, cpu


def sandbox_cost(n: int = 600) -> None:
    """The price of isolation: the same attachments read in this process and in the parser sandbox."""
    from intake.documents import read_attachment
    from intake.reading import read_documents
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


@dataclass
class Run:
    shape: str
    n: int
    raw: float  # messages/s
    floor: float
    pipeline: float
    rss: list[tuple[int, float]]
    floor_cpu: CpuUse
    cpu: CpuUse

    @property
    def ratio(self) -> float:
        return self.pipeline / self.floor


@dataclass(frozen=True)
class Filled:
    """A fresh mailbox of a backlog, with its raw fetch rate and its floor measured."""

    shape: str
    n: int
    units: int
    user: str
    raw: float
    floor: float
    floor_cpu: CpuUse


def fill_and_measure(server: servers.Dovecot, shape: str, n: int, units: int) -> Filled:
    """A fresh mailbox of n messages: appended, then its raw fetch and its floor measured."""
    user = server.new_user()
    t = time.perf_counter()
    avg = fill(server, user, n, units)
    print(f"{shape}: appended {n} messages (~{avg // 1024} KB each) in {time.perf_counter() - t:.0f} s")
    fetched, raw_rate = raw_fetch_rate(server, user)
    assert fetched == n, fetched
    floor, floor_cpu = floor_rate(server, user)
    return Filled(shape, n, units, user, raw_rate, floor, floor_cpu)


def pipeline_run(server: servers.Dovecot, filled: Filled, database: str = "sqlite") -> Run:
    """One worker's whole pipeline over a filled mailbox (SQLite or a fresh PostgreSQL database, group commit as
    configured by default)."""
    env = {"MAIL_SOURCE": server.url(filled.user)}
    pg_name = None
    if database == "postgresql":
        pg_name, env["DATABASE_URL"] = servers.create_pg_database()
    app = make_bench_app(workdir("intake"), max(filled.units, 10), **env)
    app.sessions  # noqa: B018 - migrated before the clock starts
    samples: list[tuple[int, float]] = []
    batch = app.settings.batch_messages
    source = app.source()
    with cpu_use() as cpu:
        # RSS at each thousandth message from the first thousand on (the "flat from 1,000"): a sample at the
        # first batch measured the process's warm-up, in the first run of an invocation only.
        report = poll_once(app, source, progress=lambda k: samples.append((k, rss_mb()))
                           if k >= 1000 and k % 1000 < batch else None)
    source.close()
    app.close()
    if pg_name:
        servers.drop_pg_database(pg_name)
    assert report.processed == filled.n, report
    return Run(f"{filled.shape} ({database})", filled.n, filled.raw, filled.floor, report.processed / cpu.wall,
               samples, filled.floor_cpu, cpu)


def paired_runs(server: servers.Dovecot, shape: str, n: int, units: int, databases: tuple[str, ...],
                turn: int) -> list[Run]:
    """The same backlog on each database, their pipelines back to back: every mailbox is filled and its floor
    measured first, so that the runs compared sit seconds apart, not a fill and a floor (~40 s) apart. Their
    order alternates with `turn` (SQLite first, then PostgreSQL first), so that a machine whose pace drifts
    favours neither. The runs are returned in the order of `databases`."""
    filled = {database: fill_and_measure(server, shape, n, units) for database in databases}
    order = databases if turn % 2 == 0 else databases[::-1]
    ran = {database: pipeline_run(server, filled[database], database) for database in order}
    return [ran[database] for database in databases]


def against(runs: list[Run]) -> None:
    """PostgreSQL against SQLite, pair by pair (the same shape, run back to back): their rates, and their ratios to
    each run's own floor (which takes out the machine's pace between the two), with the median of each."""
    print("\n  PostgreSQL / SQLite, each pair's pipelines back to back, in turns SQLite first and PostgreSQL first (rates; "
          "ratios to each run's own floor):")
    for shape in ("many units", "one unit's corrections"):
        pairs = [(sq, pg) for sq, pg in zip(runs, runs[1:])
                 if sq.shape == f"{shape} (sqlite)" and pg.shape == f"{shape} (postgresql)"]
        if pairs:
            rates = [pg.pipeline / sq.pipeline for sq, pg in pairs]
            floors = [pg.ratio / sq.ratio for sq, pg in pairs]
            print(f"  {shape}: {', '.join(f'{r:.2f}' for r in rates)} (median {statistics.median(rates):.2f}); "
                  f"{', '.join(f'{r:.2f}' for r in floors)} (median {statistics.median(floors):.2f})")


def main(n: int = 0, repeat: int = 1, databases: tuple[str, ...] = ("sqlite",)) -> None:
    """Both shapes of backlog, `repeat` times each (each run a fresh mailbox and database), on each of
    `databases`: the ratio to the floor of every run, so the spread between runs shows beside the numbers."""
    n = n or 5000
    server = dovecot()
    runs: list[Run] = []
    try:
        for turn in range(repeat):
            for shape, units in (("many units", 1000), ("one unit's corrections", 1)):
                runs += paired_runs(server, shape, n, units, databases, turn)
    finally:
        server.stop()
    rows = [("backlog", "raw fetch", "floor", "pipeline", "ratio to floor")]
    rows += [(f"{r.shape}, {r.n}", f"{r.raw:,.0f}", f"{r.floor:,.0f}", f"{r.pipeline:,.0f}", f"{r.ratio:.2f}")
             for r in runs]
    table(f"Backlog intake (messages/s; floor = fetch + MIME parse + calamine read of every sheet), "
          f"{' and '.join(databases)}, one worker, {repeat} run(s) per shape", rows)
    for shape in dict.fromkeys(r.shape for r in runs):
        ratios = [r.ratio for r in runs if r.shape == shape]
        print(f"  {shape}: ratio {min(ratios):.2f}-{max(ratios):.2f} over {len(ratios)} run(s)")
    cpu_rows = [("backlog", "floor: own + Dovecot", "pipeline: own (fetch, store)", "+ workers, Dovecot",
                 "+ PostgreSQL server", "total", f"ceiling on {runs[0].cpu.cores} cores", "ratio ceiling", "reached")]
    for r in runs:
        f_own, f_other = r.floor_cpu.per(r.n)
        own, other = r.cpu.per(r.n)
        pg_ms = r.cpu.server / r.n * 1000 if r.shape.endswith("(postgresql)") else 0.0
        total = own + other + pg_ms
        ceiling = r.cpu.cores / (total / 1000)  # every core busy all the time on this CPU per message
        cpu_rows.append((f"{r.shape}, {r.n}", f"{f_own:.2f} + {f_other:.2f}", f"{own:.2f}", f"{other:.2f}",
                         f"{pg_ms:.2f}" if pg_ms else "-", f"{total:.2f}", f"{ceiling:,.0f}/s",
                         f"{ceiling / r.floor:.2f}", f"{r.ratio / (ceiling / r.floor):.0%}"))
    table("CPU per message (ms): the bench's process tree and, on PostgreSQL, its server's processes (they share the "
          "cores; not other jobs): what the pipeline's ratio could reach if every core were busy, and how much of "
          "that it reached", cpu_rows)
    if len(databases) == 2:
        against(runs)
    for r in runs:
        if r.rss:
            first, last = r.rss[0], r.rss[-1]
            verdict = "flat" if last[1] <= first[1] + 20 else "GROWS"
            print(f"  {r.shape}: RSS {first[1]:.0f} MB at {first[0]} messages, {last[1]:.0f} MB at {last[0]}: {verdict}")
    sandbox_cost()
