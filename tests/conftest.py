"""Shared fixtures: real Dovecot, real aiosmtpd, SQLite and PostgreSQL databases, apps built from settings."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer, Envelope, Session

from bot.app import App, build_app
from config.settings import settings_from_mapping
from intake.sandbox import Limits, Sandbox
from tests import servers

if TYPE_CHECKING:
    from mailer.models import OutboxMessage

BKK = ZoneInfo("Asia/Bangkok")
SECRET = "test-secret-4f1c9a7e2b6d8035c1e9a4f7b2d6"  # SECRET_KEY of the tests' apps (the corpus signs with it)
DOMAIN = "anamai.example.go.th"
SECRETARIAT = f"saraban@{DOMAIN}"
UNITS = f"""code,name,senders,contacts,active
HPC01,ศูนย์อนามัยที่ 1 เชียงใหม่,hpc01@{DOMAIN},clerk01@{DOMAIN},yes
HPC02,ศูนย์อนามัยที่ 2 พิษณุโลก,hpc02@{DOMAIN},,yes
HPC03,ศูนย์อนามัยที่ 3 นครสวรรค์,hpc03@{DOMAIN},,yes
DIV01,กองการเจ้าหน้าที่,central@{DOMAIN},,yes
DIV02,กองคลัง,central@{DOMAIN},,yes
OLD01,กองที่ยุบรวมแล้ว,old01@{DOMAIN},,no
"""


def bkk(*args: int) -> datetime:
    return datetime(*args, tzinfo=BKK)  # type: ignore[misc]


# --- SMTP -----------------------------------------------------------------------------------------

@dataclass
class Captured:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class CaptureHandler:
    messages: list[Captured] = field(default_factory=list)
    reject_rcpt: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply
    data_reply: str | None = None  # e.g. "451 4.3.0 try again later"

    async def handle_RCPT(self, server: SMTPServer, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.reject_rcpt:
            return self.reject_rcpt[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(), policy=email.policy.default)
        self.messages.append(Captured(str(envelope.mail_from), list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 Message accepted"


@dataclass
class SmtpFixture:
    port: int
    handler: CaptureHandler
    controller: Controller

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp() -> Iterator[SmtpFixture]:
    handler = CaptureHandler()
    port = servers.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpFixture(port, handler, controller)
    finally:
        controller.stop()


# --- IMAP -----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def dovecot() -> Iterator[servers.Dovecot]:
    if not servers.ensure_dovecot():
        servers.unavailable("Dovecot (apt-get install dovecot-imapd)")
    server = servers.start_dovecot()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap_user(dovecot: servers.Dovecot) -> str:
    return dovecot.new_user()


@pytest.fixture(scope="session")
def neomutt() -> str:
    """The path of a real NeoMutt (tests/clients/neomutt.py writes messages with it)."""
    path = servers.ensure_neomutt()
    if not path:
        servers.unavailable("NeoMutt (apt-get install neomutt)")
    return path  # type: ignore[return-value]


# --- Sandboxed parsers -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def parsers() -> Iterator[Sandbox]:
    """A real parser pool (worker processes with limits), shared by the tests that read files directly."""
    sandbox = Sandbox(Limits(memory_mb=1024, cpu_seconds=10, wall_seconds=15.0, workers=2))
    try:
        yield sandbox
    finally:
        sandbox.close()


# --- Databases ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_ok() -> bool:
    return servers.postgres_reachable()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_ok: bool) -> Iterator[str]:
    """Each test using this runs on SQLite and on PostgreSQL (required under CI=true)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.sqlite3'}"
        return
    if not postgres_ok:
        servers.unavailable("PostgreSQL on 127.0.0.1:5432")
    name, url = servers.create_pg_database()
    try:
        yield url
    finally:
        servers.drop_pg_database(name)


@pytest.fixture
def sqlite_only_url(tmp_path: Path) -> str:
    """For the few tests about SQLite itself (file locks)."""
    return f"sqlite:///{tmp_path / 'bot.sqlite3'}"


MakeApp = Callable[..., App]


@pytest.fixture
def make_app(tmp_path: Path) -> MakeApp:
    """Build an App from environment-style settings, as a deployment would."""
    apps: list[App] = []

    def factory(database_url: str, **env: str) -> App:
        units = tmp_path / "units.csv"
        if not units.exists():
            units.write_text(UNITS, encoding="utf-8")
        mapping = {"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path / "data"), "UNITS_FILE": str(units),
                   "SECRETARIAT_EMAIL": SECRETARIAT, "TRUSTED_DOMAINS": DOMAIN, "SECRET_KEY": "test-secret-4f1c9a7e2b6d8035c1e9a4f7b2d6",
                   "SMTP_URL": f"file:{tmp_path / 'sent'}", **env}
        app = build_app(settings_from_mapping(mapping, base_dir=tmp_path))
        apps.append(app)
        return app

    yield factory  # type: ignore[misc]
    for app in apps:
        app.close()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Commands configure the root logger; keep that from leaking into the next test."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


# --- Tiers: `pytest -m "not slow"` is the inner loop (well under a minute); CI runs everything ------------

SLOW_FIXTURES = {"dovecot", "imap_user", "smtp", "neomutt"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that asks for a server (Dovecot, aiosmtpd, NeoMutt) in its signature is in the slow tier, as is one
    marked `imap`; the rest mark themselves where they stand (a module's `pytestmark`, a test's mark, the
    PostgreSQL parameter of `db_url`)."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("imap"):
            item.add_marker(pytest.mark.slow)


class Tasks(list[str]):
    """What the parser sandbox was handed: one name per message or file read (a group's task, `read_messages`,
    counts as its reader's name once per message it carries), and how many tasks that took (`started`)."""

    started = 0


def record_tasks(app: App, monkeypatch: pytest.MonkeyPatch) -> Tasks:
    """The functions handed to the app's parser sandbox from now on, in order (see `Tasks`)."""
    tasks = Tasks()
    real_submit = app.parsers.submit

    def submit(fn, *args):  # type: ignore[no-untyped-def]
        tasks.started += 1
        if fn.__name__ == "read_messages":
            tasks.extend([args[0].__name__] * len(args[1]))
        else:
            tasks.append(fn.__name__)
        return real_submit(fn, *args)

    monkeypatch.setattr(app.parsers, "submit", submit)
    return tasks


def compose_queued_receipts(app: App) -> int:
    """Compose every receipt queued as data, as the sender does before sending (`send_due`'s composer), so a
    test can read the rows' subject and bytes without sending them. How many were composed."""
    from sqlalchemy import select

    from mailer.models import OutboxMessage
    from mailer.receipts import compose_queued

    mail = app.mail
    with app.sessions.begin() as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.payload.is_not(None), OutboxMessage.raw == b"")))
        for row in rows:
            row.subject, row.raw = compose_queued(row, mail)
    return len(rows)


def plain_text(row: OutboxMessage) -> str:
    """The text part of a queued message, as a mail client shows it."""
    msg = email.message_from_bytes(row.raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(("plain",))
    assert part is not None
    return part.get_content()
