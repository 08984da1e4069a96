"""Mail written by software other than ours (tests/clients): a real client's messages, the standard library's
generator under each policy, and hand-copied header shapes of common clients, each through the real pipeline
with its stated outcome; a property test over display names and addresses."""

from __future__ import annotations

import json
import uuid
from email import policy as policies
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from bot.app import App
from bot.cycle import send_digest
from bot.reporting import status_report
from bot.samples import forms, sample_cases
from bot.service import flush_outbox, poll_once
from bot.storing import process_one
from intake.message import parse_message
from intake.models import Exemption
from intake.context import Fetched
from mailer.models import OutboxMessage
from scoring.periods import Period
from tests.clients import ADDRESS, DOMAIN, LONG_NAMES, NIL_BODY, NOV_ARRIVAL, neomutt as clients_neomutt, nil_expected
from tests.clients import shapes, stdlib
from tests.conftest import bkk, compose_queued_receipts

NOV = Period(2026, 11)
from tests.golden import check_golden

NEOMUTT = sorted(p.name[: -len(".eml")] for p in clients_neomutt.FOLDER.glob("*.eml"))


def test_neomutt_corpus_is_complete() -> None:
    assert sorted(clients_neomutt.MESSAGES) == NEOMUTT


@pytest.mark.parametrize("name", NEOMUTT)
def test_neomutt_message(name: str, make_app, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """As NeoMutt wrote it (committed): a From folded before the address, split encoded words, Thai filenames."""
    expected = json.loads((clients_neomutt.FOLDER / f"{name}.expected.json").read_text(encoding="utf-8"))
    check_golden(make_app(db_url), (clients_neomutt.FOLDER / f"{name}.eml").read_bytes(), expected)


@pytest.mark.parametrize("name", sorted(shapes.SHAPES))
def test_client_header_shape(name: str, make_app, db_url: str) -> None:  # type: ignore[no-untyped-def]
    """Header blocks as Outlook, Thunderbird, Gmail, Apple Mail and Thai webmail write them."""
    build, expected = shapes.SHAPES[name]
    check_golden(make_app(db_url), build(), expected)


@pytest.mark.parametrize("line_length", stdlib.LINE_LENGTHS)
@pytest.mark.parametrize("policy", stdlib.POLICIES)
@pytest.mark.parametrize("unit", sorted(set(LONG_NAMES) - {"DIV02"}))
def test_stdlib_generator(unit: str, policy: str, line_length: int, make_app, sqlite_only_url: str) -> None:  # type: ignore[no-untyped-def]
    """The standard library's generator under each policy and line length, with each unit's long name."""
    raw = stdlib.nil_message(LONG_NAMES[unit], ADDRESS[unit], policy, line_length)
    check_golden(make_app(sqlite_only_url), raw, nil_expected(unit))


# --- Property: any display name, any registered address, every generator -----------------------------------------

THAI = "".join(chr(c) for c in range(0x0E01, 0x0E3B)) + "".join(chr(c) for c in range(0x0E40, 0x0E5C))
NAME_CHARS = THAI + "abcxyzABCXYZ0129 ,\"'().;:<>\\-_/&"  # no "@": a name holding an address is held on purpose
names = st.text(alphabet=NAME_CHARS, max_size=120)
atoms = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_+-", min_size=1, max_size=12)
local_parts = st.lists(atoms, min_size=1, max_size=3).map(".".join)
domains = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10),
                   min_size=2, max_size=4).map(".".join)
GENERATORS = [(p, n) for p in stdlib.POLICIES for n in stdlib.LINE_LENGTHS]


@settings(max_examples=400, deadline=None)
@given(name=names, local=local_parts, domain=domains, generator=st.sampled_from(GENERATORS))
def test_any_display_name_yields_exactly_the_address(name: str, local: str, domain: str,
                                                     generator: tuple[str, int]) -> None:
    address = f"{local}@{domain}"
    parsed = parse_message(stdlib.nil_message(name, address, *generator))
    assert (parsed.from_addr, parsed.sender_problem) == (address, None)
    # The name's words, whatever white space the generator left between them: it may put a space between two
    # encoded words, where RFC 2047 6.2 says a reader drops it ("กก :" written as two words reads "กก:").
    assert "".join(parsed.from_name.split()) == "".join(name.split()) or not name.strip()
    assert "  " not in parsed.from_name  # runs of spaces read as one


# Registered addresses of several shapes (dots, plus, hyphen, digits, a subdomain); each its own unit.
PROPERTY_UNITS = {"PRP01": "saraban.hpc01@anamai.example.go.th", "PRP02": "hpc-02+report@anamai.example.go.th",
                  "PRP03": "s.k.2569@mail.hpc3.anamai.example.go.th", "PRP04": "a@b.example.go.th"}


_APPS: dict[Path, App] = {}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, unit=st.sampled_from(sorted(PROPERTY_UNITS)), generator=st.sampled_from(GENERATORS),
       upper=st.booleans())
