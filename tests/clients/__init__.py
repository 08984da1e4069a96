"""Mail written by software other than ours, with the outcome each message must have.

The golden corpus in tests/data is written by our own builder (`make_mail`), so it agrees with the code's
assumptions. Here the messages come from elsewhere:

- `neomutt/`: written by a real mail client (Debian's NeoMutt in batch mode; `python -m tests.clients.neomutt`
  rewrites them, and a slow test writes them anew with the NeoMutt installed in CI);
- `stdlib.py`: the standard library's generator under each policy and line length, as Python and web mailers use it;
- `shapes.py`: header blocks as Outlook, Thunderbird, Gmail, Apple Mail and Thai webmail write them, copied by hand
  (each names the client and where its shape was seen).

Every message states its expected outcome beside it (unit, period, rule, kind, counts, and the address the receipt
goes to), in the golden corpus's format (tests/golden.py checks one message against it).
"""

from __future__ import annotations

from datetime import datetime

from tests.conftest import BKK, DOMAIN, SECRETARIAT

NOV_ARRIVAL = datetime(2026, 11, 20, 10, 5, tzinfo=BKK)

# Long names as a clerk's client is set up with them (the registry's names, often with the department's).
LONG_NAMES = {
    "HPC01": "ศูนย์อนามัยที่ 1 เชียงใหม่ กรมอนามัย กระทรวงสาธารณสุข",
    "HPC02": "ศูนย์อนามัยที่ 2 พิษณุโลก (งานสารบรรณ)",
    "HPC03": "นางสาวสมหญิง ใจดี, เจ้าหน้าที่ธุรการ ศูนย์อนามัยที่ 3 นครสวรรค์",
    "DIV02": "กองคลัง กรมอนามัย",
}
ADDRESS = {"HPC01": f"hpc01@{DOMAIN}", "HPC02": f"hpc02@{DOMAIN}", "HPC03": f"hpc03@{DOMAIN}",
           "DIV02": f"central@{DOMAIN}"}
NIL_BODY = "เรียน สำนักงานเลขานุการกรม\n\nขอรายงานว่า ประจำเดือนพฤศจิกายน 2569 ไม่มีข้อร้องเรียน\n\nขอแสดงความนับถือ\n"


def nil_expected(unit: str, *, arrived: datetime = NOV_ARRIVAL) -> dict:
    """A nil statement naming November 2569 in its text, from `unit`'s registered address."""
    return {"arrived_at": arrived.isoformat(), "needs_ocr": False, "outcome": "report", "unit": unit,
            "period": "2026-11", "period_rule": "text", "c01_rows": None, "c02_total": None, "nil": True,
            "problems": [], "status": "on_time", "kind": "nil", "reply": "report", "sender": ADDRESS[unit]}


__all__ = ["ADDRESS", "BKK", "DOMAIN", "LONG_NAMES", "NIL_BODY", "NOV_ARRIVAL", "SECRETARIAT", "nil_expected"]
