"""`backup` and `restore`: the database (which holds every original message) as one verified file.

SQLite: the online backup API, consistent while the worker writes. PostgreSQL: pg_dump / pg_restore.
The backup is a zip with the dump and a manifest (row counts per table, SHA-256 of the dump); restore
refuses a file whose hash does not match, and checks the counts after loading."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url

from config.db import current_revision, make_engine
from config.settings import child_environment

TABLES = ("inbound_messages", "submissions", "case_rows", "outbox", "exemptions", "actions", "contact_status",
          "digest_snapshots")


class BackupError(Exception):
    """A backup that cannot be made or trusted; the message says why."""


def _counts(engine: Engine) -> dict[str, int]:
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0) for t in TABLES if t in present}


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    env = child_environment({"PGPASSWORD": u.password} if u.password else {})
    args = ["-h", u.host or "localhost", "-p", str(u.port or 5432), "-U", u.username or "postgres", "-d", u.database or ""]
    return args, env


def backup(database_url: str, out: Path) -> dict[str, object]:
    engine = make_engine(database_url)
    manifest: dict[str, object] = {"created_at": datetime.now(UTC).isoformat(), "revision": current_revision(engine),
                                   "counts": _counts(engine)}
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "database.dump"
        if engine.dialect.name == "sqlite":
            source = sqlite3.connect(make_url(database_url).database or "")
            target = sqlite3.connect(dump)
            with target:
                source.backup(target)  # a consistent snapshot, even with the worker writing
            source.close()
            target.close()
            manifest["format"] = "sqlite"
        else:
            if not shutil.which("pg_dump"):
                raise BackupError("pg_dump is not installed (Debian: postgresql-client)")
            args, env = _pg_env(database_url)
            subprocess.run(["pg_dump", "-Fc", "-f", str(dump), *args], env=env, check=True, capture_output=True)
            manifest["format"] = "pg_dump"
        manifest["sha256"] = hashlib.sha256(dump.read_bytes()).hexdigest()
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(dump, "database.dump")
            zf.writestr("manifest.json", json.dumps(manifest, indent=1))
    engine.dispose()
    return manifest


def restore(database_url: str, path: Path, force: bool = False) -> dict[str, int]:
    with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory() as tmp:
        manifest = json.loads(zf.read("manifest.json"))
        dump = Path(tmp) / "database.dump"
        dump.write_bytes(zf.read("database.dump"))
        # 1. The file is what the backup wrote.
        if hashlib.sha256(dump.read_bytes()).hexdigest() != manifest["sha256"]:
            raise BackupError(f"{path} is damaged: its database does not match the manifest's SHA-256")
        engine = make_engine(database_url)
        # 2. Never overwrite live data by accident.
        if not force and any(_counts(engine).values()):
            raise BackupError("the target database is not empty; give --force to replace it")
        engine.dispose()
        # 3. Load it.
        if manifest["format"] == "sqlite":
            target_path = Path(make_url(database_url).database or "")
            if engine.dialect.name != "sqlite":
                raise BackupError("this backup is of an SQLite database; restore it into an sqlite:/// URL")
            src = sqlite3.connect(dump)
            dst = sqlite3.connect(target_path)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
        else:
            if engine.dialect.name != "postgresql":
                raise BackupError("this backup is of a PostgreSQL database; restore it into a postgresql:// URL")
            if not shutil.which("pg_restore"):
                raise BackupError("pg_restore is not installed (Debian: postgresql-client)")
            args, env = _pg_env(database_url)
            subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", *args, str(dump)], env=env,
                           check=True, capture_output=True)
    # 4. Verify: the same rows as when the backup was made.
    engine = make_engine(database_url)
    counts = _counts(engine)
    engine.dispose()
    if counts != manifest["counts"]:
        raise BackupError(f"restored counts {counts} differ from the backup's {manifest['counts']}")
    return counts
