"""Alembic environment: run on the connection Lantern passes (bot/core/database.py run_migrations)."""

from __future__ import annotations

from alembic import context

from bot.core.database import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` run by hand: use DATABASE_URL like every Lantern process
    from bot.core.database import engine_for
    from bot.core.settings import Settings

    with engine_for(Settings.from_env().database_url).begin() as own:
        context.configure(connection=own, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
