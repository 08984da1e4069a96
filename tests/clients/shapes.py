"""Header blocks as common mail clients write them, copied by hand into templates: only the encoded text of a
name and an attachment's base64 are filled in. Each names the client and version whose shape it copies and
where that shape was seen (public mailing-list archives and the clients' own sent mail).

What they have in common: a long display name folded before `<address>`, encoded words split over tab or space
continuations, names in windows-874, an encoded word split inside a Thai character, quoted names with commas,
RFC 2047 words inside a quoted string (not allowed, written anyway), raw UTF-8 in a header (RFC 6532)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from email.utils import format_datetime

from bot.samples import forms, sample_cases
from scoring.periods import Period
from tests.clients import ADDRESS, NIL_BODY, NOV_ARRIVAL, SECRETARIAT, nil_expected

NOV = Period(2026, 11)
DATE = format_datetime(NOV_ARRIVAL)


def b_words(text: str, charset: str = "utf-8", *, size: int = 45, label: str | None = None) -> list[str]:
    """`text` as RFC 2047 B-words of at most `size` encoded bytes each, split at byte boundaries (so a Thai
    character may be cut between two words, as Outlook and NeoMutt do)."""
    data = text.encode(charset)
    return [f"=?{label or charset}?B?{base64.b64encode(data[i:i + size]).decode()}?=" for i in range(0, len(data), size)]


def q_word(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?Q?" + "".join(
        chr(b) if b < 128 and chr(b).isalnum() else f"={b:02X}" for b in text.encode(charset)) + "?="


def _b64_lines(data: bytes) -> str:
    return "\r\n".join(base64.encodebytes(data).decode().splitlines())


def _message(head: str, body: str, charset: str = "utf-8", attachments: Sequence[tuple[str, bytes]] = (),
             codec: str | None = None) -> bytes:
    """`head` (CRLF-joined header lines, as the client wrote them) above a body labelled `charset` (encoded with
    `codec`, Python's name for it) and attachments given as (their Content-Type/Disposition lines, bytes)."""
    text = _b64_lines(body.replace("\n", "\r\n").encode(codec or charset))
    if not attachments:
        return (head + f"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain;\r\n\tcharset=\"{charset}\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n" + text + "\r\n").encode("utf-8")
    boundary = "----=_NextPart_000_0012_01DB3A7C.5F2E1B40"
    parts = [f"Content-Type: text/plain;\r\n\tcharset=\"{charset}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{text}"]
    parts += [f"{lines}\r\nContent-Transfer-Encoding: base64\r\n\r\n{_b64_lines(data)}" for lines, data in attachments]
    return (head + f"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n\tboundary=\"{boundary}\"\r\n\r\n"
            "This is a multi-part message in MIME format.\r\n\r\n"
            + "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n").encode("utf-8")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHAPES: dict[str, tuple[Callable[[], bytes], dict]] = {}


def shape(name: str, expected: dict) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    def register(build: Callable[[], bytes]) -> Callable[[], bytes]:
        SHAPES[name] = (build, expected)
        return build
    return register


# Outlook 16.0 (Microsoft 365, Windows, Thai locale): the name in windows-874 alone on the From line, the
# address folded onto the next; TAB continuations in Content-Type; Thread-Index and Content-Language. Header
# order and continuations as in Outlook 16.0 mail in public archives (e.g. qemu-devel, 2020-08-04,
# Message-ID <001301d66a3a$75ac6c90$610545b0$@xen.org>), the name as Thai Outlook labels it.
@shape("outlook16_windows874_name_folded_before_address", nil_expected("HPC01"))
def _() -> bytes:
    name = "ศูนย์อนามัยที่ 1 เชียงใหม่ กรมอนามัย"
    head = "\r\n".join([
        f"From: {b_words(name, 'cp874', size=60, label='windows-874')[0]}",
        f"\t<{ADDRESS['HPC01']}>",
        f"To: =?windows-874?B?{base64.b64encode('สำนักงานเลขานุการกรม'.encode('cp874')).decode()}?=",
        f"\t<{SECRETARIAT}>",
        "Subject: " + "\r\n\t".join(b_words("รายงานข้อร้องเรียน ประจำเดือนพฤศจิกายน 2569", "cp874", size=30,
                                            label="windows-874")),
        f"Date: {DATE}", "Message-ID: <000001db3a7c$5f2e1b40$1d8a51c0$@anamai.example.go.th>",
        "X-Mailer: Microsoft Outlook 16.0", "Thread-Index: AdtAfF8uG0Ad9FbEQh2hQ9gUeVXm9w==", "Content-Language: th"])
    return _message(head, NIL_BODY, "windows-874", codec="cp874")


# Outlook with an Exchange address book: "Last, First (Unit)" display names quoted, folded before the address
# (Outlook 16.0 in public archives: `"'Brian Cain'" <bcain@...>` and `"Kiwoong Kim" <kwmad.kim@...>` shapes).
@shape("outlook_exchange_quoted_name_with_comma", nil_expected("HPC02"))
def _() -> bytes:
    head = "\r\n".join([
        'From: "Jaidee, Somchai (HPC02, Phitsanulok)"',
        f" <{ADDRESS['HPC02']}>", f"To: \"'Saraban'\" <{SECRETARIAT}>",
        "Subject: RE: " + b_words("รายงานข้อร้องเรียน", size=60)[0],
        f"Date: {DATE}", "Message-ID: <002101db3a7d$0c1e2f30$244a8d90$@anamai.example.go.th>",
        "X-Mailer: Microsoft Outlook 16.0", "Content-Language: en-us"])
    return _message(head, NIL_BODY)


# Thunderbird 115 (Windows and Linux): encoded words of the name split over space continuations, the address
# after the last one; the attachment named in RFC 2231 continuations (filename*0*=, filename*1*=).
@shape("thunderbird115_split_words_forms_rfc2231", {
    **nil_expected("HPC03"), "period_rule": "form", "c01_rows": 2, "c02_total": 2, "nil": False,
    "kind": "complaints"})
def _() -> bytes:
    unit_name = "ศูนย์อนามัยที่ 3 นครสวรรค์"
    files = forms(unit_name, NOV, sample_cases(NOV, 2))
    words = b_words("นางสาวสมหญิง ใจดี เจ้าหน้าที่ธุรการ ศูนย์อนามัยที่ 3 นครสวรรค์", "utf-8", size=36,
                    label="UTF-8")
    head = "\r\n".join([
        "Message-ID: <8c1f0a52-7a53-4c0e-9a0b-3c2f1e4d5a6b@anamai.example.go.th>", f"Date: {DATE}",
        "User-Agent: Mozilla Thunderbird", "Content-Language: th",
        f"To: {SECRETARIAT}",
        "From: " + "\r\n ".join(words) + f" <{ADDRESS['HPC03']}>",
        "Subject: " + "\r\n ".join(b_words("ส่งแบบรายงาน Complaint_01 และ 02 ประจำเดือนพฤศจิกายน 2569",
                                           size=36, label="UTF-8"))])
    attachments = []
    for (fname, data), thai in zip(files, ("แบบรายงานข้อร้องเรียน_Complaint_01.xlsx",
                                           "สรุปผลการจัดการข้อร้องเรียน_Complaint_02.xlsx")):
        quoted = "".join(f"%{b:02X}" for b in thai.encode())
        pieces = [quoted[i:i + 60] for i in range(0, len(quoted), 60)]
        charset = ["UTF-8''"] + [""] * len(pieces)
        cont = ";\r\n".join(f" filename*{i}*={charset[i]}{p}" for i, p in enumerate(pieces))
        attachments.append((f"Content-Type: {XLSX};\r\n name=\"{fname}\"\r\nContent-Disposition: attachment;\r\n{cont}",
                            data))
    return _message(head, "เรียน สลก.\r\n\r\nขอส่งรายงานตามแนบค่ะ\r\n", attachments=attachments)


# Gmail (web, 2024-2026): the name's encoded words folded with a TAB, attachment names as RFC 2047 words inside a
# quoted parameter, split over lines, and an X-Attachment-Id.
@shape("gmail_tab_folded_rfc2047_filename", {
    **nil_expected("HPC01"), "period_rule": "form", "c01_rows": None, "c02_total": 0, "nil": False, "kind": "nil"})
def _() -> bytes:
    name = "ศูนย์อนามัยที่ 1 เชียงใหม่ กรมอนามัย"
    words = b_words(name, size=48, label="UTF-8")
    from mailer.blank_forms import complaint_02
    data = complaint_02("ศูนย์อนามัยที่ 1 เชียงใหม่", NOV, {})
    fname = "Complaint_02 ศูนย์อนามัยที่ 1 (พฤศจิกายน 2569).xlsx"
    encoded = "\r\n\t".join(b_words(fname, size=42, label="UTF-8"))
    head = "\r\n".join([
        f"Date: {DATE}", "Message-ID: <CAFx8w3nYt8K2pQ1Vt0+5q=Zr2bX0mQ@mail.gmail.com>",
        "Subject: " + "\r\n\t".join(b_words("Complaint_02 พฤศจิกายน 2569", size=48, label="UTF-8")),
        "From: " + "\r\n\t".join(words) + f" <{ADDRESS['HPC01']}>", f"To: {SECRETARIAT}"])
    return _message(head, "ส่งแบบ 02 ค่ะ เดือนนี้ไม่มีเรื่อง\r\n", attachments=[(
        f"Content-Type: {XLSX}; \r\n\tname=\"{encoded}\"\r\nContent-Disposition: attachment; \r\n\tfilename=\"{encoded}\""
        "\r\nX-Attachment-Id: f_m3k2x9a10", data)])


# Apple Mail 16 (macOS): Q-encoded name, `Mime-Version` with the build in a comment, the address folded.
@shape("apple_mail16_q_encoded_name", nil_expected("HPC02"))
def _() -> bytes:
    head = "\r\n".join([
        "Content-Type: text/plain;\r\n\tcharset=utf-8", "Content-Transfer-Encoding: base64",
        "Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3731.500.231\\))",
        "Subject: " + q_word("รายงานข้อร้องเรียน พ.ย. 2569"),
        "From: " + q_word("ศูนย์อนามัยที่ 2") + "\r\n " + q_word(" พิษณุโลก") + f"\r\n <{ADDRESS['HPC02']}>",
        f"Date: {DATE}", "Message-Id: <A7E3C2F1-9B4D-4E2A-8F1C-3D5E6F7A8B9C@anamai.example.go.th>",
        f"To: {SECRETARIAT}", "X-Mailer: Apple Mail (2.3731.500.231)"])
    return (head + "\r\n\r\n" + _b64_lines(NIL_BODY.replace("\n", "\r\n").encode()) + "\r\n").encode()


# Thai government webmail (Zimbra 8.8 "MailGoThai"): a quoted display name holding RFC 2047 words inside the
# quotes (not allowed by RFC 2047 5, written anyway), folded before the address.
@shape("zimbra_webmail_encoded_words_inside_quotes", nil_expected("HPC03"))
def _() -> bytes:
    head = "\r\n".join([
        f"Date: {DATE}", f"From: \"{b_words('ศูนย์อนามัยที่ 3 นครสวรรค์', size=60)[0]}\"", f"\t<{ADDRESS['HPC03']}>",
        f"To: {SECRETARIAT}", "Message-ID: <1718273645.1234567.1763607900123.JavaMail.zimbra@anamai.example.go.th>",
        "Subject: " + b_words("รายงานข้อร้องเรียน", size=60)[0],
        "X-Mailer: Zimbra 8.8.15_GA_4562 (ZimbraWebClient - GC119 (Win)/8.8.15_GA_4545)", "Thread-Index: kQ2hsw8qUl"])
    return _message(head, NIL_BODY)


# A Thai webmail writing raw UTF-8 in the header (RFC 6532), the quoted name folded before the address.
@shape("webmail_raw_utf8_quoted_name", nil_expected("HPC01"))
def _() -> bytes:
    head = "\r\n".join([
        f"From: \"ศูนย์อนามัยที่ 1 เชียงใหม่ กรมอนามัย กระทรวงสาธารณสุข\"\r\n <{ADDRESS['HPC01']}>",
        f"To: {SECRETARIAT}", "Subject: รายงานข้อร้องเรียน", f"Date: {DATE}",
        "Message-ID: <webmail.6532@anamai.example.go.th>"])
    return _message(head, NIL_BODY)


# An encoded word split inside a Thai character (the bytes of one character over two words, as Outlook's and
# NeoMutt's byte-counted splits do), continuation lines, the address on a line of its own.
@shape("encoded_word_split_inside_thai_character", nil_expected("HPC02"))
def _() -> bytes:
    words = b_words("ศูนย์อนามัยที่ 2 พิษณุโลก กรมอนามัย", size=16)  # 16 bytes: cuts 3-byte characters
    head = "\r\n".join([
        "From: " + "\r\n\t".join(words), f"\t<{ADDRESS['HPC02']}>", f"To: {SECRETARIAT}",
        "Subject: " + "\r\n ".join(b_words("รายงานข้อร้องเรียน", size=16)), f"Date: {DATE}",
        "Message-ID: <split.char@anamai.example.go.th>"])
    return _message(head, NIL_BODY)