def test_a_nil_statement_from_any_display_name_counts_for_its_unit(
        name: str, unit: str, generator: tuple[str, int], upper: bool, make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if tmp_path not in _APPS:  # one app for all examples (hypothesis calls the test body many times)
        (tmp_path / "units.csv").write_text("code,name,senders,contacts,active\n" + "".join(
            f"{code},หน่วยงาน {code},{address},,yes\n" for code, address in PROPERTY_UNITS.items()), encoding="utf-8")
        _APPS.clear()
        _APPS[tmp_path] = make_app(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    app = _APPS[tmp_path]
    address = PROPERTY_UNITS[unit]
    written = address.upper() if upper else address  # clients keep the case the clerk typed
    raw = stdlib.nil_message(name, written, *generator, message_id=f"<{uuid.uuid4()}@anamai.example.go.th>")
    result = process_one(app, Fetched(raw=raw, arrived_at=NOV_ARRIVAL))
    assert result is not None and result.outcome == "report", result and result.reason
    assert result.unit is not None and result.unit.code == unit and result.period == Period(2026, 11)
    assert result.report is not None and result.report.state.kind == "nil"


# --- Written anew by the installed NeoMutt; a realistic month through Dovecot --------------------------------------

@pytest.mark.parametrize("name", sorted(clients_neomutt.MESSAGES))
def test_neomutt_writes_it_anew(name: str, neomutt: str, make_app, sqlite_only_url: str) -> None:  # type: ignore[no-untyped-def]
    """The committed messages' specifications written by the NeoMutt installed here (CI installs it)."""
    spec = clients_neomutt.MESSAGES[name]
    check_golden(make_app(sqlite_only_url), clients_neomutt.write_with_neomutt(spec, neomutt), spec.expected)


MONTH_UNITS = 38
PLACES = ["เชียงใหม่", "พิษณุโลก", "นครสวรรค์", "สระบุรี", "ราชบุรี", "ชลบุรี", "ขอนแก่น", "อุดรธานี", "นครราชสีมา",
          "อุบลราชธานี", "นครศรีธรรมราช", "ยะลา"]


def _month_units() -> list[tuple[str, str, str]]:
    """(code, registry name, address): health centres and divisions, as a department's registry lists them."""
    out = []
    for i in range(1, MONTH_UNITS + 1):
        name = (f"ศูนย์อนามัยที่ {i} {PLACES[(i - 1) % len(PLACES)]}" if i <= 24
                else f"กองส่งเสริมสุขภาพและอนามัยสิ่งแวดล้อม สาขาที่ {i - 24}")
        out.append((f"M{i:02d}", name, f"saraban.m{i:02d}@{DOMAIN}"))
    return out


def test_a_month_of_client_written_mail_through_dovecot(neomutt: str, dovecot, imap_user, smtp,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path, make_app) -> None:
    """41 messages from 38 units, written by NeoMutt and by the standard library's generator with each unit's
    long Thai name folded before the address: every unit gets the status its mail earns and its receipt goes to
    the address in the folded header."""
    units = _month_units()
    (tmp_path / "units.csv").write_text("code,name,senders,contacts,active\n" + "".join(
        f"{code},{name},{address},,yes\n" for code, name, address in units), encoding="utf-8")
    expected: dict[str, tuple[str, str]] = {}
    for i, (code, name, address) in enumerate(units):
        realname = f"{name} กรมอนามัย"
        late = i % 9 == 8
        when = bkk(2026, 11, 26, 9, i) if late else bkk(2026, 11, 3 + i % 20, 10, i)
        if i % 3 == 0:  # NeoMutt, UTF-8 or windows-874, forms or a nil statement
            with_forms = i % 2 == 0
            spec = clients_neomutt.Sent(
                code, "windows-874" if i % 6 == 3 else "utf-8", f"ส่งรายงานข้อร้องเรียน ประจำเดือนพฤศจิกายน 2569 {name}",
                "ขอส่งแบบรายงานตามแนบ\n" if with_forms else NIL_BODY, {},
                (lambda n=name: [(f"แบบรายงาน {f} {n}.xlsx", d) for f, d in forms(n, NOV, sample_cases(NOV, 2))])
                if with_forms else (lambda: []), realname=realname, address=address)
            raw = clients_neomutt.write_with_neomutt(spec, neomutt)
            kind = "complaints" if with_forms else "nil"
        else:  # the standard library's generator, every policy and line length in turn
            policy, length = GENERATORS[i % len(GENERATORS)]
            raw = stdlib.nil_message(realname, address, policy, length, message_id=f"<month.{code}@{DOMAIN}>")
            kind = "nil"
        dovecot.append(imap_user, raw, when)
        expected[code] = ("late" if late else "on_time", kind)
    # Three units write twice: a correction (NeoMutt), a second nil statement, and the same message resent.
    for code, name, address in units[:3]:
        again = stdlib.nil_message(f"{name} (แก้ไข)", address, "SMTP", 78, message_id=f"<again.{code}@{DOMAIN}>")
        dovecot.append(imap_user, again, bkk(2026, 11, 24, 16))
    app = make_app(f"sqlite:///{tmp_path / 'bot.sqlite3'}", MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url)
    source = app.source()
    report = poll_once(app, source)
    source.close()
    assert report.seen == MONTH_UNITS + 3 == 41
    assert report.outcomes == {"report": 41}, report.outcomes
    status = {u["unit"]: (u["status"], u["kind"]) for u in status_report(app, NOV, bkk(2026, 11, 27))["units"]}
    # A unit that wrote again before the deadline is on time whatever its first message was.
    for code, _, _ in units[:3]:
        expected[code] = ("on_time", expected[code][1])
    assert status == expected
    assert flush_outbox(app).sent == 41
    assert sorted({m.recipients[0] for m in smtp.handler.messages}) == sorted(a for _, _, a in units)


def test_a_staff_reply_with_a_folded_from_commands_and_is_answered(make_app, sqlite_only_url: str) -> None:  # type: ignore[no-untyped-def]
    """The clerk's client folds her long name before the address, and our MX folds its Authentication-Results
    over three lines (OpenDKIM/OpenDMARC's shape): the reply to the digest commands, and the answer goes to her."""
    clerk = f"saraban.clerk@{DOMAIN}"
    app = make_app(sqlite_only_url, TRUSTED_AUTHSERV_ID="mx.anamai.example.go.th", STAFF_EMAILS=clerk,
                   DIGEST_TO=clerk)
    with time_machine.travel(bkk(2026, 11, 26, 9), tick=False):
        send_digest(app, NOV, bkk(2026, 11, 26, 9), "digest:2026-11")
        with app.sessions() as s:
            digest = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")).one()
        reply = EmailMessage(policy=policies.SMTP)
        reply["From"] = Address("นางสาวสมศรี ใจงาม นักวิเคราะห์นโยบายและแผน สำนักงานเลขานุการกรม", addr_spec=clerk)
        reply["To"] = "saraban@" + DOMAIN
        reply["Subject"] = "Re: " + digest.subject
        reply["In-Reply-To"] = digest.message_id
        reply["References"] = f"<earlier.thread@{DOMAIN}> {digest.message_id}"  # folds: two ids, a long line
        reply.set_content("ยกเว้น HPC02 พฤศจิกายน 2569 เหตุผล ปิดปรับปรุงอาคาร\n\nขอบคุณค่ะ\n")
        results = (b"Authentication-Results: mx.anamai.example.go.th;\r\n\tdkim=pass (2048-bit key; unprotected) "
                   b"header.d=anamai.example.go.th header.i=@anamai.example.go.th header.b=\"Xk3f9a1Q\";\r\n"
                   b"\tdmarc=pass (p=none dis=none) header.from=anamai.example.go.th\r\n")
        result = process_one(app, Fetched(raw=results + reply.as_bytes(), arrived_at=bkk(2026, 11, 26, 9, 30)))
        assert result is not None and result.outcome == "command", result.reason
        compose_queued_receipts(app)
        with app.sessions() as s:
            [answer] = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "staff")).all()
            assert s.scalars(select(Exemption.unit_code)).all() == ["HPC02"]
        assert answer.recipients == [clerk]


