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
        procs.append(subprocess.Popen([sys.executable, "-m", "bot.cli", "poll"], env=env, cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for p in procs:
        assert p.wait() == 0
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
                # Migrate once before the clock starts.
                subprocess.run([sys.executable, "-m", "bot.cli", "units", "check"], cwd=ROOT, capture_output=True,
                               env={**os.environ, "DATABASE_URL": url, "UNITS_FILE": str(folder / "units.csv"),
                                    "DATA_DIR": str(folder / "data")})
                seconds = run_workers(server, users, url, folder)
                rate = workers * per_mailbox / seconds
                base = base or rate
                rows.append((str(workers), str(workers * per_mailbox), f"{seconds:.1f}", f"{rate:,.0f}", f"{rate / base:.2f}"))
            finally:
                servers.drop_pg_database(name)
    finally:
        server.stop()
    table(f"Scale-out on PostgreSQL, {per_mailbox} messages per mailbox ({os.cpu_count()} cores)", rows)
