"""Settings: read once from the environment and `.env`, validated, then passed around as values."""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from config.errors import ConfigError
from config.oauth import OAuthSettings

if TYPE_CHECKING:
    import ssl


@dataclass(frozen=True)
class ImapSettings:
    secure: bool
    host: str
    port: int
    user: str
    password: str
    folder: str


@dataclass(frozen=True)
class SmtpSettings:
    """Where outgoing mail goes: an SMTP server, or a folder of .eml files (`file:PATH`)."""

    scheme: str  # smtp, smtps, smtp+starttls or file
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = ""
    path: Path | None = None


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    units_file: Path
    mail_source: str | None
    smtp_url: str | None
    secretariat_email: str
    digest_to: tuple[str, ...]
    trusted_domains: tuple[str, ...]
    # Who may settle reviews, excuse units and record paper reports by replying to the bot's mail.
    staff_emails: tuple[str, ...] = ()
    timezone: str = "Asia/Bangkok"
    deadline_day: int = 25
    deadline_shift_business_day: bool = False
    imap_done_keyword: str = "ComplaintBotDone"
    imap_done_folder: str | None = None
    sweep_seconds: int = 300
    idle_seconds: int = 20
    send_interval_seconds: int = 30
    receipts_per_sender_per_hour: int = 20
    digests_per_recipient_per_hour: int = 4
    staff_commands_per_hour: int = 20  # command mails answered per staff address and hour
    mail_per_hour: int = 5000  # all automatic mail together
    # Group commit: messages stored per transaction, and how long a batch may wait for more (ms).
    batch_messages: int = 200
    batch_ms: int = 300
    max_message_bytes: int = 30 * 1024 * 1024
    secret_key: str = field(default="", repr=False)
    log_format: str = "text"
    tls_ca_file: Path | None = None
    reminder_days: tuple[int, ...] = (7, 2)
    reminder_time: time = time(9, 0)
    overdue_days_after: int = 1
    overdue_time: time = time(9, 0)
    digest_days_after: int = 1
    digest_time: time = time(8, 0)
    notice_window_days: int = 3  # a notice missed for longer than this (the bot was down) is not sent late
    cycle_seconds: int = 300
    rubric_file: Path | None = None
    mailbox_lease_seconds: int = 0  # 0: twice IDLE_SECONDS plus a minute
    send_lease_seconds: int = 300
    trusted_authserv_id: str | None = None
    retention_months: int = 24
    heartbeat_url: str | None = None
    mailbox_alert_minutes: int = 60
    env_file: Path | None = None  # the .env these settings were read from, if any
    secretariat_contact: str = ""  # closes every mail a unit reads: who to call
    start_period: str | None = None  # YYYY-MM: months before it are not scored (the bot was not there)
    parser_memory_mb: int = 1024  # address space of each attachment-parser worker
    parser_seconds: int = 30  # wall-clock limit per attachment (CPU limit: two thirds of it)
    parser_workers: int = 2
    ocr_seconds: int = 180  # OCR budget per message (its scanned memos together)
    oauth: OAuthSettings | None = None  # set when MAIL_AUTH=xoauth2

    def ssl_context(self) -> ssl.SSLContext:
        """Certificates are always verified; TLS_CA_FILE adds a private CA."""
        import ssl  # here: commands that never connect (status, --help) do not load OpenSSL

        return ssl.create_default_context(cafile=str(self.tls_ca_file) if self.tls_ca_file else None)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def message_id_domain(self) -> str:
        return self.secretariat_email.rpartition("@")[2] or "complaint-bot.local"

    def imap(self) -> ImapSettings | None:
        if not self.mail_source or not self.mail_source.startswith(("imap://", "imaps://")):
            return None
        return parse_imap_url(self.mail_source)

    def maildir(self) -> Path | None:
        if self.mail_source and self.mail_source.startswith("maildir:"):
            return Path(self.mail_source[len("maildir:"):]).expanduser()
        return None

    def smtp(self) -> SmtpSettings:
        if not self.smtp_url:
            raise ConfigError("SMTP_URL", "SMTP_URL is not set: give smtp://, smtps://, smtp+starttls:// or file:PATH")
        return parse_smtp_url(self.smtp_url)

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def parse_imap_url(url: str) -> ImapSettings:
    parts = urlsplit(url)
    secure = parts.scheme == "imaps"
    if not parts.hostname:
        raise ConfigError("MAIL_SOURCE", "MAIL_SOURCE has no host: use imaps://user:password@host/INBOX")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    try:
        port = parts.port or (993 if secure else 143)
    except ValueError as exc:
        raise ConfigError("MAIL_SOURCE", f"MAIL_SOURCE has a bad port: {exc}") from None
    return ImapSettings(
        secure=secure,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        folder=folder,
    )


