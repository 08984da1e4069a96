"""The administrator's day one and year two: doctor, init, backup/restore, upgrades, heartbeat, alerts,
JSON logs, a clean stop on SIGTERM."""

from __future__ import annotations

import http.server
import json
import logging
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.samples import make_mail
from db.engine import make_engine
from bot.schema import current_revision, migrate
from mailer.models import OutboxMessage
from tests import servers
from tests.conftest import DOMAIN, SECRET, SECRETARIAT, UNITS, bkk
from tests.paths import ROOT

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key in ("DATABASE_URL", "MAIL_SOURCE", "UNITS_FILE", "DATA_DIR", "SMTP_URL", "SECRETARIAT_EMAIL"):
            monkeypatch.delenv(key)
    (tmp_path / "units.csv").write_text(UNITS.replace(f"central@{DOMAIN},,yes\nDIV02,กองคลัง,central@",
                                                      f"central@{DOMAIN},,yes\nDIV02,กองคลัง,finance@"),
                                        encoding="utf-8")
    return tmp_path


def _doctor(env: dict[str, str]):  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["doctor"], env={"COLUMNS": "250", "SECRET_KEY": SECRET, **env})
    rows = {}
    for line in result.output.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) >= 3 and cells[1] in ("pass", "FAIL", "warn"):
            rows[cells[0]] = (cells[1], " ".join(cells[2:]))
    return result, rows


def test_doctor_all_green(workdir, dovecot, imap_user, smtp) -> None:  # type: ignore[no-untyped-def]
    result, rows = _doctor({"MAIL_SOURCE": dovecot.url(imap_user), "SMTP_URL": smtp.url,
                            "SECRETARIAT_EMAIL": SECRETARIAT})
    assert result.exit_code == 0, result.output
    assert {name for name, (verdict, _) in rows.items() if verdict == "pass"} >= {
        "database", "unit registry", "IMAP connection", "IMAP login", "IMAP IDLE", "IMAP folder",
        "processed-mail keyword", "SMTP connection", "mail templates", "time zone", "disk"}
    assert "0 failed" in result.output


def test_doctor_fails_a_readable_env_and_warns_without_authentication(workdir) -> None:  # type: ignore[no-untyped-def]
    (workdir / ".env").write_text(f"SECRETARIAT_EMAIL={SECRETARIAT}\nMAIL_SOURCE=maildir:mail\nSMTP_URL=file:sent\n")
    (workdir / ".env").chmod(0o644)
    (workdir / "mail").mkdir()
    for sub in ("new", "cur", "tmp"):
        (workdir / "mail" / sub).mkdir()
    result, rows = _doctor({})
    assert rows[".env permissions"][0] == "FAIL" and "chmod 600" in result.output and result.exit_code == 1
    assert rows["sender authentication"][0] == "warn" and "TRUSTED_AUTHSERV_ID" in rows["sender authentication"][1]
    (workdir / ".env").chmod(0o600)
    result, rows = _doctor({"TRUSTED_AUTHSERV_ID": "mx.anamai.example.go.th"})
    assert rows[".env permissions"][0] == "pass" and rows["sender authentication"][0] == "pass"


def test_doctor_refuses_the_example_registry_and_placeholders_and_notes_shared_addresses(workdir) -> None:  # type: ignore[no-untyped-def]
    example = (ROOT / "config" / "units.example.csv").read_text(encoding="utf-8")
    (workdir / "units.csv").write_text(example, encoding="utf-8")
    result, rows = _doctor({"MAIL_SOURCE": "imaps://u:PASSWORD@mail.example.go.th/INBOX", "SMTP_URL": "file:sent"})
    assert rows["unit registry"][0] == "FAIL" and "example" in rows["unit registry"][1]
    assert rows["MAIL_SOURCE value"][0] == "FAIL" and result.exit_code == 1
    (workdir / "units.csv").write_text(UNITS, encoding="utf-8")  # central@ serves two units
    result, rows = _doctor({"MAIL_SOURCE": "maildir:mail", "SMTP_URL": "file:sent"})
    assert rows["unit registry"][0] == "pass" and rows["shared sender address"][0] == "warn"


def test_the_database_and_its_wal_are_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO probe VALUES (1)")
        files = sorted(p for p in tmp_path.iterdir() if p.name.startswith("db.sqlite3"))
        assert {p.name for p in files} >= {"db.sqlite3", "db.sqlite3-wal"}
        assert all(p.stat().st_mode & 0o077 == 0 for p in files), [(p.name, oct(p.stat().st_mode)) for p in files]
    engine.dispose()


