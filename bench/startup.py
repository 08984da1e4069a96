"""Start-up: `complaint-bot --help` against `import typer`, `status --json` on a small database against
`import sqlalchemy`, each the best of several fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import SECRETARIAT, table, units_csv, workdir


def best_of(argv: list[str], env: dict[str, str], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main(n: int = 0) -> None:
    folder = workdir("startup")
    (folder / "units.csv").write_text(units_csv(20), encoding="utf-8")
    env = {**os.environ, "DATA_DIR": str(folder / "data"), "UNITS_FILE": str(folder / "units.csv"),
           "SECRETARIAT_EMAIL": SECRETARIAT, "SECRET_KEY": "bench-secret-7d2f9b1c4e8a6035f2c9e1b7a4d8",
           "SMTP_URL": f"file:{folder / 'sent'}", "MAIL_SOURCE": f"maildir:{folder / 'mail'}"}
    # Measured as installed: Python caches each module's bytecode on first import. This machine's environment
    # sets PYTHONDONTWRITEBYTECODE, which made every start compile our ~70 modules from source (+35 ms) while
    # the libraries it is compared with were compiled by pip.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cli = str(Path(sys.executable).with_name("complaint-bot"))
    python = sys.executable
    # Creates the database, and caches the bytecode of every module the commands import.
    subprocess.run([cli, "status", "--json"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([cli, "--help"], env=env, check=True, stdout=subprocess.DEVNULL)
    runs = max(n, 5)
    typer = best_of([python, "-c", "import typer"], env, runs)
    helptext = best_of([cli, "--help"], env, runs)
    # Any Typer program's help is rendered by rich: a one-command program shows what that costs by itself.
    bare = best_of([python, "-c", "import typer; app = typer.Typer(); app.command()(lambda: None); app()", "--help"],
                   env, runs)
    sqlalchemy = best_of([python, "-c", "import sqlalchemy"], env, runs)
    status = best_of([cli, "status", "--json"], env, runs)
    # A one-command Typer program that imports SQLAlchemy is what a database command costs before it does
    # anything of its own (`status` reads with Core statements: importing sqlalchemy.orm would add ~0.06 s).
    bare_db = best_of([python, "-c", "import typer; app = typer.Typer(); "
                       "app.command()(lambda: __import__('sqlalchemy')); app()"], env, runs)
    table(f"Start-up, best of {runs} fresh processes (seconds)", [
        ("command", "seconds", "floor", "floor seconds", "ratio", "goal"),
        ("complaint-bot --help", f"{helptext:.2f}", "python -c 'import typer'", f"{typer:.2f}",
         f"{helptext / typer:.1f}x", "<= 2x"),
        ("", "", "a one-command Typer program's --help", f"{bare:.2f}", f"{helptext / bare:.1f}x", ""),
        ("complaint-bot status --json", f"{status:.2f}", "python -c 'import sqlalchemy'", f"{sqlalchemy:.2f}",
         f"{status / sqlalchemy:.1f}x", "<= 1.5x"),
        ("", "", "a one-command Typer program importing sqlalchemy", f"{bare_db:.2f}", f"{status / bare_db:.1f}x",
         ""),
    ])
