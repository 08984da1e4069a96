"""Bad and hostile input, who may speak for a unit, and personal data (PDPA)."""

from __future__ import annotations

import io
import logging
import time
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Text, cast, func, select, update

from bot.samples import forms, make_mail, sample_cases
from bot.storing import process_one
from intake.reading import read_documents
from intake.message import Attachment
from intake.models import InboundMessage
from tests.stored import stored_cases
from intake.context import Fetched
from intake.retention import purge
from mailer.models import OutboxMessage
from scoring.periods import Period
from tests.conftest import DOMAIN, SECRETARIAT, bkk, compose_queued_receipts

NOV = Period(2026, 11)
U1 = f"hpc01@{DOMAIN}"
BOMB_DTD = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
            + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
            + "]>")


def _send(app, raw: bytes, when: datetime = bkk(2026, 11, 10)):  # type: ignore[no-untyped-def]
    return process_one(app, Fetched(raw=raw, arrived_at=when))


def _mail(body: str = "ไม่มีข้อร้องเรียนครับ", sender: str = U1, **kw) -> bytes:  # type: ignore[no-untyped-def]
    if not sender.isascii():  # internationalised addresses arrive as raw UTF-8 (SMTPUTF8)
        return (f"From: {sender}\r\nTo: {SECRETARIAT}\r\nSubject: x\r\n"
                f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()
    return make_mail(sender=sender, to=SECRETARIAT, subject=kw.pop("subject", "รายงาน"), body=body,
                     date_=bkk(2026, 11, 10), **kw)


def _receipts(app) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    compose_queued_receipts(app)
    with app.sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "receipt")))


