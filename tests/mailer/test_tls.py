"""TLS is verified on both sides: imaps:// against Dovecot, STARTTLS + AUTH against aiosmtpd."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.samples import make_mail
from bot.service import flush_outbox, poll_once
from intake.errors import SourceError
from mailer.outbox import Envelope, enqueue
from tests import servers
from tests.conftest import DOMAIN, SECRETARIAT, CaptureHandler, bkk

pytestmark = pytest.mark.slow  # servers, subprocesses or whole-project checks

U1 = f"hpc01@{DOMAIN}"


def test_imaps_with_a_private_ca(dovecot, imap_user, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    dovecot.append(imap_user, make_mail(sender=U1, to=SECRETARIAT, subject="x", body="ไม่มีข้อร้องเรียน",
                                        date_=bkk(2026, 11, 3)), bkk(2026, 11, 3))
    app = make_app(db_url, MAIL_SOURCE=dovecot.tls_url(imap_user), TLS_CA_FILE=str(dovecot.cert))
    source = app.source()
    assert poll_once(app, source).processed == 1
    source.close()


def test_imaps_refuses_an_unverified_certificate(dovecot, imap_user, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url, MAIL_SOURCE=dovecot.tls_url(imap_user))
    with pytest.raises(SourceError) as err:
        poll_once(app, app.source())
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value)


def test_imap_pointed_at_a_tls_port_says_use_imaps(dovecot, imap_user, sqlite_only_url, make_app) -> None:  # type: ignore[no-untyped-def]
    """imap:// at the imaps port: a clear answer within seconds, not a 60-second timeout."""
    import time

    url = dovecot.tls_url(imap_user).replace("imaps://", "imap://")
    app = make_app(sqlite_only_url, MAIL_SOURCE=url)
    started = time.monotonic()
    with pytest.raises(SourceError) as err:
        poll_once(app, app.source())
    assert "speaks TLS: use imaps://" in str(err.value) and time.monotonic() - started < 15
    assert servers.PASSWORD not in str(err.value)


class _Auth:
    def __call__(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"bot" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_tls(tmp_path) -> Iterator[tuple[int, CaptureHandler, str]]:  # type: ignore[no-untyped-def]
    cert, key = servers.make_cert(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    handler = CaptureHandler()
    port = servers.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
                            authenticator=_Auth(), auth_required=True)
    controller.start()
    try:
        yield port, handler, str(cert)
    finally:
        controller.stop()


def _queue_one(app) -> None:  # type: ignore[no-untyped-def]
    from mailer.compose import build_message

    raw = build_message(from_addr=SECRETARIAT, from_name="สลก.", to=[U1], subject="ทดสอบ", text="ข้อความ",
                        html="<p>ข้อความ</p>", message_id="<t@x>", date=datetime.now(UTC))
    with app.sessions.begin() as s:
        enqueue(s, Envelope(key="t", kind="receipt", recipients=[U1], subject="ทดสอบ", message_id="<t@x>", raw=raw),
                datetime.now(UTC))


def test_starttls_and_auth(smtp_tls, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    port, handler, ca = smtp_tls
    app = make_app(db_url, SMTP_URL=f"smtp+starttls://bot:s3cret@127.0.0.1:{port}", TLS_CA_FILE=ca)
    _queue_one(app)
    assert flush_outbox(app).sent == 1
    assert handler.messages[0].recipients == [U1]


def test_refused_login_keeps_the_message_for_a_retry(smtp_tls, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    port, handler, ca = smtp_tls
    app = make_app(db_url, SMTP_URL=f"smtp+starttls://bot:wrong@127.0.0.1:{port}", TLS_CA_FILE=ca)
    _queue_one(app)
    report = flush_outbox(app)
    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    assert handler.messages == []
