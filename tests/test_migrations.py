"""The migrated schema is exactly what the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from config.db import Base, current_revision, make_engine, migrate


def test_migrations_match_the_models(db_url) -> None:  # type: ignore[no-untyped-def]
    import intake.models  # noqa: F401
    import mailer.models  # noqa: F401

    engine = make_engine(db_url)
    migrate(engine)
    migrate(engine)  # running again is harmless
    assert current_revision(engine) is not None
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_type_hints_are_checked() -> None:
    """mypy over the packages: the hints are part of the code, so they must hold."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "mypy", "config", "intake", "scoring", "mailer", "bot"],
                          cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