def test_xml_bombs_in_workbooks_and_memos_are_refused_quickly(parsers) -> None:
    xlsx = io.BytesIO()
    good = forms("x", NOV, sample_cases(NOV, 1))[0][1]
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(xlsx, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', b"", 1)
                data = BOMB_DTD.encode() + data.replace(b"<v>", b"<v>&lol9;", 1)
            dst.writestr(item, data)
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", BOMB_DTD + '<w:document xmlns:w="x"><w:body>&lol9;</w:body></w:document>')
    started = time.monotonic()
    doc = read_documents([Attachment("bomb.xlsx", "", xlsx.getvalue()), Attachment("bomb.docx", "", docx.getvalue())], parsers)
    assert time.monotonic() - started < 5
    assert doc.memo_nil == [] and "unreadable_attachment" in {p.code for p in doc.problems}


def test_deeply_nested_mime_is_kept_and_answered(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    body = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(3000))
    raw = f"From: {U1}\r\nTo: {SECRETARIAT}\r\nSubject: x\r\nMIME-Version: 1.0\r\n".encode() + body
    result = _send(app, raw)
    assert result.outcome == "no_report" and len(_receipts(app)) == 1
    with app.sessions() as s:
        assert s.get(InboundMessage, result.inbound_id).raw == raw


def test_very_long_lines_and_unknown_charsets(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    raw = (f"From: {U1}\r\nTo: {SECRETARIAT}\r\nSubject: =?x-unknown?B?4Lij4Liy4Lii?=\r\n"
           "Content-Type: text/plain; charset=x-martian\r\n\r\n").encode() + "ไม่มีข้อร้องเรียน ".encode() * 200_000
    assert _send(app, raw).outcome == "report"


def test_oversized_message_is_held_and_the_sender_told(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, MAX_MESSAGE_MB="1")
    result = _send(app, _mail(attachments=[("big.xlsx", b"PK" + b"\0" * 1_200_000)]))
    assert result.outcome == "needs_review" and [p.code for p in result.problems] == ["message_too_large"]
    assert len(_receipts(app)) == 1


def test_html_from_units_is_escaped_in_receipts(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    name = '<img src=x onerror="alert(1)">.xlsx'
    _send(app, _mail("ส่งไฟล์", attachments=[(name, b"PK\x03\x04broken")]))
    [receipt] = _receipts(app)
    import email
    import email.policy

    html = email.message_from_bytes(receipt.raw, policy=email.policy.default).get_body(("html",)).get_content()
    assert "<img src=x" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


@pytest.mark.parametrize("sender", [
    "hpc01@аnamai.example.go.th",  # Cyrillic а: a look-alike domain
    "hpc01@anamai.example.go.th.evil.example",
    '"hpc01@anamai.example.go.th" <someone@evil.example>',
    "HPC01@ANAMAI.EXAMPLE.GO.TH.",
])
def test_look_alike_senders_do_not_count_and_get_no_answer(sender: str, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    result = _send(app, _mail(sender=sender))
    disguised = sender.startswith('"') or sender.endswith(".")  # disguised or unparseable: a person looks
    assert result.outcome == ("needs_review" if disguised else "set_aside")
    assert result.unit is None and _receipts(app) == []


def delivered(raw: bytes, results: str, authserv_id: str = "mx.anamai.example.go.th") -> bytes:
    """The message as our receiving server stores it: its Authentication-Results and Received on top."""
    return (f"Authentication-Results: {authserv_id}; {results}\r\n"
            f"Received: from sender.example by {authserv_id}; Tue, 10 Nov 2026 10:00:00 +0700\r\n").encode() + raw


def test_dmarc_failure_from_our_server_holds_the_message(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, TRUSTED_AUTHSERV_ID="mx.anamai.example.go.th")
    forged = delivered(_mail(), "spf=fail smtp.mailfrom=evil.example; dkim=none; dmarc=fail (p=none) "
                                "header.from=anamai.example.go.th")
    result = _send(app, forged)
    assert result.outcome == "needs_review" and "dmarc=fail" in result.reason and _receipts(app) == []
    # A header written by someone else's server (or the sender) is not believed: no verdict, a person decides.
    planted = _mail("ไม่มีข้อร้องเรียนค่ะ", headers={"Authentication-Results": "mx.anamai.example.go.th; dmarc=pass "
                                                                            "header.from=anamai.example.go.th"})
    assert _send(app, planted).outcome == "needs_review"
    passed = delivered(_mail("ไม่มีข้อร้องเรียน", sender=f"hpc02@{DOMAIN}"),
                       "dkim=pass header.d=anamai.example.go.th; dmarc=pass header.from=anamai.example.go.th")
    assert _send(app, passed).outcome == "report"


def test_secretariat_commands_need_a_configured_address_that_passes_dmarc(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, DIGEST_TO=f"chief@{DOMAIN}", TRUSTED_AUTHSERV_ID="mx.anamai.example.go.th")
    ok = "dmarc=pass header.from=anamai.example.go.th"
    # An unregistered colleague's `สถานะ` is no one's request (a unit's own record needs a unit's address): refused,
    # unanswered, listed for the secretariat.
    assert _send(app, delivered(_mail("x", sender=f"other@{DOMAIN}", subject="สถานะ"), ok)).outcome == "command_refused"
    forged = delivered(_mail("x", sender=f"chief@{DOMAIN}", subject="digest"), "dmarc=fail header.from=anamai.example.go.th")
    assert _send(app, forged).outcome == "needs_review"
    assert _send(app, _mail("x", sender=f"chief@{DOMAIN}", subject="digest")).outcome == "needs_review"  # unverified
    assert _send(app, delivered(_mail("x", sender=f"chief@{DOMAIN}", subject="สถานะ"), ok)).outcome == "command"
    with app.sessions() as s:
        sent = [(o.kind, o.recipients) for o in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    # Only the chief gets the digest.
    assert sent == [("digest", [f"chief@{DOMAIN}"])]


def test_no_personal_data_or_secrets_in_logs(db_url, make_app, caplog, dovecot, imap_user) -> None:  # type: ignore[no-untyped-def]
    from bot.service import poll_once
    from intake.errors import SourceError

    caplog.set_level(logging.DEBUG)
    app = make_app(db_url)
    _send(app, _mail("ส่งรายงาน นายสมชาย โทร 081-234-5678", attachments=forms("x", NOV, sample_cases(NOV, 3))))
    _send(app, b"From: \xff\xfe broken\r\n\r\n" + "นางสาวสมหญิง ดีมาก".encode())
    bad = make_app(db_url, MAIL_SOURCE=dovecot.url(imap_user, password="Sup3r-Secret!"))
    with pytest.raises(SourceError) as err:
        poll_once(bad, bad.source())
    text = caplog.text + str(err.value)
    for secret in ("สมชาย", "สมหญิง", "081-234-5678", "Sup3r-Secret!", "test-secret-4f1c9a7e2b6d8035c1e9a4f7b2d6"):
        assert secret not in text


def test_purge_after_retention_keeps_counts_and_hashes(db_url, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.evidence import build_evidence, verify_evidence
    from bot.reporting import status_report

    app = make_app(db_url)
    old = _send(app, _mail("ส่งรายงาน", subject="ประจำเดือน ต.ค. 69",
                           attachments=forms("x", Period(2026, 10), sample_cases(Period(2026, 10), 2))),
                bkk(2026, 10, 20))
    _send(app, _mail("ส่งรายงาน", attachments=forms("x", NOV, sample_cases(NOV, 2))), bkk(2026, 11, 20))
    before = status_report(app, Period(2026, 10), bkk(2026, 12, 1))["units"][0]
    with app.sessions.begin() as s:
        assert purge(s, "2026-11", datetime.now(UTC), dry_run=True).messages == 1
        report = purge(s, "2026-11", datetime.now(UTC))
    assert (report.messages, report.cases) == (1, 2)  # October's message and its two named complainants
    with app.sessions() as s:
        msg = s.get(InboundMessage, old.inbound_id)
        assert msg.raw == b"" and msg.purged_at is not None and len(msg.sha256) == 64
        names = {c.complainant for _, c in stored_cases(s)}
    assert "" in names and "นายสมชาย ใจดี" in names  # November's are within retention
    assert status_report(app, Period(2026, 10), bkk(2026, 12, 1))["units"][0] == before
    out = tmp_path / "ev.zip"
    build_evidence(app, app.registry.get("HPC01"), 2570, bkk(2026, 12, 1), out)
    assert verify_evidence(out) == []
    with zipfile.ZipFile(out) as zf:
        assert old_sha(app, old.inbound_id) in zf.read("purged-originals-sha256.txt").decode()


def old_sha(app, inbound_id: int) -> str:  # type: ignore[no-untyped-def]
    with app.sessions() as s:
        return s.get(InboundMessage, inbound_id).sha256


def test_purge_masks_names_in_free_text_and_empties_old_mail(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace as dc_replace

    from mailer.outbox import purge_sent

    app = make_app(db_url)
    october = Period(2026, 10)
    cases = [dc_replace(c, subject=f"นายสมชาย ใจดี แจ้งว่า {c.subject} โทร 081-234-5678")
             for c in sample_cases(october, 2)]
    _send(app, _mail("ส่งรายงาน", subject="ประจำเดือน ต.ค. 69 นางสาวสมหญิง ดีมาก",
                     attachments=forms("x", october, cases)), bkk(2026, 10, 20))
    with app.sessions.begin() as s:
        s.execute(update(OutboxMessage).values(status="sent"))
        purge(s, "2026-11", datetime.now(UTC))
        assert purge_sent(s, datetime.now(UTC) + timedelta(seconds=1)) == 1  # queued just now, in this test
    with app.sessions.begin() as s:  # what is purged is not counted (nor rewritten) again
        assert purge_sent(s, datetime.now(UTC) + timedelta(seconds=1), dry_run=True) == 0
    with app.sessions() as s:
        texts = [c.subject for _, c in stored_cases(s)] + [m.subject for m in s.scalars(select(InboundMessage))]
        raws = [o.raw for o in s.scalars(select(OutboxMessage))]
    assert texts and not any("สมชาย" in t or "สมหญิง" in t or "081-234" in t for t in texts), texts
    assert raws == [b""]
    with app.sessions.begin() as s:  # nor a row purged before 2026-12, whose payload holds the JSON text `null`
        now = datetime.now(UTC) - timedelta(days=1)
        s.add(OutboxMessage(idempotency_key="purged-long-ago", kind="receipt", recipients=[], subject="",
                            message_id="<old@example>", raw=b"", payload=None, status="sent", created_at=now,
                            next_attempt_at=now))
        s.flush()
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
            cast(OutboxMessage.payload, Text) == "null")) == 1
        assert purge_sent(s, datetime.now(UTC) + timedelta(seconds=1), dry_run=True) == 0
