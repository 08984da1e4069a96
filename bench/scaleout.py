"""Scale out: 1, 2 and 4 worker processes against PostgreSQL, one mailbox each (a worker per mailbox;
two workers on the same mailbox are deliberately serialised by its lease)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import dovecot, table, units_csv, workdir
from bench.intake import fill
from tests import servers

ROOT = Path(__file__).resolve().parent.parent


def run_workers(server: servers.Dovecot, users: list[str], db_url: str, folder: Path) -> float:
    procs = []
    start = time.perf_counter()
    for user in users:
        env = {**os.environ, "DATABASE_URL": db_url, "UNITS_FILE": str(folder / "units.csv"),
               "DATA_DIR": str(folder / "data"), "MAIL_SOURCE": server.url(user), "SECRETARIAT_EMAIL": "saraban@x.go.th",
               "SECRET_KEY": "bench-secret-7d2f9b1c4e8a6035f2c9e1b7a4d8", "SMTP_URL": f"file:{folder / 'sent'}"}
        log = open(folder / f"worker-{len(procs)}.log", "wb")  # noqa: SIM115 - closed when the worker ends
        procs.append((subprocess.Popen([sys.executable, "-m", "bot.cli", "poll"], env=env, cwd=ROOT,
                                       stdout=log, stderr=subprocess.STDOUT), log))
    for p, log in procs:
        code = p.wait()
        log.close()
        if code != 0:  # say why, not just that it failed
            raise SystemExit(f"worker exited {code}; its log: {log.name}\n"
                             + Path(log.name).read_text(errors="replace")[-3000:])
    return time.perf_counter() - start


def main(n: int = 0) -> None:
    per_mailbox = n or 1000
    if not servers.postgres_reachable():
        raise SystemExit("PostgreSQL on 127.0.0.1:5432 is needed")
    server = dovecot()
    rows = [("workers (one mailbox each)", "messages", "seconds", "messages/s", "ratio to 1 worker")]
    base = 0.0
    try:
        for workers in (1, 2, 4):
            name, url = servers.create_pg_database()
            try:
                folder = workdir("scaleout")
                (folder / "units.csv").write_text(units_csv(1000), encoding="utf-8")
                users = [server.new_user() for _ in range(workers)]
                for user in users:
                    fill(server, user, per_mailbox, 1000)
                # Migrate before the clock starts (`units check` no longer opens the database).
                from bot.schema import migrate
                from db.engine import make_engine

                engine = make_engine(url)
                migrate(engine)
                engine.dispose()
                seconds = run_workers(server, users, url, folder)
                rate = workers * per_mailbox / seconds
                base = base or rate
                rows.append((str(workers), str(workers * per_mailbox), f"{seconds:.1f}", f"{rate:,.0f}", f"{rate / base:.2f}"))
            finally:
                servers.drop_pg_database(name)
    finally:
        server.stop()
    table(f"Scale-out on PostgreSQL, {per_mailbox} messages per mailbox ({os.cpu_count()} cores)", rows)
