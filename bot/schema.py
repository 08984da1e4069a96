"""The schema's migrations (Alembic, in `bot/migrations`): here because only `bot` may import every package's
models, which Alembic's autogenerate compares with the database (`alembic revision --autogenerate -m …`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# The newest migration's revision: start-up compares the database with it in one query and runs
# Alembic (an import and a script scan costing ~0.3 s) only when they differ. A test keeps it in step.
SCHEMA_HEAD = "0019"


def metadata() -> MetaData:
    """Every package's tables on the shared base (importing the models registers them)."""
    import intake.models  # noqa: F401
    import mailer.models  # noqa: F401
    from db.engine import metadata

    return metadata


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when current)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def migrate_if_needed(engine: Engine) -> None:
    """At start: one query; Alembic runs only for a new or older database."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        current = None  # no schema yet
    if current != SCHEMA_HEAD:
        migrate(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return revision_in(conn)


def revision_in(conn: Connection) -> str | None:
    """The schema's revision as this connection (and its transaction's snapshot) sees it."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()
