"""Alembic environment: the service passes its open connection (primex.service.db.migrate)."""

from __future__ import annotations

from alembic import context

from primex.service.db import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through migrate()
    raise RuntimeError("run migrations through primex.service.db.migrate(engine)")
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