@pytest.mark.parametrize("case,expect,fix", [
    ("wrong password", "IMAP login", "password in MAIL_SOURCE is wrong"),
    ("wrong port", "IMAP connection", "nothing answers"),
    ("missing folder", "IMAP folder", "does not exist"),
    ("unwritable database", "database", "must exist and be writable"),
    ("smtp down", "SMTP connection", "check SMTP_URL"),
])
def test_doctor_names_each_failure_with_its_fix(case, expect, fix, workdir, dovecot, imap_user, smtp) -> None:  # type: ignore[no-untyped-def]
    env = {"MAIL_SOURCE": dovecot.url(imap_user), "SMTP_URL": smtp.url, "SECRETARIAT_EMAIL": SECRETARIAT}
    if case == "wrong password":
        env["MAIL_SOURCE"] = dovecot.url(imap_user, password="Wr0ng-Secret")
    elif case == "wrong port":
        env["MAIL_SOURCE"] = f"imap://{imap_user}:x@127.0.0.1:{servers.free_port()}/INBOX"
    elif case == "missing folder":
        env["MAIL_SOURCE"] = dovecot.url(imap_user, folder="Nonexistent")
    elif case == "unwritable database":
        (workdir / "afile").write_text("not a folder")
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'afile' / 'bot.sqlite3'}"
    else:
        env["SMTP_URL"] = f"smtp://127.0.0.1:{servers.free_port()}"
    result, rows = _doctor(env)
    assert result.exit_code == 1
    verdict, detail = rows[expect]
    assert verdict == "FAIL" and fix in result.output.replace("\n", " ").replace("│", " ") or fix in detail
    assert "Wr0ng-Secret" not in result.output


