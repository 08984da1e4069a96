"""A minimal TNEF writer (MS-OXTNEF 2.1): a `winmail.dat` as Outlook sends it with rich text on, holding the files
given, their names in the sender's OEM codepage (cp874 on Thai Windows). For tests only; real files from
tnefparse's own test suite sit beside it in tests/data/others/tnefparse."""

from __future__ import annotations

import struct

SIGNATURE = 0x223E9F78
LVL_MESSAGE, LVL_ATTACHMENT = 1, 2


def _attribute(level: int, name: int, kind: int, data: bytes) -> bytes:
    return (struct.pack("<BHHI", level, name, kind, len(data)) + data
            + struct.pack("<H", sum(data) & 0xFFFF))


def winmail(files: list[tuple[str, bytes]], codepage: int = 874) -> bytes:
    out = struct.pack("<IH", SIGNATURE, 0x0ABC)
    out += _attribute(LVL_MESSAGE, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += _attribute(LVL_MESSAGE, 0x9007, 0x0006, struct.pack("<II", codepage, 0))  # attOemCodepage
    out += _attribute(LVL_MESSAGE, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")  # attMessageClass
    for name, data in files:
        out += _attribute(LVL_ATTACHMENT, 0x9002, 0x0002, struct.pack("<HiiiI", 1, -1, 0, 0, 0)[:14])  # attAttachRendData
        out += _attribute(LVL_ATTACHMENT, 0x8010, 0x0001, name.encode(f"cp{codepage}") + b"\x00")  # attAttachTitle
        out += _attribute(LVL_ATTACHMENT, 0x800F, 0x0006, data)  # attAttachData
    return out
