"""`complaint-bot doctor`: every setting checked and every dependency reached for real, with the fix for
each failure in plain words. Secrets are never printed."""

from __future__ import annotations

import shutil
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from db.engine import make_engine
from bot.schema import current_revision
from config.errors import ConfigError
from config.settings import Settings
from config.units import is_example_registry, load_registry


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # passes, but the administrator should know what it costs


def _redact(text: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def check_database(settings: Settings) -> list[Check]:
    from alembic.script import ScriptDirectory

    from bot.schema import alembic_config

    try:
        engine = make_engine(settings.database_url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
        current = current_revision(engine)
        engine.dispose()
    except Exception as exc:
        return [Check("database", False, f"cannot open: {type(exc).__name__}: {_short(exc)}",
                      "check DATABASE_URL; for SQLite the folder must exist and be writable by this user; "
                      "for PostgreSQL the server must run and the user may connect")]
    script = ScriptDirectory.from_config(alembic_config(make_engine(settings.database_url)))
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        return [Check("database", True, "reachable"),
                Check("database schema", False, f"revision {current} is unknown to this version",
                      "this database was made by a newer complaint-bot: install that version (or restore a backup)")]
    if current != head:
        return [Check("database", True, f"reachable, schema {current or 'empty'}; upgraded to {head} at start "
                                        "(or now with `complaint-bot db upgrade`)")]
    return [Check("database", True, f"reachable, schema {current} (newest)")]


@dataclass(frozen=True)
class RegistryFindings:
    """What is wrong with UNITS_FILE (`problems`: it must be fixed) and what to know (`notes`), one answer for
    `doctor` and `units check` alike."""

    units: int
    active: int
    problems: list[str]
    notes: list[str]
    fix: str = ""


def registry_findings(settings: Settings) -> RegistryFindings:
    try:
        registry = load_registry(settings.units_file)
    except ConfigError as exc:
        return RegistryFindings(0, 0, [str(exc)], [], "copy config/units.example.csv to UNITS_FILE and fill it in")
    problems = registry.check()
    fix = "run `complaint-bot units check` and correct the CSV"
    if is_example_registry(settings.units_file):
        problems = [f"{settings.units_file} is still the example registry", *problems]
        fix = "replace the example rows with your units and their real sender addresses"
    return RegistryFindings(len(registry.units), len(registry.active), problems, registry.warnings(), fix)


def check_registry(settings: Settings) -> list[Check]:
    found = registry_findings(settings)
    if found.problems:
        return [Check("unit registry", False, found.problems[0] if len(found.problems) == 1 else
                      f"{len(found.problems)} problem(s): {found.problems[0]}", found.fix)]
    out = [Check("unit registry", True, f"{found.active} active unit(s), no problems")]
    out += [Check("shared sender address", True, w, "fine if intended; the form header decides the unit", warning=True)
            for w in found.notes]
    return out


_PLACEHOLDERS = ("PASSWORD", "USER:PASSWORD", "mail.example.go.th")


def check_placeholders(settings: Settings) -> list[Check]:
    """Values still as in .env.example (a placeholder password or host) fail before any server is tried."""
    out = []
    for key, value in (("MAIL_SOURCE", settings.mail_source), ("SMTP_URL", settings.smtp_url)):
        if value and any(p in value for p in _PLACEHOLDERS):
            out.append(Check(f"{key} value", False, f"{key} still holds the example's placeholder",
                             f"put the real server and password in {key} (see .env.example)"))
    return out


def check_imap(settings: Settings, timeout: float = 15) -> list[Check]:
    from imap_tools import MailBox, MailBoxUnencrypted

    cfg = settings.imap()
    if settings.maildir() is not None:
        path = settings.maildir()
        assert path is not None
        ok = (path / "new").is_dir() or not path.exists()
        checks = [Check("mail source", ok, f"Maildir {path}", "" if ok else "the Maildir must have new/ cur/ tmp/")]
        files = [f for sub in ("new", "cur") if (path / sub).is_dir() for f in (path / sub).iterdir() if f.is_file()]
        if settings.trusted_authserv_id and files:
            newest = max(files, key=lambda f: f.stat().st_mtime)
            checks.append(authentication_on(newest.read_bytes()[:256 * 1024], settings.trusted_authserv_id))
        return checks
    if cfg is None:
        return [Check("mail source", False, "MAIL_SOURCE is not set", "set MAIL_SOURCE=imaps://user:password@host/INBOX")]
    out: list[Check] = []
    try:
        box = (MailBox(cfg.host, cfg.port, timeout=timeout, ssl_context=settings.ssl_context()) if cfg.secure
               else MailBoxUnencrypted(cfg.host, cfg.port, timeout=timeout))
    except (OSError, socket.timeout, ssl.SSLError) as exc:
        fix = ("the server's certificate is not trusted: set TLS_CA_FILE to your CA" if isinstance(exc, ssl.SSLError)
               else f"nothing answers at {cfg.host}:{cfg.port}: check the host and port in MAIL_SOURCE and the firewall")
        return [Check("IMAP connection", False, _redact(f"{type(exc).__name__}: {_short(exc)}", cfg.password), fix)]
    out.append(Check("IMAP connection", True, f"{cfg.host}:{cfg.port} ({'TLS' if cfg.secure else 'plain'})"))
    try:
        box.login(cfg.user, cfg.password, initial_folder=None)
    except Exception as exc:
        box.client.shutdown()
        return out + [Check("IMAP login", False, _redact(_short(exc), cfg.password),
                            "the user or password in MAIL_SOURCE is wrong (percent-encode @ as %40); "
                            "Microsoft 365 and Google need OAuth2 (see docs/deploy.md)")]
    out.append(Check("IMAP login", True, f"as {cfg.user}"))
    typ, data = box.client.capability()
    caps = set(data[-1].decode().upper().split()) if typ == "OK" and data and data[-1] else set()
    out.append(Check("IMAP IDLE", "IDLE" in caps, "supported" if "IDLE" in caps else "not supported",
                     "" if "IDLE" in caps else "receipts will follow the periodic sweep (SWEEP_SECONDS) instead"))
    # SELECT, not EXAMINE: only a writable selection reports which flags the server keeps.
    typ, data = box.client.select(f'"{cfg.folder}"')
    if typ != "OK":
        box.logout()
        return out + [Check("IMAP folder", False, f"{cfg.folder!r} cannot be opened",
                            "the folder in MAIL_SOURCE does not exist (names are case-sensitive; INBOX is usual)")]
    flags = b" ".join(d for d in box.client.untagged_responses.get("PERMANENTFLAGS", []) if isinstance(d, bytes))
    keywords = b"\\*" in flags
    out.append(Check("IMAP folder", True, f"{cfg.folder} ({(data[0] or b'?').decode()} messages)"))
    count = int(data[0]) if data and data[0] and data[0].isdigit() else 0
    if settings.trusted_authserv_id and count:
        typ, fetched = box.client.fetch(str(count), "(BODY.PEEK[HEADER])")
        header = next((part[1] for part in fetched if isinstance(part, tuple)), b"") if typ == "OK" else b""
        out.append(authentication_on(header, settings.trusted_authserv_id))
    if settings.imap_done_folder:
        typ, listed = box.client.list('""', f'"{settings.imap_done_folder}"')
        exists = typ == "OK" and any(listed)
        out.append(Check("processed-mail folder", True, settings.imap_done_folder + (" exists" if exists else
                                                                                      " (will be created)")))
    out.append(Check("processed-mail keyword", keywords or bool(settings.imap_done_folder),
                     f"{settings.imap_done_keyword}: " + ("the server keeps keywords" if keywords else
                                                          "the server does not keep keywords"),
                     "" if keywords else "set IMAP_DONE_FOLDER so processed mail is moved instead"))
    box.logout()
    return out


def authentication_on(raw: bytes, authserv_id: str) -> Check:
    """Whether the newest message shows what the trust rule needs: our server's Authentication-Results above the
    first Received header (intake/authentication.py). A hop that delivers after the results were written (a
    local relay, a second MTA) adds a Received above them, and then no message can count (docs/deploy.md)."""
    from intake.authentication import our_results
    from intake.message import parse_message

    headers = parse_message(raw, body=False).all_headers
    name = "authentication on the newest message"
    if our_results(headers, authserv_id):
        return Check(name, True, f"{authserv_id}'s Authentication-Results stand above the first Received header")
    ours = [i for i, (key, value) in enumerate(headers) if key.lower() == "authentication-results"
            and value.strip().lower().startswith(authserv_id.lower())]
    if ours:
        hops = sum(1 for key, _ in headers[:ours[0]] if key.lower() == "received")
        return Check(name, False, f"{authserv_id}'s Authentication-Results stand below {hops} Received header(s): "
                                  "a later delivery hop wrote them, so the bot cannot tell them from a sender's",
                     "have the server that delivers into this mailbox write Authentication-Results (or deliver "
                     "straight from the MX that does); see docs/deploy.md, 'Sender authentication'")
    others = sorted({value.split(";")[0].strip() for key, value in headers if key.lower() == "authentication-results"})
    return Check(name, False, f"no Authentication-Results from {authserv_id} in the newest message"
                              + (f" (found from: {', '.join(others)[:120]})" if others else ""),
                 "set TRUSTED_AUTHSERV_ID to the first word your receiving server writes in Authentication-Results")


def check_smtp(settings: Settings, timeout: float = 15) -> list[Check]:
    try:
        cfg = settings.smtp()
    except ConfigError as exc:
        return [Check("SMTP", False, str(exc), "set SMTP_URL")]
    if cfg.scheme == "file":
        assert cfg.path is not None
        ok = _writable(cfg.path)
        return [Check("outgoing mail", ok, f"written as .eml files to {cfg.path}",
                      "" if ok else f"make {cfg.path} writable by this user")]
    try:
        if cfg.scheme == "smtps":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=timeout, context=settings.ssl_context())
        else:
            conn = smtplib.SMTP(cfg.host, cfg.port, timeout=timeout)
            if cfg.scheme == "smtp+starttls":
                conn.starttls(context=settings.ssl_context())
    except (OSError, smtplib.SMTPException) as exc:
        fix = ("the server's certificate is not trusted: set TLS_CA_FILE" if isinstance(exc, ssl.SSLError) else
               f"nothing answers at {cfg.host}:{cfg.port}: check SMTP_URL's host and port (587 with "
               "smtp+starttls://, 465 with smtps://)")
        return [Check("SMTP connection", False, _redact(f"{type(exc).__name__}: {_short(exc)}", cfg.password), fix)]
    out = [Check("SMTP connection", True, f"{cfg.host}:{cfg.port} ({cfg.scheme})")]
    if cfg.user:
        try:
            conn.login(cfg.user, cfg.password)
            out.append(Check("SMTP login", True, f"as {cfg.user} (nothing sent)"))
        except smtplib.SMTPException as exc:
            out.append(Check("SMTP login", False, _redact(_short(exc), cfg.password),
                             "the user or password in SMTP_URL is wrong, or the server wants STARTTLS first "
                             "(use smtp+starttls://)"))
    try:
        conn.quit()
    except smtplib.SMTPException:
        pass  # the check is done; a rude goodbye changes nothing
    return out


def check_trust(settings: Settings) -> list[Check]:
    """What the bot can prove about senders, and who can read its secrets."""
    out: list[Check] = []
    if settings.trusted_authserv_id:
        out.append(Check("sender authentication", True,
                         f"Authentication-Results from {settings.trusted_authserv_id} decide (DMARC, aligned SPF/DKIM)"))
    else:
        out.append(Check("sender authentication", True,
                         "TRUSTED_AUTHSERV_ID is not set: a forged From address of a unit is believed, and "
                         "replies from STAFF_EMAILS cannot command (they are refused)", warning=True,
                         fix="set TRUSTED_AUTHSERV_ID to the authserv-id your receiving mail server writes in "
                             "Authentication-Results (see README, 'Who may speak for a unit')"))
    out.append(_staff_can_command(settings))
    env_file = settings.env_file
    if env_file is not None:
        mode = env_file.stat().st_mode & 0o777
        private = not mode & 0o077
        out.append(Check(".env permissions", private, f"{env_file} mode {mode:04o}",
                         "" if private else f"chmod 600 {env_file} (it holds the mailbox password and the secret key)"))
    return out


def _staff_can_command(settings: Settings) -> Check:
    """STAFF_EMAILS and DIGEST_TO must be real people's addresses: the example's placeholders receive no digest
    and can never command."""
    from config.declared import DECLARED

    placeholders = {a.strip().lower() for key in ("STAFF_EMAILS",) for a in (DECLARED[key].shown or "").split(",")}
    stuck = [a for a in (*settings.staff_emails, *settings.digest_to) if a in placeholders]
    if stuck:
        return Check("staff addresses", False, f"{', '.join(sorted(set(stuck)))} is the example's placeholder: no "
                                                "digest reaches anyone and no reply can command",
                     "set STAFF_EMAILS (and DIGEST_TO) to the secretariat staff's own addresses")
    return Check("staff addresses", True, f"digests to {', '.join(settings.digest_to)}; commands from "
                                          f"{', '.join(settings.staff_emails)}")


def check_templates(settings: Settings) -> list[Check]:
    from mailer.render import template_names

    names = template_names()
    expected = {"receipt", "reminder", "overdue", "digest"}
    ok = expected <= set(names)
    return [Check("mail templates", ok, ", ".join(names), "" if ok else f"missing: {expected - set(names)}")]


def check_clock(settings: Settings) -> list[Check]:
    now = datetime.now(settings.tz)
    return [Check("time zone", True, f"{settings.timezone}: now {now:%Y-%m-%d %H:%M} (UTC{now:%z})")]


def check_disk(settings: Settings, minimum_mb: int = 500) -> list[Check]:
    folder = settings.data_dir
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free // (1024 * 1024)
    ok = free >= minimum_mb and _writable(folder)
    return [Check("disk", ok, f"{free:,} MB free in {folder}",
                  "" if ok else f"free some space (at least {minimum_mb} MB) or move DATA_DIR, and make it writable")]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".doctor-probe"
        probe.write_text("ok")
        probe.unlink()
        return True
    except OSError:
        return False


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


CHECKS: tuple[Callable[[Settings], list[Check]], ...] = (
    check_database, check_registry, check_placeholders, check_imap, check_smtp, check_trust, check_templates, check_clock, check_disk)


def run_checks(settings: Settings) -> list[Check]:
    results: list[Check] = []
    for check in CHECKS:
        try:
            results.extend(check(settings))
        except Exception as exc:  # a check must never crash the doctor
            results.append(Check(check.__name__.removeprefix("check_"), False, f"{type(exc).__name__}: {_short(exc)}"))
    return results
