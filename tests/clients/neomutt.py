"""Messages written by a real mail client: Debian's NeoMutt in batch mode, set up as a unit's clerk would set it
(a long Thai real name, Thai attachment names, UTF-8 or windows-874 as the send charset).

NeoMutt writes the message it would send to its `record` Maildir (`sendmail` is /bin/true). `python -m
tests.clients.neomutt` rewrites `tests/clients/neomutt/NAME.eml` and `NAME.expected.json` with the NeoMutt on
this machine (`apt-get install neomutt`); tests/intake/test_clients.py reads the committed files in the fast tier and
writes them anew with the installed NeoMutt in the slow tier (CI installs it), through Dovecot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.samples import forms, sample_cases
from config.msgid import make_message_id
from mailer.blank_forms import complaint_02
from scoring.periods import Period
from tests.clients import ADDRESS, DOMAIN, LONG_NAMES, NIL_BODY, NOV_ARRIVAL, SECRETARIAT, nil_expected
from tests.conftest import SECRET, bkk

FOLDER = Path(__file__).parent / "neomutt"
NOV, OCT = Period(2026, 11), Period(2026, 10)
REGISTRY_NAMES = {"HPC01": "ศูนย์อนามัยที่ 1 เชียงใหม่", "HPC02": "ศูนย์อนามัยที่ 2 พิษณุโลก",
                  "HPC03": "ศูนย์อนามัยที่ 3 นครสวรรค์", "DIV02": "กองคลัง"}


@dataclass(frozen=True)
class Sent:
    """One message as a clerk sends it with NeoMutt, and what the bot must make of it."""

    unit: str
    charset: str
    subject: str
    body: str
    expected: dict
    attachments: Callable[[], list[tuple[str, bytes]]] = lambda: []
    headers: tuple[str, ...] = ()  # `my_hdr` lines (a reply's In-Reply-To)
    realname: str = ""  # default: the unit's long name (LONG_NAMES)
    address: str = ""  # default: the unit's registered address (ADDRESS)


def _forms_expected(unit: str, c01: int | None, c02: int | None, kind: str) -> dict:
    return {**nil_expected(unit), "period_rule": "form", "c01_rows": c01, "c02_total": c02, "nil": False,
            "kind": kind}


REMINDER = make_message_id(SECRET, DOMAIN, "reminder", "HPC02", "2026-10", "reminder:HPC02:2026-10:2")

MESSAGES: dict[str, Sent] = {
    "utf8_nil_text": Sent("HPC01", "utf-8", "รายงานข้อร้องเรียน ประจำเดือนพฤศจิกายน 2569 ศูนย์อนามัยที่ 1 เชียงใหม่",
                          NIL_BODY, nil_expected("HPC01")),
    "utf8_forms_thai_filenames": Sent(
        "HPC02", "utf-8", "ส่งแบบรายงานข้อร้องเรียน Complaint_01 และ Complaint_02 เดือนพฤศจิกายน 2569",
        "เรียน สลก.\n\nขอส่งแบบรายงานตามแนบครับ\n",
        _forms_expected("HPC02", 3, 3, "complaints"),
        lambda: [(f"แบบรายงานข้อร้องเรียน {n.replace('.xlsx', '')} {REGISTRY_NAMES['HPC02']} พ.ย. 2569.xlsx", d)
                 for n, d in forms(REGISTRY_NAMES["HPC02"], NOV, sample_cases(NOV, 3))]),
    "windows874_nil_text": Sent("HPC03", "windows-874", "รายงานข้อร้องเรียน ประจำเดือนพฤศจิกายน 2569", NIL_BODY,
                                nil_expected("HPC03")),
    "windows874_c02_zero_thai_filename": Sent(
        "HPC01", "windows-874", "ส่ง Complaint_02 (ไม่มีข้อร้องเรียน)", "แนบแบบ Complaint_02 ค่ะ\n",
        {**_forms_expected("HPC01", None, 0, "nil"), "nil": True},  # the subject says so too
        lambda: [(f"สรุปผลการจัดการข้อร้องเรียน {REGISTRY_NAMES['HPC01']}.xlsx",
                  complaint_02(REGISTRY_NAMES["HPC01"], NOV, {}))]),
    "shared_address_form_names_unit": Sent(
        "DIV02", "utf-8", "ส่งรายงานข้อร้องเรียน ประจำเดือนพฤศจิกายน 2569", "แนบแบบ 02 ของกองคลังครับ\n",
        _forms_expected("DIV02", None, 0, "nil"),
        lambda: [("แบบ Complaint_02 กองคลัง.xlsx", complaint_02(REGISTRY_NAMES["DIV02"], NOV, {}))]),
    "utf8_reply_to_reminder": Sent(
        "HPC02", "utf-8", "Re: [CR-2569-10] แจ้งเตือนการส่งรายงานข้อร้องเรียน",
        "ไม่มีข้อร้องเรียนค่ะ ขออภัยที่ล่าช้า\n\nOn Sun, Oct 18, 2026 at 09:00:00AM +0700, สลก. wrote:\n> กรุณาส่งรายงาน\n",
        {**nil_expected("HPC02", arrived=bkk(2026, 11, 2, 9, 0)), "period": "2026-10", "period_rule": "reply",
         "status": "late"},
        headers=(f"In-Reply-To: {REMINDER}", f"References: {REMINDER}")),
}


def muttrc(folder: Path, sent: Sent) -> str:
    realname = sent.realname or LONG_NAMES[sent.unit]
    return "\n".join([
        f'set from="{sent.address or ADDRESS[sent.unit]}"', f'set realname="{realname}"', "set use_from=yes",
        f'set send_charset="{sent.charset}"', 'set charset="utf-8"', 'set sendmail="/bin/true"',
        "set mbox_type=Maildir", f'set record="{folder / "sent"}"', "set copy=yes", "set edit_headers=no",
        *(f"my_hdr {line}" for line in sent.headers), ""])


def write_with_neomutt(sent: Sent, neomutt: str = "neomutt") -> bytes:
    """The message NeoMutt writes for `sent`, as it would hand it to sendmail."""
    work = Path(tempfile.mkdtemp(prefix="neomutt-"))
    try:
        for sub in ("new", "cur", "tmp"):
            (work / "sent" / sub).mkdir(parents=True)
        (work / "muttrc").write_text(muttrc(work, sent), encoding="utf-8")
        args = [neomutt, "-n", "-F", str(work / "muttrc"), "-s", sent.subject]
        files = sent.attachments()
        for name, data in files:
            (work / name).write_bytes(data)
        if files:
            args += ["-a", *(str(work / name) for name, _ in files)]
        args += ["--", SECRETARIAT]
        env = {**os.environ, "LC_ALL": "C.UTF-8", "TZ": "Asia/Bangkok", "HOME": str(work)}
        subprocess.run(args, input=sent.body.encode(), env=env, cwd=work, check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        [written] = [p for sub in ("new", "cur") for p in (work / "sent" / sub).iterdir()]
        return written.read_bytes()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def available() -> str | None:
    return shutil.which("neomutt")


def write_all() -> None:
    FOLDER.mkdir(exist_ok=True)
    version = subprocess.run(["neomutt", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    for name, sent in MESSAGES.items():
        (FOLDER / f"{name}.eml").write_bytes(write_with_neomutt(sent))
        (FOLDER / f"{name}.expected.json").write_text(
            json.dumps({"written_by": version, **sent.expected}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(MESSAGES)} messages written by {version} to {FOLDER}")


if __name__ == "__main__":
    write_all()
