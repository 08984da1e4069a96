"""Digest at scale: 1,000 units × 12 months with 200,000 case rows: the workbook and mail built, streaming."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bench.common import make_bench_app, peak_rss_mb, rss_mb, table, workdir
from bot.digest_data import digest_data
from intake.forms import CaseRow
from intake.models import CaseSheet, Submission
from intake.sheets import sheet_text
from mailer.digest import digest_context
from mailer.render import render
from mailer.workbook import build_workbook
from scoring.periods import Period, fiscal_year_periods

BKK = ZoneInfo("Asia/Bangkok")


def seed(app, units: int, cases: int, period: Period) -> None:  # type: ignore[no-untyped-def]
    rnd = random.Random(3)
    per_unit = cases // units
    with app.engine.begin() as conn:
        subs = []
        for p in fiscal_year_periods(2570):
            for u in range(units):
                roll = rnd.random()
                if roll < 0.1 and p != period:
                    continue  # missing (in the digest's own month every unit reported, to get all the cases)
                day = 20 if roll < 0.8 else 27  # on time or late
                arrived = datetime(p.year, p.month, min(day, p.last_day().day), 10, tzinfo=BKK)
                full = p == period
                subs.append({"unit_code": f"U{u:04d}", "period": str(p), "arrived_at": arrived.astimezone(UTC),
                             "channel": "email", "period_rule": "form", "has_c01": full,
                             "c01_rows": per_unit if full else 0, "has_c02": True, "c02_total": per_unit if full else 0,
                             "nil_statement": False, "c01_counts": {"complaint": per_unit} if full else {},
                             "c02_counts": {"complaint": {"received": per_unit}} if full else {}, "files": [],
                             "problems": []})
        conn.execute(insert(Submission), subs)
        ids = [r[0] for r in conn.exec_driver_sql(
            f"SELECT id FROM submissions WHERE period = '{period}' AND has_c01 ORDER BY id")]
        sheets = []
        for sid in ids:
            sheet = [CaseRow(j + 6, str(j + 1), period.first_day() + timedelta(days=j % 28), "โทรศัพท์", "complaint",
                             f"เรื่องร้องเรียนที่ {j} โทร 081-234-5678", f"นายทดสอบ ระบบ{j}", "ตรวจสอบ", "done", None, "")
                     for j in range(per_unit)]
            sheets.append({"submission_id": sid, "rows": sheet_text(sheet)})
            if len(sheets) >= 100:  # as intake writes them, a few at a time: the seed's memory is not the digest's
                conn.execute(insert(CaseSheet), sheets)
                sheets = []
        if sheets:
            conn.execute(insert(CaseSheet), sheets)


def main(n: int = 0) -> None:
    cases = n or 200_000
    units = 1000
    period = Period(2026, 11)
    app = make_bench_app(workdir("digest"), units)
    t = time.perf_counter()
    seed(app, units, cases, period)
    print(f"seeded {units} units x 12 months, {cases:,} case rows in {time.perf_counter() - t:.0f} s")
    as_of = datetime(2027, 9, 30, 12, tzinfo=BKK)
    before = rss_mb()
    t0 = time.perf_counter()
    with app.sessions() as s:
        data = digest_data(app, s, period, as_of)
        t1 = time.perf_counter()
        workbook, written = build_workbook(data)
        t2 = time.perf_counter()
        rendered = render("digest", digest_context(data, app.mail))
        t3 = time.perf_counter()
    table(f"Digest: {units} units x 12 months, {written:,} case rows", [
        ("step", "seconds"), ("statuses, fiscal-year matrix, scores", f"{t1 - t0:.2f}"),
        ("workbook (the case sheet streamed in constant memory)", f"{t2 - t1:.2f}"), ("mail text + HTML", f"{t3 - t2:.2f}"),
        ("total", f"{t3 - t0:.2f}"), ("workbook size (MB)", f"{len(workbook) / 1e6:.1f}"),
        ("RSS growth / peak RSS (MB)", f"{rss_mb() - before:.0f} / {peak_rss_mb():.0f}"),
    ])
    assert written == cases and len(rendered.html) > 0, (written, cases)
