"""Settings: read once from the environment and `.env`, validated, then passed around as values."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from config.declared import DECLARED, value
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
    """Validated values; each setting's key, default and help are declared once, in config/declared.py."""

    database_url: str
    data_dir: Path
    units_file: Path
    mail_source: str | None
    smtp_url: str | None
    secretariat_email: str
    digest_to: tuple[str, ...]
    trusted_domains: tuple[str, ...]
    # Who may settle reviews, excuse units and record paper reports by replying to the bot's mail.
    staff_emails: tuple[str, ...]
    timezone: str
    deadline_day: int
    deadline_shift_business_day: bool
    imap_done_keyword: str
    imap_done_folder: str | None
    sweep_seconds: int
    idle_seconds: int
    send_interval_seconds: int
    receipts_per_sender_per_hour: int
    digests_per_recipient_per_hour: int
    staff_commands_per_hour: int  # command mails answered per staff address and hour
    unit_requests_per_hour: int  # a unit's own record and evidence asked for by mail, per unit and hour
    unit_evidence_originals: bool  # a unit's evidence pack by mail holds its original mails
    outgoing_max_mb: int  # the largest attachment mailed
    mail_per_hour: int  # all automatic mail together
    # Group commit: messages stored per transaction, and how long a batch may wait for more (ms).
    batch_messages: int
    batch_ms: int
    max_message_bytes: int
    secret_key: str = field(repr=False)
    log_format: str
    tls_ca_file: Path | None
    reminder_days: tuple[int, ...]
    reminder_time: time
    overdue_days_after: int
    overdue_time: time
    digest_days_after: int
    digest_time: time
    notice_window_days: int  # a notice missed for longer than this (the bot was down) is not sent late
    cycle_seconds: int
    rubric_file: Path | None
    mailbox_lease_seconds: int  # 0: twice IDLE_SECONDS plus a minute
    send_lease_seconds: int
    trusted_authserv_id: str | None
    retention_months: int
    heartbeat_url: str | None
    mailbox_alert_minutes: int
    secretariat_contact: str  # closes every mail a unit reads: who to call
    start_period: str | None  # YYYY-MM: months before it are not scored (the bot was not there)
    parser_memory_mb: int  # address space of each attachment-parser worker
    parser_seconds: int  # wall-clock limit per attachment (CPU limit: two thirds of it)
    parser_workers: int
    parser_nice: int  # added to the parser and OCR workers' niceness
    ocr_seconds: int  # OCR budget per message (its scanned memos together)
    oauth: OAuthSettings | None = None  # set when MAIL_AUTH=xoauth2
    env_file: Path | None = None  # the .env these settings were read from, if any

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
    """Build validated settings from a mapping of environment-style keys (tests pass their own): every declared
    setting with a field is read as config/declared.py says; the rest are read here, where they need each other
    (addresses default to each other, paths are relative to `base_dir`)."""
    base = base_dir or Path.cwd()
    data_dir = (base / str(value(env, "DATA_DIR"))).resolve()
    secretariat = str(value(env, "SECRETARIAT_EMAIL")).lower()
    if "@" not in secretariat:
        raise ConfigError("SECRETARIAT_EMAIL", f"SECRETARIAT_EMAIL is not an e-mail address: {secretariat!r}")
    digest_to: tuple[str, ...] = value(env, "DIGEST_TO") or (secretariat,)  # type: ignore[assignment]
    units_file = Path(str(value(env, "UNITS_FILE"))).expanduser()
    declared = {s.field: value(env, key) for key, s in DECLARED.items() if s.field}
    return Settings(
        **declared,  # type: ignore[arg-type]
        database_url=_database_url(env, data_dir),
        data_dir=data_dir,
        units_file=units_file if units_file.is_absolute() else (base / units_file),
        mail_source=_mail_source(env),
        smtp_url=_smtp_url(env),
        secretariat_email=secretariat,
        digest_to=digest_to,
        staff_emails=value(env, "STAFF_EMAILS") or digest_to,  # type: ignore[arg-type]
        timezone=_timezone(env),
        max_message_bytes=int(value(env, "MAX_MESSAGE_MB")) * 1024 * 1024,  # type: ignore[call-overload]
        secret_key=_secret_key(env, data_dir),
        oauth=_oauth(env, data_dir),
    )


def _database_url(env: Mapping[str, str], data_dir: Path) -> str:
    url = str(value(env, "DATABASE_URL")) or f"sqlite:///{data_dir / 'complaint-bot.sqlite3'}"
    if not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        raise ConfigError("DATABASE_URL", "DATABASE_URL must start with sqlite:/// or postgresql://")
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _mail_source(env: Mapping[str, str]) -> str | None:
    source = str(value(env, "MAIL_SOURCE")) or None
    if source and not source.startswith(("imap://", "imaps://", "maildir:")):
        raise ConfigError("MAIL_SOURCE", "MAIL_SOURCE must start with imap://, imaps:// or maildir:")
    if source and source.startswith(("imap://", "imaps://")):
        parse_imap_url(source)
    return source


def _smtp_url(env: Mapping[str, str]) -> str | None:
    url = str(value(env, "SMTP_URL")) or None
    if url:
        parse_smtp_url(url)
    return url


def _timezone(env: Mapping[str, str]) -> str:
    timezone = str(value(env, "TIMEZONE"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("TIMEZONE", f"TIMEZONE is not a known time zone: {timezone!r}") from None
    return timezone


def _oauth(env: Mapping[str, str], data_dir: Path) -> OAuthSettings | None:
    if value(env, "MAIL_AUTH") == "password":
        return None
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
