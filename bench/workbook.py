"""A Complaint_01 of 50,000 rows: our reader vs python-calamine's bare cell read vs openpyxl read-only.

Each reader runs in its own process so that peak memory is its own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from bench.common import table

FILE = Path("/tmp/cb-bench-c01-{n}.xlsx")
SNIPPETS = {
    "calamine bare cell read": "from python_calamine import CalamineWorkbook\n"
                               "wb = CalamineWorkbook.from_path(P)\n"
                               "rows = [wb.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in wb.sheet_names]",
    "openpyxl read-only load": "from openpyxl import load_workbook\nwb = load_workbook(P, read_only=True)\n"
                               "rows = [list(r) for ws in wb for r in ws.iter_rows(values_only=True)]",
    "complaint-bot read_forms": "from intake.forms import read_forms\nimport pathlib\n"
                                "forms = read_forms('c01.xlsx', pathlib.Path(P).read_bytes())\nassert len(forms[0].rows) > 0",
}


def build(n: int) -> Path:
    path = Path(str(FILE).format(n=n))
    if not path.exists():
        from mailer.blank_forms import Case, complaint_01
        from scoring.periods import Period

        cases = [Case(date(2026, 11, 1 + i % 28), "โทรศัพท์", ("complaint", "suggestion", "opinion", "compliment")[i % 4],
                      f"เรื่องที่ {i} รายละเอียดโดยย่อ", f"นายทดสอบ {i}", "ตรวจสอบและแจ้งผล", bool(i % 2),
                      date(2026, 11, 28)) for i in range(n)]
        path.write_bytes(complaint_01("หน่วยงานทดสอบ", Period(2026, 11), cases))
    return path


def run(snippet: str, path: Path) -> tuple[float, float]:
    code = ("import time, resource, json, sys\nsys.path.insert(0, %r)\nP = %r\nt = time.perf_counter()\n%s\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
            "print(json.dumps([time.perf_counter() - t, int(hwm) / 1e3]))"
            % (str(Path(__file__).resolve().parent.parent), str(path), snippet))
    best = (1e9, 0.0)
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        seconds, peak = json.loads(out.strip().splitlines()[-1])
        best = min(best, (seconds, peak))
    return best


def main(n: int = 0) -> None:
    n = n or 50_000
    t = time.perf_counter()
    path = build(n)
    print(f"built {path} ({path.stat().st_size // 1024} KB) in {time.perf_counter() - t:.1f} s")
    results = {name: run(snippet, path) for name, snippet in SNIPPETS.items()}
    base = results["calamine bare cell read"][0]
    table(f"Complaint_01 of {n:,} rows (best of 3, separate processes)", [
        ("reader", "seconds", "ratio to calamine", "peak RSS MB"),
        *((name, f"{s:.2f}", f"{s / base:.2f}", f"{m:.0f}") for name, (s, m) in results.items()),
    ])
