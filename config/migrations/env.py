"""Alembic environment: runs on the engine handed over by `config.db.migrate`."""

from alembic import context

engine = context.config.attributes["engine"]
target_metadata = context.config.attributes.get("target_metadata")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
