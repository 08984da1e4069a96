"""Alembic environment. From `bot.schema.migrate` it runs on the engine handed over; from the `alembic`
command line (alembic.ini at the repository root) on DATABASE_URL from .env. Either way the target is every
package's models, so `alembic revision --autogenerate -m "…"` writes the next migration's draft."""

from alembic import context
from sqlalchemy import text

from bot.schema import metadata

engine = context.config.attributes.get("engine")
if engine is None:  # the alembic command line
    from db.engine import make_engine
    from config.settings import load_settings

    engine = make_engine(load_settings().database_url)

# Several workers may start at once on a new database: the first to take this lock migrates, the others wait
# for its commit and then find the schema current (any fixed key; only migrations take it).
MIGRATION_LOCK = 8_117_702_613

with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock first: the migration is one transaction
    context.configure(
        connection=connection,
        target_metadata=metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
