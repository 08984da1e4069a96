"""The command line as a new user meets it: demo, template, units, settings errors, help."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import time_machine
from typer.testing import CliRunner

from bot.cli import app as cli
from config.errors import ConfigError
from config.settings import settings_from_mapping
from intake.forms import read_forms
from tests.conftest import SECRET, UNITS

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for key in ("DATABASE_URL", "MAIL_SOURCE", "UNITS_FILE", "DATA_DIR", "SMTP_URL", "SECRETARIAT_EMAIL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SECRET_KEY", SECRET)  # what `init` writes into .env
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    return tmp_path


def test_demo_runs_the_real_pipeline_and_prints_the_table(workdir: Path) -> None:
    result = runner.invoke(cli, ["demo"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for status in ("ตรงเวลา", "ล่าช้า", "ไม่ได้ส่งรายงาน", "รอเจ้าหน้าที่ตรวจสอบ"):  # the table speaks Thai
        assert status in result.output, result.output
    table = result.output.split("as expected")[0].split("outcomes")[0]
    assert "on_time" not in table and "totals_mismatch" not in table  # problems in words too (HPC04's totals)
    assert "16 messages read: 15 stored, 1 duplicate" in result.output
    assert "as expected: 26/26" in result.output  # 15 messages and 11 units, each as the demo states it
    receipts = list((workdir / "complaint-bot-demo" / "outbox").glob("*.eml"))
    assert len(receipts) == 13
    # Every unit's mail carries its registry name as the display name, folded before the address as clients do.
    raw = [p.read_bytes() for p in (workdir / "complaint-bot-demo" / "Maildir").rglob("*.demo*")]
    folded = [r for r in raw if re.search(rb"^From: [^\r\n]*\r?\n[ \t]", r, re.M)]
    assert len(raw) == 16 and len(folded) >= 12
    # Running it again starts afresh.
    assert runner.invoke(cli, ["demo"]).exit_code == 0


def test_demo_exits_non_zero_when_a_message_comes_out_otherwise(workdir: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo is also a smoke test of the whole pipeline: an expectation that does not hold fails it."""
    from bot import demo

    monkeypatch.setitem(demo.EXPECTED_STATUS, "HPC08", ("on_time", "nil"))  # HPC08 only said it would send
    result = runner.invoke(cli, ["demo"], env={"COLUMNS": "160"})
    assert result.exit_code == 1
    assert "HPC08: expected on_time nil, got missing" in result.output and "as expected: 25/26" in result.output