def parse_smtp_url(url: str) -> SmtpSettings:
    if url.startswith("file:"):
        return SmtpSettings(scheme="file", path=Path(url[len("file:"):]).expanduser())
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps", "smtp+starttls"):
        raise ConfigError("SMTP_URL", "SMTP_URL must start with smtp://, smtps://, smtp+starttls:// or file:")
    if not parts.hostname:
        raise ConfigError("SMTP_URL", "SMTP_URL has no host: use smtp://user:password@host:587")
    default_port = {"smtp": 25, "smtps": 465, "smtp+starttls": 587}[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError as exc:
        raise ConfigError("SMTP_URL", f"SMTP_URL has a bad port: {exc}") from None
    return SmtpSettings(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def _int(env: Mapping[str, str], key: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(key, f"{key} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(key, f"{key} must be between {lo} and {hi}, got {value}")
    return value


def _bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(key, f"{key} must be true or false, got {raw!r}")


def _time(env: Mapping[str, str], key: str, default: time) -> time:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise ConfigError(key, f"{key} must be a time of day such as 09:00, got {raw!r}") from None


def _days(env: Mapping[str, str], key: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        days = tuple(sorted({int(d) for d in raw.replace(";", ",").split(",") if d.strip()}, reverse=True))
    except ValueError:
        raise ConfigError(key, f"{key} must be whole numbers of days such as 7,2, got {raw!r}") from None
    if any(not 0 <= d <= 27 for d in days):
        raise ConfigError(key, f"{key} must be between 0 and 27 days before the deadline")
    return days


def _file(env: Mapping[str, str], key: str) -> Path | None:
    raw = env.get(key, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_file():
        raise ConfigError(key, f"{key} {path} is not a readable file")
    return path


def _emails(env: Mapping[str, str], key: str) -> tuple[str, ...]:
    values = tuple(v.strip().lower() for v in env.get(key, "").replace(";", ",").split(",") if v.strip())
    for v in values:
        if "@" not in v or v.startswith("@") or v.endswith("@"):
            raise ConfigError(key, f"{key} has an invalid e-mail address: {v!r}")
    return values


MIN_SECRET_CHARS = 32


def _secret_key(env: Mapping[str, str], data_dir: Path) -> str:
    """The HMAC key that signs the bot's Message-IDs (and backups): SECRET_KEY, else DATA_DIR/secret.key,
    which `complaint-bot init` writes (32 random bytes). Reading settings never writes it; a missing,
    empty or short key is refused (a guessable key lets anyone forge replies to the bot)."""
    if "SECRET_KEY" in env:
        key, where = env["SECRET_KEY"].strip(), "SECRET_KEY"
    else:
        path = data_dir / "secret.key"
        try:
            key, where = path.read_text(encoding="utf-8").strip(), str(path)
        except FileNotFoundError:
            return ""  # commands that sign nothing (units, template) still work; build_app refuses it

    if len(key) < MIN_SECRET_CHARS:
        raise ConfigError("SECRET_KEY", f"the secret key in {where} is {'empty' if not key else 'too short'}: "
                                        f"at least {MIN_SECRET_CHARS} characters (`complaint-bot init` writes "
                                        "32 random bytes)")
    return key


def _start_period(env: Mapping[str, str]) -> str | None:
    value = env.get("START_PERIOD", "").strip()
    if not value:
        return None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", value)
    year = int(m.group(1)) if m else 0
    year = year - 543 if year > 2400 else year
    if not m or not 1990 <= year <= 2200 or not 1 <= int(m.group(2)) <= 12:
        raise ConfigError("START_PERIOD", f"START_PERIOD must be YYYY-MM in either era (2569-10 or 2026-10), got {value!r}")
    return f"{year:04d}-{int(m.group(2)):02d}"


def require_secret_key(settings: Settings) -> str:
    """The key, or a ConfigError saying how to make one (for every command that reads or sends mail)."""
    if not settings.secret_key:
        raise ConfigError("SECRET_KEY", f"no secret key: SECRET_KEY is not set and {settings.data_dir / 'secret.key'} "
                                        "does not exist; run `complaint-bot init` (it writes one into .env) or set "
                                        f"SECRET_KEY (at least {MIN_SECRET_CHARS} random characters)")
    return settings.secret_key


def new_secret_key() -> str:
    """32 random bytes, hex: what init writes."""
    return secrets.token_hex(32)


def settings_from_mapping(env: Mapping[str, str], base_dir: Path | None = None) -> Settings:
    """Build validated settings from a mapping of environment-style keys (tests pass their own)."""
    base = base_dir or Path.cwd()
    data_dir = (base / env.get("DATA_DIR", "data")).resolve()
    database_url = env.get("DATABASE_URL", "").strip() or f"sqlite:///{data_dir / 'complaint-bot.sqlite3'}"
    if not database_url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        raise ConfigError("DATABASE_URL", "DATABASE_URL must start with sqlite:/// or postgresql://")
    if database_url.startswith(("postgresql://", "postgres://")):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]

    mail_source = env.get("MAIL_SOURCE", "").strip() or None
    if mail_source and not mail_source.startswith(("imap://", "imaps://", "maildir:")):
        raise ConfigError("MAIL_SOURCE", "MAIL_SOURCE must start with imap://, imaps:// or maildir:")
    if mail_source and mail_source.startswith(("imap://", "imaps://")):
        parse_imap_url(mail_source)

    smtp_url = env.get("SMTP_URL", "").strip() or None
    if smtp_url:
        parse_smtp_url(smtp_url)

    secretariat = env.get("SECRETARIAT_EMAIL", "").strip().lower() or "secretariat@example.go.th"
    if "@" not in secretariat:
        raise ConfigError("SECRETARIAT_EMAIL", f"SECRETARIAT_EMAIL is not an e-mail address: {secretariat!r}")

    timezone = env.get("TIMEZONE", "Asia/Bangkok").strip() or "Asia/Bangkok"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("TIMEZONE", f"TIMEZONE is not a known time zone: {timezone!r}") from None

    log_format = env.get("LOG_FORMAT", "text").strip().lower() or "text"
    if log_format not in ("text", "json"):
        raise ConfigError("LOG_FORMAT", "LOG_FORMAT must be text or json")

    units_file = Path(env.get("UNITS_FILE", "units.csv")).expanduser()
    ca_file = _file(env, "TLS_CA_FILE")
    digest_to = _emails(env, "DIGEST_TO") or (secretariat,)
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        units_file=units_file if units_file.is_absolute() else (base / units_file),
        mail_source=mail_source,
        smtp_url=smtp_url,
        secretariat_email=secretariat,
        digest_to=digest_to,
        staff_emails=_emails(env, "STAFF_EMAILS") or digest_to,
        trusted_domains=tuple(
            d.strip().lower().lstrip("@") for d in env.get("TRUSTED_DOMAINS", "").replace(";", ",").split(",") if d.strip()
        ),
        timezone=timezone,
        deadline_day=_int(env, "DEADLINE_DAY", 25, 1, 28),
        deadline_shift_business_day=_bool(env, "DEADLINE_SHIFT_TO_BUSINESS_DAY", False),
        imap_done_keyword=env.get("IMAP_DONE_KEYWORD", "ComplaintBotDone").strip() or "ComplaintBotDone",
        imap_done_folder=env.get("IMAP_DONE_FOLDER", "").strip() or None,
        sweep_seconds=_int(env, "SWEEP_SECONDS", 300, 10, 86400),
        idle_seconds=_int(env, "IDLE_SECONDS", 20, 1, 1500),
        send_interval_seconds=_int(env, "SEND_INTERVAL_SECONDS", 30, 1, 3600),
        receipts_per_sender_per_hour=_int(env, "RECEIPTS_PER_SENDER_PER_HOUR", 20, 1, 10000),
        digests_per_recipient_per_hour=_int(env, "DIGESTS_PER_RECIPIENT_PER_HOUR", 4, 1, 1000),
        staff_commands_per_hour=_int(env, "STAFF_COMMANDS_PER_HOUR", 20, 1, 1000),
        mail_per_hour=_int(env, "MAIL_PER_HOUR", 5000, 10, 1_000_000),
        batch_messages=_int(env, "INTAKE_BATCH_MESSAGES", 200, 1, 1000),
        batch_ms=_int(env, "INTAKE_BATCH_MS", 300, 0, 10_000),
        max_message_bytes=_int(env, "MAX_MESSAGE_MB", 30, 1, 1024) * 1024 * 1024,
        secret_key=_secret_key(env, data_dir),
        log_format=log_format,
        tls_ca_file=ca_file,
        reminder_days=_days(env, "REMINDER_DAYS", (7, 2)),
        reminder_time=_time(env, "REMINDER_TIME", time(9, 0)),
        overdue_days_after=_int(env, "OVERDUE_DAYS_AFTER", 1, 0, 20),
        overdue_time=_time(env, "OVERDUE_TIME", time(9, 0)),
        digest_days_after=_int(env, "DIGEST_DAYS_AFTER", 1, 0, 20),
        digest_time=_time(env, "DIGEST_TIME", time(8, 0)),
        notice_window_days=_int(env, "NOTICE_WINDOW_DAYS", 3, 1, 60),
        cycle_seconds=_int(env, "CYCLE_SECONDS", 300, 10, 86400),
        rubric_file=_file(env, "RUBRIC_FILE"),
        mailbox_lease_seconds=_int(env, "MAILBOX_LEASE_SECONDS", 0, 0, 86400),
        send_lease_seconds=_int(env, "SEND_LEASE_SECONDS", 300, 1, 86400),
        trusted_authserv_id=env.get("TRUSTED_AUTHSERV_ID", "").strip() or None,
        retention_months=_int(env, "RETENTION_MONTHS", 24, 1, 240),
        heartbeat_url=env.get("HEARTBEAT_URL", "").strip() or None,
        mailbox_alert_minutes=_int(env, "MAILBOX_ALERT_MINUTES", 60, 1, 10080),
        start_period=_start_period(env),
        secretariat_contact=" ".join(env.get("SECRETARIAT_CONTACT", "").split())[:200],
        parser_memory_mb=_int(env, "PARSER_MEMORY_MB", 1024, 256, 65536),
        parser_seconds=_int(env, "PARSER_SECONDS", 30, 3, 3600),
        parser_workers=_int(env, "PARSER_WORKERS", 2, 1, 64),
        ocr_seconds=_int(env, "OCR_SECONDS", 180, 10, 3600),
        oauth=_oauth(env, data_dir),
    )


def _oauth(env: Mapping[str, str], data_dir: Path) -> OAuthSettings | None:
    mode = env.get("MAIL_AUTH", "password").strip().lower() or "password"
    if mode == "password":
        return None
    if mode != "xoauth2":
        raise ConfigError("MAIL_AUTH", "MAIL_AUTH must be password or xoauth2")
    for key in ("OAUTH_TOKEN_URL", "OAUTH_CLIENT_ID"):
        if not env.get(key, "").strip():
            raise ConfigError(key, f"{key} is required with MAIL_AUTH=xoauth2 (see docs/deploy.md)")
    return OAuthSettings(
        token_url=env["OAUTH_TOKEN_URL"].strip(), client_id=env["OAUTH_CLIENT_ID"].strip(),
        client_secret=env.get("OAUTH_CLIENT_SECRET", "").strip(), scope=env.get("OAUTH_SCOPE", "").strip(),
        token_file=Path(env.get("OAUTH_TOKEN_FILE", "").strip() or data_dir / "oauth-token.json"),
        device_url=env.get("OAUTH_DEVICE_URL", "").strip())


def load_settings(env_file: Path | None = None) -> Settings:
    """Settings for this process: `.env` (if present) overridden by the real environment."""
    path = env_file or Path.cwd() / ".env"
    merged: dict[str, str] = {k: v for k, v in dotenv_values(path).items() if v is not None} if path.exists() else {}
    merged.update(os.environ)
    settings = settings_from_mapping(merged, base_dir=path.parent)
    return dataclasses.replace(settings, env_file=path if path.exists() else None)


def child_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment for a helper program (pg_dump, pg_restore) with a few additions such as
    PGPASSWORD: passed this way, a password never shows in the process list."""
    return {**os.environ, **extra}
