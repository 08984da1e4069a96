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

