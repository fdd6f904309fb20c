"""The commit slot shared by every service process (`primex serve --workers N`): one row,
the holder of the lease on the log's next place and when the lease ends.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    slot = op.create_table(
        "commit_slot",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("expires", sa.Float, nullable=False),
    )
    op.bulk_insert(slot, [{"id": 1, "holder": None, "expires": 0.0}])


def downgrade() -> None:
    op.drop_table("commit_slot")