def test_init_writes_a_private_env_and_never_overwrites(workdir) -> None:  # type: ignore[no-untyped-def]
    (workdir / "units.csv").unlink()
    args = ["init", "--secretariat-email", "saraban@anamai.example.go.th", "--imap-host", "mail.anamai.example.go.th",
            "--password", "p@ss word", "--staff-email", "clerk@anamai.example.go.th"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    env = (workdir / ".env").read_text()
    assert "MAIL_SOURCE=imaps://saraban%40anamai.example.go.th:p%40ss%20word@mail.anamai.example.go.th:993/INBOX" in env
    assert "SMTP_URL=smtp+starttls://" in env and "# The secretariat mailbox" in env
    assert stat.S_IMODE((workdir / ".env").stat().st_mode) == 0o600
    from config.settings import load_settings

    settings = load_settings()
    assert settings.imap().password == "p@ss word" and settings.secretariat_email == "saraban@anamai.example.go.th"
    assert settings.digest_to == settings.staff_emails == ("clerk@anamai.example.go.th",)  # a person, asked for
    before = (workdir / ".env").read_text()
    assert runner.invoke(cli, args).exit_code == 1 and (workdir / ".env").read_text() == before


def test_env_example_is_written_from_the_declarations() -> None:
    """One .env.example, the one init fills in, written from config/declared.py; every setting is declared once:
    each Settings field is filled by one declaration or derived from declared keys, and each default lives there."""
    import dataclasses

    from config.declared import DECLARED, env_example
    from config.settings import Settings

    assert (ROOT / ".env.example").read_text(encoding="utf-8") == env_example()
    assert not (ROOT / "config" / "env.example").exists()
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    declared = [s.field for s in DECLARED.values() if s.field]
    assert len(declared) == len(set(declared)) and set(declared) <= set(fields)
    derived = {"database_url", "data_dir", "units_file", "mail_source", "smtp_url", "secretariat_email", "digest_to",
               "staff_emails", "timezone", "max_message_bytes", "secret_key", "oauth", "env_file"}
    assert set(fields) == set(declared) | derived
    assert [n for n, f in fields.items() if f.default is not dataclasses.MISSING] == ["oauth", "env_file"]
    for key in DECLARED:  # every key the code reads is in the example
        assert f"{key}=" in env_example(), key


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = [line for line in readme.splitlines() if line.startswith("python3 -m venv .venv &&")]
    assert len(commands) == 2 and commands[0].endswith("complaint-bot demo")
    assert (ROOT / ".ci" / "run").read_text().rstrip().splitlines()[-1] == commands[1]


def test_backup_and_restore_while_the_worker_processes(workdir, dovecot, imap_user, smtp, db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    from bot.backup import BackupError, backup, restore
    from bot.runner import StopFlag, run_forever

    app = make_app(db_url, MAIL_SOURCE=dovecot.url(imap_user), SMTP_URL=smtp.url, IDLE_SECONDS="1")
    stop = StopFlag()
    worker = threading.Thread(target=run_forever, args=(app, stop), daemon=True)
    worker.start()
    try:
        for i in range(20):
            raw = make_mail(sender=f"hpc0{1 + i % 3}@{DOMAIN}", to=SECRETARIAT, subject=str(i),
                            body=f"ไม่มีข้อร้องเรียน {i}", date_=bkk(2026, 11, 3))
            dovecot.append(imap_user, raw, bkk(2026, 11, 3))
            if i == 10:
                _wait_for_a_stored_message(app)  # the worker has begun (a busy machine may start it late)
                manifest = backup(db_url, workdir / "b.zip", SECRET)  # taken while messages keep arriving
    finally:
        time.sleep(1)
        stop.set()
        worker.join(timeout=30)
    counts = manifest["counts"]
    assert isinstance(counts, dict) and 0 < counts["inbound_messages"] <= 20
    pg = db_url.startswith("postgresql")
    name, target = servers.create_pg_database() if pg else ("", f"sqlite:///{workdir / 'restored.sqlite3'}")
    try:
        _check_restore(restore, BackupError, target, workdir, counts)
    finally:
        if pg:
            servers.drop_pg_database(name)


def _wait_for_a_stored_message(app, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from intake.models import InboundMessage

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with app.sessions() as s:
            if s.scalar(select(func.count()).select_from(InboundMessage)):
                return
        time.sleep(0.1)


def test_a_message_stored_while_the_backup_copies_is_counted_as_the_copy_holds_it(workdir, db_url, make_app,
                                                                                  monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The manifest's counts are those of the copy: a message the worker stores between the start of a backup
    and its copy (or dump) must not make the backup unrestorable."""
    import types

    import bot.backup as backup_module
    from bot.storing import process_one
    from intake.context import Fetched

    app = make_app(db_url)
    stored: list[object] = []

    def store_one() -> None:  # the worker, at the worst moment
        raw = make_mail(sender=f"hpc01@{DOMAIN}", to=SECRETARIAT, subject="ระหว่างสำรองข้อมูล",
                        body="ไม่มีข้อร้องเรียน", date_=bkk(2026, 11, 3))
        stored.append(process_one(app, Fetched(raw=raw, arrived_at=bkk(2026, 11, 3))))

    if db_url.startswith("sqlite"):
        real_connect = backup_module.sqlite3.connect

        def connect(*args: object, **kw: object) -> object:
            if not stored:
                store_one()
            return real_connect(*args, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(backup_module, "sqlite3", types.SimpleNamespace(connect=connect))
    else:
        real_run = backup_module.subprocess.run

        def run(args: list[str], **kw: object) -> object:
            if args[0] == "pg_dump" and not stored:
                store_one()
            return real_run(args, **kw)  # type: ignore[call-overload]

        monkeypatch.setattr(backup_module, "subprocess", types.SimpleNamespace(run=run))
    manifest = backup_module.backup(db_url, workdir / "b.zip", SECRET)
    monkeypatch.undo()
    app.close()
    assert len(stored) == 1 and stored[0] is not None  # it happened, while the backup ran
    counts = manifest["counts"]
    assert isinstance(counts, dict)
    pg = db_url.startswith("postgresql")
    name, target = servers.create_pg_database() if pg else ("", f"sqlite:///{workdir / 'restored.sqlite3'}")
    try:
        from bot.backup import restore

        assert restore(target, workdir / "b.zip", SECRET) == counts  # it verifies the counts itself
    finally:
        if pg:
            servers.drop_pg_database(name)


def test_backup_and_restore_work_in_a_temporary_folder_named_with_uri_characters(workdir, make_app,
                                                                                   monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The dump is opened as an SQLite URI: a "#" or "?" in TMPDIR cut the path short (another file was
    opened, or none)."""
    import tempfile

    from bot.backup import backup, restore

    odd = workdir / "tmp #1 ?x"
    odd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(odd))
    url = f"sqlite:///{workdir / 'db.sqlite3'}"
    make_app(url).close()
    manifest = backup(url, workdir / "b.zip", SECRET)
    assert restore(f"sqlite:///{workdir / 'restored.sqlite3'}", workdir / "b.zip", SECRET) == manifest["counts"]


def _check_restore(restore, BackupError, target: str, workdir: Path, counts: dict) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    assert (workdir / "b.zip").stat().st_mode & 0o777 == 0o600  # every original message is in it
    if target.startswith("sqlite"):
        _tampered_backups_are_refused(restore, BackupError, target, workdir)
    restored = restore(target, workdir / "b.zip", SECRET)
    assert restored == counts and restored["inbound_messages"] == restored["outbox"]
    with pytest.raises(BackupError):  # the restored database now has data: no silent overwrite
        restore(target, workdir / "b.zip", SECRET)
    damaged = workdir / "damaged.zip"
    with zipfile.ZipFile(workdir / "b.zip") as src, zipfile.ZipFile(damaged, "w") as dst:
        for name in ("manifest.json", "manifest.sig"):
            dst.writestr(name, src.read(name))
        dst.writestr("database.dump", src.read("database.dump")[:-10] + b"0123456789")
    with pytest.raises(BackupError, match="damaged"):
        restore(target, damaged, SECRET, force=True)


def _tampered_backups_are_refused(restore, BackupError, target: str, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    """A trigger planted in the dump, the checksum recomputed inside the same zip: refused, nothing loaded."""
    import hashlib
    import json
    import sqlite3
    import zipfile

    with zipfile.ZipFile(workdir / "b.zip") as src:
        manifest = json.loads(src.read("manifest.json"))
        signature = src.read("manifest.sig")
        (workdir / "t.dump").write_bytes(src.read("database.dump"))
    conn = sqlite3.connect(workdir / "t.dump")
    conn.execute("CREATE TRIGGER steal AFTER INSERT ON inbound_messages BEGIN DELETE FROM submissions; END")
    conn.commit()
    conn.close()
    dump = (workdir / "t.dump").read_bytes()
    manifest["sha256"] = hashlib.sha256(dump).hexdigest()
    for name, sig in (("resigned.zip", signature), ("unsigned.zip", None)):
        with zipfile.ZipFile(workdir / name, "w") as dst:
            dst.writestr("database.dump", dump)
            dst.writestr("manifest.json", json.dumps(manifest, indent=1))
            if sig is not None:
                dst.writestr("manifest.sig", sig)
    with pytest.raises(BackupError, match="signature"):
        restore(target, workdir / "resigned.zip", SECRET, force=True)
    with pytest.raises(BackupError, match="not signed"):
        restore(target, workdir / "unsigned.zip", SECRET, force=True)
    with pytest.raises(BackupError, match="trigger steal"):  # trusting it anyway still refuses the trigger
        restore(target, workdir / "unsigned.zip", SECRET, force=True, trust_unsigned=True)
    with pytest.raises(BackupError, match="signature"):  # another installation's key
        restore(target, workdir / "b.zip", "another-installation-secret-0123456789abcdef", force=True)
    assert not Path(target.removeprefix("sqlite:///")).exists() or \
        sqlite3.connect(target.removeprefix("sqlite:///")).execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def test_upgrade_from_the_first_schema_keeps_the_data(db_url) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from bot.schema import alembic_config

    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as conn:  # a row written by the first release
        conn.execute(text(
            "INSERT INTO inbound_messages (sha256, source, arrived_at, processed_at, from_addr, subject, message_id,"
            " size, raw, outcome, reason, candidates, problems) VALUES ('abc', 'imap:INBOX', :t, :t, 'a@b', 's', "
            "'<m>', 3, :raw, 'report', '', '[]', '[]')"), {"t": datetime(2026, 11, 1, tzinfo=UTC), "raw": b"raw"})
    migrate(engine)
    from alembic.script import ScriptDirectory

    assert current_revision(engine) == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        row = conn.execute(text("SELECT sha256, raw, purged_at FROM inbound_messages")).one()
    engine.dispose()
    assert (row[0], bytes(row[1]), row[2]) == ("abc", b"raw", None)


def test_heartbeat_and_mailbox_alert(db_url, make_app) -> None:  # type: ignore[no-untyped-def]
    from bot.health import Health

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app = make_app(db_url, HEARTBEAT_URL=f"http://127.0.0.1:{server.server_port}/ping/abc",
                       MAILBOX_ALERT_MINUTES="30", DIGEST_TO=f"{SECRETARIAT},chief@{DOMAIN}")
        health = Health()
        t0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
        health.ok(app, t0)
        health.ok(app, t0 + timedelta(seconds=10))  # at most one ping a minute
        assert hits == ["/ping/abc"]
        assert not health.failed(app, t0 + timedelta(minutes=1), "login refused")
        assert not health.failed(app, t0 + timedelta(minutes=20), "login refused")
        assert health.failed(app, t0 + timedelta(minutes=31), "login refused")
        assert not health.failed(app, t0 + timedelta(minutes=90), "login refused")  # once per outage
        health.ok(app, t0 + timedelta(minutes=95))
        assert hits == ["/ping/abc", "/ping/abc"]
    finally:
        server.shutdown()
    with app.sessions() as s:
        [alert] = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "alert")).all()
    assert alert.recipients == [SECRETARIAT, f"chief@{DOMAIN}"] and "ติดต่อกล่องจดหมายไม่ได้" in alert.subject


def test_json_logs_one_event_per_line(capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import setup_logging

    setup_logging("json")
    logging.getLogger("complaint_bot.test").info("msg #%d unit=%s outcome=%s", 7, "HPC01", "report")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    data = json.loads(line)
    assert data["message"] == "msg #7 unit=HPC01 outcome=report" and data["level"] == "INFO"


@pytest.mark.slow
def test_run_stops_cleanly_on_sigterm(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    (tmp_path / "mail" / "new").mkdir(parents=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "UNITS_FILE": str(tmp_path / "units.csv"),
           "DATA_DIR": str(tmp_path / "data"), "MAIL_SOURCE": f"maildir:{tmp_path / 'mail'}",
           "SMTP_URL": f"file:{tmp_path / 'sent'}", "SECRETARIAT_EMAIL": SECRETARIAT, "IDLE_SECONDS": "1",
           "SECRET_KEY": SECRET}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(4)
    raw = make_mail(sender=f"hpc01@{DOMAIN}", to=SECRETARIAT, subject="x", body="ไม่มีข้อร้องเรียน",
                    date_=bkk(2026, 11, 3))
    (tmp_path / "mail" / "new" / "1793588400.M1P1.host").write_bytes(raw)
    deadline = time.monotonic() + 20
    while not list((tmp_path / "sent").glob("*.eml")) and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopping after the current message" in err and "stopped" in err
    assert len(list((tmp_path / "sent").glob("*.eml"))) == 1


def test_systemd_unit_runs_unprivileged_and_restarts() -> None:
    unit = (ROOT / "deploy" / "complaint-bot.service").read_text()
    for line in ("User=complaintbot", "Restart=on-failure", "KillSignal=SIGTERM", "ExecStart=", "NoNewPrivileges=yes"):
        assert line in unit
    assert "docs/deploy.md" in (ROOT / "README.md").read_text()


def test_doctor_tests_the_newest_messages_authentication_and_the_staff_addresses(workdir) -> None:  # type: ignore[no-untyped-def]
    """docs/deploy.md, 'Sender authentication': results above the first Received pass; a later hop's Received above
    them, or another server's id, fail with the fix; the example's staff placeholder fails."""
    import time

    from bot.samples import make_mail

    (workdir / ".env").write_text(f"SECRETARIAT_EMAIL={SECRETARIAT}\nMAIL_SOURCE=maildir:mail\nSMTP_URL=file:sent\n"
                                  "TRUSTED_AUTHSERV_ID=mx.anamai.example.go.th\n")
    (workdir / ".env").chmod(0o600)
    for sub in ("new", "cur", "tmp"):
        (workdir / "mail" / sub).mkdir(parents=True)
    body = make_mail(sender=f"hpc01@{DOMAIN}", to=SECRETARIAT, subject="รายงาน", body="ไม่มีข้อร้องเรียน",
                     date_=bkk(2026, 11, 20, 10))
    results = b"Authentication-Results: mx.anamai.example.go.th; dmarc=pass header.from=anamai.example.go.th\r\n"
    relay = b"Received: from mx.anamai.example.go.th by store.anamai.example.go.th with LMTP; Fri, 20 Nov 2026\r\n"
    mx = b"Received: from relay.example.org by mx.anamai.example.go.th; Fri, 20 Nov 2026 10:00:00 +0700\r\n"
    cases = [(results + mx + body, "pass", "above the first Received"),
             (relay + results + mx + body, "FAIL", "below 1 Received header(s)"),
             (b"Authentication-Results: spam.example.net; dmarc=pass\r\n" + mx + body, "FAIL", "spam.example.net")]
    for n, (raw, verdict, says) in enumerate(cases):
        (workdir / "mail" / "new" / f"{n}.eml").write_bytes(raw)
        os.utime(workdir / "mail" / "new" / f"{n}.eml", (time.time() + n, time.time() + n))  # the newest
        result, rows = _doctor({})
        assert rows["authentication on the newest message"][0] == verdict, result.output
        assert says in result.output  # (a long detail wraps in the table)
    assert rows["staff addresses"][0] == "pass"
    result, rows = _doctor({"STAFF_EMAILS": "clerk1@anamai.example.go.th"})
    assert rows["staff addresses"][0] == "FAIL" and result.exit_code == 1
