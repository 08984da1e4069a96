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



def test_the_start_up_check_knows_the_newest_migration(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic.script import ScriptDirectory

    from config.db import SCHEMA_HEAD, alembic_config, migrate_if_needed

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == SCHEMA_HEAD
    migrate_if_needed(engine)  # a new database is migrated
    assert current_revision(engine) == SCHEMA_HEAD
    engine.dispose()
