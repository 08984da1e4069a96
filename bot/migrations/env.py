"""Alembic environment. From `bot.schema.migrate` it runs on the engine handed over; from the `alembic`
command line (alembic.ini at the repository root) on DATABASE_URL from .env. Either way the target is every
package's models, so `alembic revision --autogenerate -m "…"` writes the next migration's draft."""

from alembic import context

from bot.schema import metadata

engine = context.config.attributes.get("engine")
if engine is None:  # the alembic command line
    from config.db import make_engine
    from config.settings import load_settings

    engine = make_engine(load_settings().database_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