@pytest.mark.parametrize("policy_name", ["default", "SMTP", "SMTPUTF8"])
def test_a_long_message_id_replied_to_by_pythons_generator_is_read(policy_name: str) -> None:
    """Python 3.11's generator writes a long In-Reply-To as RFC 2047 encoded words under its default policy (RFC
    2047 forbids them there); the identifier is read as meant, so the reply still threads to the bot's mail."""
    import email.policy
    from email.message import EmailMessage

    from intake.message import parse_message

    ours = "<cr.reminder.HPC01.2026-11.f6cabdddecd5.76911098cc8ac770@anamai.example.go.th>"
    msg = EmailMessage(policy=getattr(email.policy, policy_name))
    msg["From"], msg["To"], msg["Subject"] = ADDRESS, f"saraban@{DOMAIN}", "Re: แจ้งเตือน"
    msg["In-Reply-To"], msg["References"] = ours, f"<a@b> {ours}"
    msg.set_content("ไม่มีข้อร้องเรียน")
    parsed = parse_message(msg.as_bytes())
    assert parsed.in_reply_to == ours and parsed.references == ["<a@b>", ours]


def _every_stored_message() -> list[Path]:
    return sorted(clients_neomutt.FOLDER.glob("*.eml")) + sorted((Path(__file__).parents[1] / "data").glob("*.eml"))


@pytest.mark.parametrize("path", _every_stored_message(), ids=lambda p: p.name)
def test_the_workers_parse_given_the_header_blocks_sender_is_the_same(path: Path) -> None:
    """A unit's message is read in a parser worker with the sender the storing process found in its header block
    (bot/lookahead.py), so the strict From parse is not done twice: on mail written by NeoMutt and on every golden
    message, the parse given that identity is the parse the worker would have made alone."""
    raw = path.read_bytes()
    head = parse_message(raw, body=False)
    assert parse_message(raw, sender=(head.from_addr, head.from_name, head.sender_problem)) == parse_message(raw)