def test_status_json_reads_with_core_alone(workdir: Path) -> None:
    """`status --json` runs on a plain connection and never imports the ORM (importing sqlalchemy.orm costs a
    start-up a third of `import sqlalchemy` again: issue #13's 1.5x), nor the dialect of a database it does not
    use (an index's postgresql_where imported PostgreSQL's, 40 ms, on SQLite); folded from table rows instead of
    mapped objects, it answers what the demo's table shows."""
    import re
    import subprocess
    import sys

    demo = runner.invoke(cli, ["demo"], env={"COLUMNS": "160"})
    assert demo.exit_code == 0, demo.output
    found = re.search(r"--period\s+(\d{4}-\d{2})\s+--json", demo.output)
    assert found, demo.output
    folder = workdir / "complaint-bot-demo"
    script = ("import sys\nfrom bot.cli import main\n"
              f"sys.argv = ['complaint-bot', 'status', '--period', '{found.group(1)}', '--json']\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in sys.modules if m.split('.')[:2] == ['sqlalchemy', 'orm']\n"
              "             or m.split('.')[:3] == ['sqlalchemy', 'dialects', 'postgresql']), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=folder, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr
    data = json.loads(done.stdout)
    statuses = {u["unit"]: u["status"] for u in data["units"]}
    for status in ("on_time", "late", "missing", "needs_review"):  # as the demo's own table shows them
        assert status in statuses.values(), statuses
    assert any(sum(u["counts"].values()) > 0 for u in data["units"])
    # HPC04's Complaint_02 disagrees with its rows in two categories: two facts, each naming its count.
    [hpc04] = [u for u in data["units"] if u["unit"] == "HPC04"]
    mismatches = [p for p in hpc04["problems"] if p["code"] == "totals_mismatch"]
    assert len(mismatches) == len({p["category"] for p in mismatches}) == 2, hpc04["problems"]
    assert all(p["summary"] != p["rows"] for p in mismatches)


def test_demo_refuses_to_overwrite_a_foreign_folder(workdir: Path) -> None:
    (workdir / "mine").mkdir()
    result = runner.invoke(cli, ["demo", "--dir", "mine"])
    assert result.exit_code != 0 and (workdir / "mine").exists()


@pytest.mark.parametrize("form,expected", [("complaint-01", "complaint_01"), ("complaint-02", "complaint_02")])
def test_template_writes_a_form_the_reader_recognises(workdir: Path, form: str, expected: str) -> None:
    result = runner.invoke(cli, ["template", form, "--out", "f.xlsx"])
    assert result.exit_code == 0, result.output
    [reading] = read_forms("f.xlsx", (workdir / "f.xlsx").read_bytes())
    assert reading.form == expected


def test_units_list_and_check(workdir: Path) -> None:
    result = runner.invoke(cli, ["units", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "HPC01" in result.output
    result = runner.invoke(cli, ["units", "check"], env={"COLUMNS": "200"})
    # central@ serves DIV01 and DIV02: supported (the form names the unit), so a note, not a mistake.
    assert result.exit_code == 0 and "central@anamai.example.go.th is a sender for several units" in result.output
    (workdir / "units.csv").write_text("code,name,senders\nA,หน่วย ก,a@x.example\nB,หน่วย ข,not-an-address\n",
                                       encoding="utf-8")
    result = runner.invoke(cli, ["units", "check"], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and result.output.count("not a valid e-mail address") == 1
    assert "line 3, B" in result.output
    # Reading mail with a broken registry is refused, naming the line; nothing is read or stored.
    (workdir / "mail" / "new").mkdir(parents=True)
    result = runner.invoke(cli, ["poll"], env={"MAIL_SOURCE": "maildir:mail", "COLUMNS": "200"})
    assert result.exit_code == 2 and "line 3, B" in result.output
    # The example registry, copied as it is: `units check` and `doctor` give one answer.
    from config.units import EXAMPLE_REGISTRY

    (workdir / "units.csv").write_bytes(EXAMPLE_REGISTRY.read_bytes())
    result = runner.invoke(cli, ["units", "check"], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "still the example registry" in result.output, result.output


def test_a_command_failing_on_configuration_writes_nothing(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY")
    result = runner.invoke(cli, ["poll"], env={"MAIL_SOURCE": "maildir:mail", "COLUMNS": "200"})
    assert result.exit_code == 2 and ".env" in result.output and "init" in result.output
    assert sorted(p.name for p in workdir.iterdir()) == ["units.csv"]  # no database, no key, no folders


def test_bad_setting_is_named_at_start(workdir: Path) -> None:
    result = runner.invoke(cli, ["status"], env={"MAIL_SOURCE": "pop3://x"})
    assert result.exit_code == 2
    assert "MAIL_SOURCE must start with imap://, imaps:// or maildir:" in result.output


@pytest.mark.parametrize("env,key", [
    ({"SMTP_URL": "http://x"}, "SMTP_URL"), ({"DEADLINE_DAY": "40"}, "DEADLINE_DAY"),
    ({"TIMEZONE": "Mars/Base"}, "TIMEZONE"), ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"DIGEST_TO": "nobody"}, "DIGEST_TO"), ({"MAIL_SOURCE": "imap://:99999"}, "MAIL_SOURCE"),
])
def test_settings_validation_names_the_key(tmp_path: Path, env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_mapping({"DATA_DIR": str(tmp_path), **env}, base_dir=tmp_path)
    assert err.value.key == key and key in str(err.value)


def test_dotenv_is_read(workdir: Path) -> None:
    (workdir / ".env").write_text("DEADLINE_DAY=20\nMAIL_SOURCE=maildir:./mail\n")
    from config.settings import load_settings

    s = load_settings()
    assert s.deadline_day == 20 and s.maildir() == Path("./mail")


def test_help_everywhere() -> None:
    for args in ([], ["status"], ["poll"], ["send"], ["run"], ["demo"], ["template"], ["units"], ["units", "check"]):
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_status_uses_the_clock_without_as_of(workdir: Path) -> None:
    # 25 Nov 23:59:59 Bangkok: still pending; one second later: missing.
    with time_machine.travel("2026-11-25T16:59:59+00:00", tick=False):
        data = json.loads(runner.invoke(cli, ["status", "--json"]).output)
        assert data["period"] == "2026-11" and {u["status"] for u in data["units"]} == {"pending"}
    with time_machine.travel("2026-11-25T17:00:00+00:00", tick=False):
        data = json.loads(runner.invoke(cli, ["status", "--period", "2569-11", "--json"]).output)
        assert {u["status"] for u in data["units"]} == {"missing"}


def test_status_table_and_maildir_poll(workdir: Path) -> None:
    from bot.samples import make_mail
    from tests.conftest import bkk

    (workdir / "mail" / "new").mkdir(parents=True)
    raw = make_mail(sender="hpc01@anamai.example.go.th", to="s@x", subject="x", body="ไม่มีข้อร้องเรียนครับ",
                    date_=bkk(2026, 11, 3))
    when = int(bkk(2026, 11, 3, 8).timestamp())
    (workdir / "mail" / "new" / f"{when}.M1P1.host").write_bytes(raw)
    env = {"MAIL_SOURCE": "maildir:mail", "SMTP_URL": "file:sent", "COLUMNS": "160"}
    result = runner.invoke(cli, ["poll"], env=env)
    assert result.exit_code == 0 and "1 stored" in result.output, result.output
    assert not list((workdir / "mail" / "new").iterdir()) and len(list((workdir / "mail" / "cur").iterdir())) == 1
    assert runner.invoke(cli, ["poll"], env=env).output.startswith("0 message(s)")
    result = runner.invoke(cli, ["send"], env=env)
    assert "1 sent" in result.output and len(list((workdir / "sent").glob("*.eml"))) == 1
    result = runner.invoke(cli, ["status", "--period", "2026-11", "--as-of", "2026-11-30"], env=env)
    assert result.exit_code == 0 and "ตรงเวลา" in result.output and "ไม่ได้ส่งรายงาน" in result.output


def test_every_year_a_person_types_is_read_as_meant_or_refused(workdir: Path) -> None:
    """docs/spec.md, "Rules" (months): one rule for --as-of, --period, --received and --fiscal-year."""
    be = json.loads(runner.invoke(cli, ["status", "--as-of", "2569-11-20T10:00", "--json"]).output)
    ce = json.loads(runner.invoke(cli, ["status", "--as-of", "2026-11-20T10:00", "--json"]).output)
    assert be == ce and be["period"] == "2026-11" and {u["status"] for u in be["units"]} == {"pending"}
    plan = json.loads(runner.invoke(cli, ["remind", "--dry-run", "--json", "--as-of", "2569-11-26T09:30"]).output)
    assert plan["reminders"] and {r["period"] for r in plan["reminders"]} == {"2026-11"}
    assert runner.invoke(cli, ["status", "--as-of", "2567-02-29", "--json"]).exit_code == 0  # BE 2567 = CE 2024, leap
    for args in (["status", "--as-of", "3112-11-20"], ["status", "--period", "3112-11"],
                 ["evidence", "--unit", "HPC01", "--fiscal-year", "2027", "--out", "e.zip"],
                 ["score", "--fiscal-year", "2027"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2 and ("2569" in result.output or "2570" in result.output), (args, result.output)
    assert not (workdir / "e.zip").exists()


def test_a_broken_rubric_is_refused_at_start(workdir: Path) -> None:
    (workdir / "rubric.json").write_text("{not json", encoding="utf-8")
    result = runner.invoke(cli, ["status", "--json"], env={"RUBRIC_FILE": str(workdir / "rubric.json")})
    assert result.exit_code == 2 and "RUBRIC_FILE" in result.output
    assert sorted(p.name for p in workdir.iterdir()) == ["rubric.json", "units.csv"]  # nothing written


def test_version_and_what_run_serves(workdir: Path) -> None:
    """`--version` answers at once; `run` says in its first log line what it serves, and no password."""
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("complaint-bot ")
    from types import SimpleNamespace

    from bot.runner import serving

    settings = settings_from_mapping({"MAIL_SOURCE": "imaps://saraban%40x.go.th:s3cret-pw@mail.x.go.th/INBOX",
                                      "SMTP_URL": "smtp+starttls://bot:sm7p-pw@smtp.x.go.th:587",
                                      "DATABASE_URL": "postgresql://bot:db-pw@db.x.go.th/cb",
                                      "SECRETARIAT_EMAIL": "saraban@x.go.th", "SECRET_KEY": SECRET,
                                      "UNITS_FILE": str(workdir / "units.csv")}, base_dir=workdir)
    line = serving(SimpleNamespace(settings=settings, worker_id="h:1:x", registry=_registry(workdir)))  # type: ignore[arg-type]
    assert "imaps://saraban@x.go.th@mail.x.go.th:993/INBOX" in line and "smtp+starttls://smtp.x.go.th:587" in line
    assert "db.x.go.th" in line and "5 active units" in line
    assert not any(secret in line for secret in ("s3cret-pw", "sm7p-pw", "db-pw"))


def _registry(folder: Path):  # type: ignore[no-untyped-def]
    from config.units import load_registry

    return load_registry(folder / "units.csv")


def test_remind_names_the_review_alert_it_queues(workdir: Path) -> None:
    """`remind` runs the whole monthly cycle: a message waiting for a person queues the review alert, and says so."""
    from bot.samples import make_mail
    from tests.conftest import bkk

    (workdir / "mail" / "new").mkdir(parents=True)
    raw = make_mail(sender="central@anamai.example.go.th", to="s@x", subject="รายงาน", body="ไม่มีข้อร้องเรียนครับ",
                    date_=bkk(2026, 11, 20))  # an address two units share, no form naming one: a person decides
    (workdir / "mail" / "new" / f"{int(bkk(2026, 11, 20, 8).timestamp())}.M1P1.host").write_bytes(raw)
    env = {"MAIL_SOURCE": "maildir:mail", "SMTP_URL": "file:sent", "COLUMNS": "160",
           "STAFF_EMAILS": "clerk@anamai.example.go.th"}
    assert runner.invoke(cli, ["poll"], env=env).exit_code == 0
    result = runner.invoke(cli, ["remind", "--as-of", "2026-11-20T10:00"], env=env)
    assert result.exit_code == 0 and "queued review" in result.output and "clerk@anamai.example.go.th" in result.output


def test_a_month_before_the_bot_began_is_refused_not_reported_missing(workdir: Path) -> None:
    """The bot's first month is START_PERIOD, else its first message's: `status` and `digest` refuse earlier
    months with the reason (as `score` ignores them) instead of showing every unit missing."""
    from bot.samples import make_mail
    from tests.conftest import bkk

    (workdir / "mail" / "new").mkdir(parents=True)
    raw = make_mail(sender="hpc01@anamai.example.go.th", to="s@x", subject="x", body="ไม่มีข้อร้องเรียนครับ",
                    date_=bkk(2026, 11, 3))
    (workdir / "mail" / "new" / f"{int(bkk(2026, 11, 3, 8).timestamp())}.M1P1.host").write_bytes(raw)
    env = {"MAIL_SOURCE": "maildir:mail", "SMTP_URL": "file:sent", "COLUMNS": "200"}
    assert runner.invoke(cli, ["poll"], env=env).exit_code == 0
    for args in (["status", "--period", "1999-11"], ["status", "--period", "2569-10", "--json"],
                 ["digest", "--period", "2026-10", "--out", "d.xlsx"]):
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 2 and "before the bot's first month, 2026-11" in result.output, (args, result.output)
    assert runner.invoke(cli, ["status", "--period", "2026-11", "--json"], env=env).exit_code == 0
    started = {**env, "START_PERIOD": "2569-10"}  # the department says the bot's work began in October
    assert runner.invoke(cli, ["status", "--period", "2026-10", "--json"], env=started).exit_code == 0
    assert runner.invoke(cli, ["status", "--period", "2026-09"], env=started).exit_code == 2
