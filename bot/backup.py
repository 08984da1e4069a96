"""`backup` and `restore`: the database (which holds every original message) as one verified file.

SQLite: the online backup API, consistent while the worker writes. PostgreSQL: pg_dump / pg_restore.
The backup is a zip (mode 0600) with the dump, a manifest (row counts per table, SHA-256 of the dump)
and an HMAC of the manifest made with the secret key. Restore refuses, before loading anything:
a signature that does not match (a checksum recomputed inside the zip is not enough), or none without
--trust-unsigned; a dump whose hash does not match; a dump holding tables the migrations do not
create, or any trigger or view. After loading it checks the row counts."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url

from db.engine import make_engine, metadata
from bot.schema import revision_in
from config.settings import child_environment

TABLES = ("inbound_messages", "submissions", "case_sheets", "outbox", "exemptions", "actions", "contact_status",
          "digest_snapshots")


class BackupError(Exception):
    """A backup that cannot be made or trusted; the message says why."""


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return _counts_in(conn)


def _counts_in(conn: Connection) -> dict[str, int]:
    present = set(inspect(conn).get_table_names())
    return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0) for t in TABLES if t in present}


def _pg_env(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    env = child_environment({"PGPASSWORD": u.password} if u.password else {})
    args = ["-h", u.host or "localhost", "-p", str(u.port or 5432), "-U", u.username or "postgres", "-d", u.database or ""]
    return args, env


def _signature(secret: str, manifest_bytes: bytes) -> str:
    return hmac.new(secret.encode(), b"complaint-bot backup\n" + manifest_bytes, hashlib.sha256).hexdigest()


def _expected_tables() -> set[str]:
    import intake.models  # noqa: F401  (their tables on the shared base)
    import mailer.models  # noqa: F401

    return set(metadata.tables) | {"alembic_version"}


def _check_dump_schema(fmt: str, dump: Path) -> None:
    """Only the tables the migrations create; no triggers, no views (they would run or lie after restore)."""
    if fmt == "sqlite":
        conn = sqlite3.connect(dump.as_uri() + "?mode=ro", uri=True)  # escaped: TMPDIR may hold "#" or "?"
        try:
            rows = conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
        finally:
            conn.close()
        kinds = [(str(t).upper(), str(n)) for t, n in rows if t != "index"]
    else:
        listing = subprocess.run(["pg_restore", "-l", str(dump)], check=True, capture_output=True, text=True).stdout
        kinds = []
        for line in listing.splitlines():
            if line.startswith(";") or not line.strip():
                continue
            parts = line.split()  # "ID; OID OID TYPE [TYPE…] SCHEMA NAME OWNER"
            if len(parts) < 7 or parts[3:5] == ["TABLE", "DATA"]:
                continue
            kind = "VIEW" if parts[3] == "MATERIALIZED" else parts[3]
            if kind in ("TABLE", "VIEW", "TRIGGER", "FUNCTION", "RULE", "EVENT"):
                kinds.append((kind, parts[-2]))
    unknown = sorted({name for kind, name in kinds if kind == "TABLE" and name not in _expected_tables()})
    foreign = sorted({f"{kind.lower()} {name}" for kind, name in kinds if kind != "TABLE"})
    if unknown or foreign:
        raise BackupError("the backup's schema is not this version's: " + ", ".join(
            [*(f"unknown table {t}" for t in unknown), *foreign]) + "; nothing was restored")


def backup(database_url: str, out: Path, secret: str) -> dict[str, object]:
    """The database as one signed zip. The manifest's counts and revision are read from the very snapshot
    that was dumped: the worker may keep writing meanwhile, and restore checks against them."""
    engine = make_engine(database_url)
    manifest: dict[str, object] = {"created_at": datetime.now(UTC).isoformat()}
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "database.dump"
        if engine.dialect.name == "sqlite":
            source = sqlite3.connect(make_url(database_url).database or "")
            target = sqlite3.connect(dump)
            with target:
                source.backup(target)  # a consistent snapshot, even with the worker writing
            source.close()
            target.close()
            # What the copy holds, read only (a URI, so the path is escaped whatever TMPDIR holds).
            copy = create_engine("sqlite://", creator=lambda: sqlite3.connect(dump.as_uri() + "?mode=ro", uri=True))
            with copy.connect() as conn:
                manifest.update(revision=revision_in(conn), counts=_counts_in(conn))
            copy.dispose()
            manifest["format"] = "sqlite"
        else:
            if not shutil.which("pg_dump"):
                raise BackupError("pg_dump is not installed (Debian: postgresql-client)")
            args, env = _pg_env(database_url)
            # One snapshot for the counts and the dump: exported from a repeatable-read transaction that
            # stays open until pg_dump has read it.
            with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
                snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
                manifest.update(revision=revision_in(conn), counts=_counts_in(conn))
                subprocess.run(["pg_dump", "-Fc", f"--snapshot={snapshot}", "-f", str(dump), *args], env=env,
                               check=True, capture_output=True)
            manifest["format"] = "pg_dump"
        manifest["sha256"] = hashlib.sha256(dump.read_bytes()).hexdigest()
        manifest_bytes = json.dumps(manifest, indent=1).encode()
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds every original message
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(dump, "database.dump")
            zf.writestr("manifest.json", manifest_bytes)
            zf.writestr("manifest.sig", _signature(secret, manifest_bytes))
    engine.dispose()
    return manifest


def restore(database_url: str, path: Path, secret: str, force: bool = False,
            trust_unsigned: bool = False) -> dict[str, int]:
    with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory() as tmp:
        manifest_bytes = zf.read("manifest.json")
        manifest = json.loads(manifest_bytes)
        # 1. We wrote it: the manifest's HMAC (a hash alone can be recomputed by whoever edits the zip).
        names = set(zf.namelist())
        if "manifest.sig" in names:
            signature = zf.read("manifest.sig").decode("ascii", "replace").strip()
            if not hmac.compare_digest(signature, _signature(secret, manifest_bytes)):
                raise BackupError(f"{path} was not written by this installation (or was changed since): its "
                                  "signature does not match the secret key; nothing was restored")
        elif not trust_unsigned:
            raise BackupError(f"{path} is not signed; give --trust-unsigned only if you know where it came from")
        dump = Path(tmp) / "database.dump"
        dump.write_bytes(zf.read("database.dump"))
        # 2. The file is what the backup wrote, and holds only this version's schema.
        if hashlib.sha256(dump.read_bytes()).hexdigest() != manifest["sha256"]:
            raise BackupError(f"{path} is damaged: its database does not match the manifest's SHA-256")
        _check_dump_schema(str(manifest["format"]), dump)
        engine = make_engine(database_url)
        # 3. Never overwrite live data by accident.
        if not force and any(_counts(engine).values()):
            raise BackupError("the target database is not empty; give --force to replace it")
        engine.dispose()
        # 4. Load it.
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
    # 5. Verify: the same rows as when the backup was made.
    engine = make_engine(database_url)
    counts = _counts(engine)
    engine.dispose()
    if counts != manifest["counts"]:
        raise BackupError(f"restored counts {counts} differ from the backup's {manifest['counts']}")
    return counts
