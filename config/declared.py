"""Every setting declared once: its key, the `Settings` field it fills, how its text is read and checked, its
default, and the help a person reads. `config/settings.py` builds `Settings` from these, and `.env.example` (the
one commented example, which `init` fills in) is written from them (`env_example`); tests keep the file equal to
what this module writes."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from config.errors import ConfigError

Reader = Callable[[str, str], object]  # (key, text: stripped, never empty) -> the value, or ConfigError


def whole(lo: int, hi: int) -> Reader:
    def read(key: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(key, f"{key} must be a whole number, got {raw!r}") from None
        if not lo <= value <= hi:
            raise ConfigError(key, f"{key} must be between {lo} and {hi}, got {value}")
        return value
    return read


def flag(key: str, raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(key, f"{key} must be true or false, got {raw!r}")


def clock(key: str, raw: str) -> time:
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise ConfigError(key, f"{key} must be a time of day such as 09:00, got {raw!r}") from None


def days_before(key: str, raw: str) -> tuple[int, ...]:
    try:
        days = tuple(sorted({int(d) for d in raw.replace(";", ",").split(",") if d.strip()}, reverse=True))
    except ValueError:
        raise ConfigError(key, f"{key} must be whole numbers of days such as 7,2, got {raw!r}") from None
    if any(not 0 <= d <= 27 for d in days):
        raise ConfigError(key, f"{key} must be between 0 and 27 days before the deadline")
    return days


def text(key: str, raw: str) -> str:
    return raw


def one_line(limit: int) -> Reader:
    return lambda key, raw: " ".join(raw.split())[:limit]


def emails(key: str, raw: str) -> tuple[str, ...]:
    values = tuple(v.strip().lower() for v in raw.replace(";", ",").split(",") if v.strip())
    for v in values:
        if "@" not in v or v.startswith("@") or v.endswith("@"):
            raise ConfigError(key, f"{key} has an invalid e-mail address: {v!r}")
    return values


def domains(key: str, raw: str) -> tuple[str, ...]:
    return tuple(d.strip().lower().lstrip("@") for d in raw.replace(";", ",").split(",") if d.strip())


def existing_file(key: str, raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_file():
        raise ConfigError(key, f"{key} {path} is not a readable file")
    return path


def choice(*allowed: str) -> Reader:
    def read(key: str, raw: str) -> str:
        if raw.lower() not in allowed:
            raise ConfigError(key, f"{key} must be {' or '.join(allowed)}")
        return raw.lower()
    return read


def month(key: str, raw: str) -> str:
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", raw)
    year = int(m.group(1)) if m else 0
    year = year - 543 if year > 2400 else year
    if not m or not 1990 <= year <= 2200 or not 1 <= int(m.group(2)) <= 12:
        raise ConfigError(key, f"{key} must be YYYY-MM in either era (2569-10 or 2026-10), got {raw!r}")
    return f"{year:04d}-{int(m.group(2)):02d}"


@dataclass(frozen=True)
class Setting:
    key: str
    field: str | None  # the Settings field it fills; None: read where it is used (a URL, OAuth, the key file)
    read: Reader
    default: object
    help: str = ""
    example: str | None = None  # written uncommented in .env.example; None: commented, with `shown`
    shown: str | None = None  # the commented value shown (default: the default as typed)


@dataclass(frozen=True)
class Section:
    help: str
    settings: tuple[Setting, ...]


S = Setting
SECTIONS: tuple[Section, ...] = (
    Section("Where the database lives. Default: an SQLite file in DATA_DIR.", (
        S("DATABASE_URL", None, text, "", shown="postgresql://complaintbot@localhost/complaintbot"),
        S("DATA_DIR", None, text, "data", example="data"),
    )),
    Section("The unit registry (CSV, editable in Excel): code,name,senders,contacts,active", (
        S("UNITS_FILE", None, text, "units.csv", example="units.csv"),
    )),
    Section("The secretariat mailbox: imaps://USER:PASSWORD@HOST/FOLDER, imap://… (plain, tests only) or maildir:PATH.\n"
            "Percent-encode special characters in the password (@ becomes %40).", (
        S("MAIL_SOURCE", None, text, "",
          example="imaps://saraban%40anamai.example.go.th:PASSWORD@mail.example.go.th/INBOX"),
        S("IMAP_DONE_KEYWORD", "imap_done_keyword", text, "ComplaintBotDone",
          "Processed mail gets this IMAP keyword; set IMAP_DONE_FOLDER to also move it there."),
        S("IMAP_DONE_FOLDER", "imap_done_folder", text, None, shown="Processed"),
    )),
    Section("Outgoing mail: smtp://, smtp+starttls://USER:PASSWORD@HOST:587, smtps://…:465, or file:PATH (.eml files).", (
        S("SMTP_URL", None, text, "",
          example="smtp+starttls://saraban%40anamai.example.go.th:PASSWORD@mail.example.go.th:587"),
    )),
    Section("The bot sends as this address; replies and Message-IDs use its domain.", (
        S("SECRETARIAT_EMAIL", None, text, "secretariat@example.go.th", example="saraban@anamai.example.go.th"),
        S("DIGEST_TO", None, emails, (), "Who receives digests (comma-separated). Default: SECRETARIAT_EMAIL.",
          example="saraban@anamai.example.go.th"),
        S("STAFF_EMAILS", None, emails, (),
          "Who may command by replying to the bot's digests and review alerts (settle reviews, excuse a unit, "
          "record a paper report; README, \"For the secretariat\"). Default: DIGEST_TO. A command counts only when "
          "it replies to the bot's own mail AND TRUSTED_AUTHSERV_ID's Authentication-Results vouch for the "
          "sender's domain.", shown="clerk1@anamai.example.go.th,clerk2@anamai.example.go.th"),
        S("STAFF_COMMANDS_PER_HOUR", "staff_commands_per_hour", whole(1, 1000), 20,
          "Command mails answered per staff address and hour."),
        S("UNIT_REQUESTS_PER_HOUR", "unit_requests_per_hour", whole(1, 100), 4,
          "A unit may ask by mail for its own fiscal-year record (subject สถานะ 2570) and evidence pack (ขอหลักฐาน "
          "2570): answers per unit and hour (evidence packs: half as many)."),
        S("UNIT_EVIDENCE_ORIGINALS", "unit_evidence_originals", flag, False,
          "Whether a unit's evidence pack by mail holds its original mails (they carry complainants' personal data); "
          "by default it lists their SHA-256 instead."),
        S("OUTGOING_MAX_MB", "outgoing_max_mb", whole(1, 100), 10,
          "The largest attachment the bot mails (an evidence pack over it is sent as a summary, with a note)."),
        S("TRUSTED_DOMAINS", "trusted_domains", domains, (),
          "Unknown senders from these domains get a polite answer; all other unknown senders are set aside "
          "silently.", example="anamai.example.go.th"),
    )),
    Section("Deadline: day of the month, time zone, and whether a weekend deadline moves to the next business day.", (
        S("DEADLINE_DAY", "deadline_day", whole(1, 28), 25, example="25"),
        S("TIMEZONE", None, text, "Asia/Bangkok", example="Asia/Bangkok"),
        S("DEADLINE_SHIFT_TO_BUSINESS_DAY", "deadline_shift_business_day", flag, False, example="false"),
    )),
    Section("Worker timing (seconds): IMAP IDLE wait, full sweep, outbox flush.", (
        S("IDLE_SECONDS", "idle_seconds", whole(1, 1500), 20),
        S("SWEEP_SECONDS", "sweep_seconds", whole(10, 86400), 300),
        S("SEND_INTERVAL_SECONDS", "send_interval_seconds", whole(1, 3600), 30),
        S("RECEIPTS_PER_SENDER_PER_HOUR", "receipts_per_sender_per_hour", whole(1, 10000), 20,
          "Automatic replies per sender per hour (mail-loop protection)."),
        S("DIGESTS_PER_RECIPIENT_PER_HOUR", "digests_per_recipient_per_hour", whole(1, 1000), 4,
          "Digests asked for by mail, per address per hour; all automatic mail together per hour."),
        S("MAIL_PER_HOUR", "mail_per_hour", whole(10, 1_000_000), 5000),
        S("INTAKE_BATCH_MESSAGES", "batch_messages", whole(1, 1000), 200,
          "Group commit: a backlog is read in batches of up to this many messages (and 64 MB), stored in "
          "transactions of at most this many milliseconds (each message in its own savepoint); nothing is "
          "marked done on the server before the commit."),
        S("INTAKE_BATCH_MS", "batch_ms", whole(0, 10_000), 300),
        S("MAX_MESSAGE_MB", None, whole(1, 1024), 30),
    )),
    Section("Attachments are read in worker processes with hard limits, so a hostile or broken file costs only "
            "itself: address space per worker (MB), wall-clock seconds per file, number of workers, how much "
            "lower their CPU priority is than the bot's own (nice, 0-19: the storing loop and a database on the "
            "same host come first), and the OCR budget in seconds for one message's scanned memos.", (
        S("PARSER_MEMORY_MB", "parser_memory_mb", whole(256, 65536), 1024),
        S("PARSER_SECONDS", "parser_seconds", whole(3, 3600), 30),
        S("PARSER_WORKERS", "parser_workers", whole(1, 64), 2),
        S("PARSER_NICE", "parser_nice", whole(0, 19), 10),
        S("OCR_SECONDS", "ocr_seconds", whole(10, 3600), 180),
    )),
    Section("HMAC key that signs the bot's Message-IDs and backups: at least 32 characters (`complaint-bot init` "
            "writes 32 random bytes here). Without it, DATA_DIR/secret.key is read; a missing or short key is "
            "refused.", (
        S("SECRET_KEY", None, text, "", shown=""),
    )),
    Section("The first month the bot collects (YYYY-MM, either era): earlier months are not scored as missing.\n"
            "Default: the month of the first message it stored.", (
        S("START_PERIOD", "start_period", month, None, shown="2569-10"),
    )),
    Section("How a unit reaches the secretariat; closes every receipt, reminder and notice (in Thai).", (
        S("SECRETARIAT_CONTACT", "secretariat_contact", one_line(200), "",
          shown="กลุ่มงานบริหารทั่วไป โทร. 0 2590 4000 ต่อ 1234"),
        S("LOG_FORMAT", "log_format", choice("text", "json"), "text", "text or json"),
        S("TLS_CA_FILE", "tls_ca_file", existing_file, None,
          "A private CA for the IMAP and SMTP servers (certificates are always verified).",
          shown="/etc/ssl/private-ca.pem"),
    )),
    Section("The monthly cycle (times are local, in TIMEZONE): reminders N days before the deadline, the overdue "
            "notice and the digest N days after it. A notice missed while the bot was down is sent once on return, "
            "within NOTICE_WINDOW_DAYS.", (
        S("REMINDER_DAYS", "reminder_days", days_before, (7, 2), shown="7,2"),
        S("REMINDER_TIME", "reminder_time", clock, time(9, 0), shown="09:00"),
        S("OVERDUE_DAYS_AFTER", "overdue_days_after", whole(0, 20), 1),
        S("OVERDUE_TIME", "overdue_time", clock, time(9, 0), shown="09:00"),
        S("DIGEST_DAYS_AFTER", "digest_days_after", whole(0, 20), 1),
        S("DIGEST_TIME", "digest_time", clock, time(8, 0), shown="08:00"),
        S("NOTICE_WINDOW_DAYS", "notice_window_days", whole(1, 60), 3),
        S("CYCLE_SECONDS", "cycle_seconds", whole(10, 86400), 300),
        S("RUBRIC_FILE", "rubric_file", existing_file, None,
          'Scoring rubric (JSON), for example:\n{"points": 10, "credit": {"on_time": 1, "late": 0.5, "missing": 0}, '
          '"levels": [[90, 5], [75, 4], [60, 3], [50, 2], [0, 1]]}', shown="rubric.json"),
    )),
    Section("When your receiving mail server adds Authentication-Results, name it here (its authserv-id, the first "
            "word of the header). A message that fails DMARC is then held for review and never counts or gets "
            "answered (docs/deploy.md: where the header must stand).", (
        S("TRUSTED_AUTHSERV_ID", "trusted_authserv_id", text, None, shown="mx.anamai.example.go.th"),
        S("MAILBOX_LEASE_SECONDS", "mailbox_lease_seconds", whole(0, 86400), 0,
          "Connection leases (seconds): a crashed worker's mailbox is taken over after this (0: twice "
          "IDLE_SECONDS plus a minute); an outbox message whose send was interrupted is retried after "
          "SEND_LEASE_SECONDS.", shown="100"),
        S("SEND_LEASE_SECONDS", "send_lease_seconds", whole(1, 86400), 300),
        S("RETENTION_MONTHS", "retention_months", whole(1, 240), 24,
          "Months the original messages are kept (their SHA-256 stays as evidence)."),
    )),
    Section("Monitoring: a URL pinged (GET) after each good cycle, e.g. a healthchecks.io check; and after how many "
            "minutes without the mailbox the secretariat (DIGEST_TO) gets a mail about it.", (
        S("HEARTBEAT_URL", "heartbeat_url", text, None, shown="https://hc-ping.com/your-uuid"),
        S("MAILBOX_ALERT_MINUTES", "mailbox_alert_minutes", whole(1, 10080), 60),
    )),
    Section("OAuth2 (XOAUTH2) instead of passwords, for Microsoft 365 / Google Workspace: see docs/deploy.md.", (
        S("MAIL_AUTH", None, choice("password", "xoauth2"), "password", shown="xoauth2"),
        S("OAUTH_TOKEN_URL", None, text, "", shown="https://login.microsoftonline.com/TENANT/oauth2/v2.0/token"),
        S("OAUTH_DEVICE_URL", None, text, "", shown="https://login.microsoftonline.com/TENANT/oauth2/v2.0/devicecode"),
        S("OAUTH_CLIENT_ID", None, text, "", shown=""),
        S("OAUTH_CLIENT_SECRET", None, text, "", shown=""),
        S("OAUTH_SCOPE", None, text, "",
          shown="offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send"),
        S("OAUTH_TOKEN_FILE", None, text, "", shown="data/oauth-token.json"),
    )),
)
DECLARED: dict[str, Setting] = {s.key: s for section in SECTIONS for s in section.settings}


def value(env: Mapping[str, str], key: str) -> object:
    """The setting's value from an environment-style mapping: its default when absent or blank."""
    setting = DECLARED[key]
    raw = env.get(key, "").strip()
    return setting.read(key, raw) if raw else setting.default


def _typed(default: object) -> str:
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, tuple):
        return ",".join(str(d) for d in default)
    return "" if default is None else str(default)


def env_example() -> str:
    """The commented example of every setting, as `.env.example` holds it."""
    out = ["# complaint-bot settings. Copy to .env and fill in; the real environment overrides this file.", ""]
    for section in SECTIONS:
        out += _comment(section.help)
        for s in section.settings:
            out += _comment(s.help)
            shown = s.shown if s.shown is not None else _typed(s.default)
            out.append(f"{s.key}={s.example}" if s.example is not None else f"#{s.key}={shown}")
        out.append("")
    return "\n".join(out)


def _comment(help_text: str) -> list[str]:
    """Help as comment lines: each paragraph line wrapped at 110 columns."""
    return [wrapped for line in help_text.splitlines()
            for wrapped in textwrap.wrap(line, 110, initial_indent="# ", subsequent_indent="# ", break_long_words=False)]
