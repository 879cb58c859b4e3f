"""Events, their accounts, block headers, followed contracts and the cursor.

Revision ID: 0001
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ARGS = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("contract", sa.String(128), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("event", sa.String(128), nullable=False),
        sa.Column("args", _ARGS, nullable=False),
        sa.Column("asset_id", sa.String(78), nullable=True),
        sa.UniqueConstraint("block_hash", "log_index", name="uq_events_block_log"),
    )
    op.create_index("ix_events_chain_block", "events", ["chain_id", "block_number", "log_index"])
    op.create_index("ix_events_chain_asset", "events", ["chain_id", "asset_id", "block_number", "log_index"])
    op.create_index("ix_events_chain_event", "events", ["chain_id", "event", "block_number", "log_index"])
    op.create_index("ix_events_chain_time", "events", ["chain_id", "block_time"])
    op.create_index("ix_events_tx", "events", ["tx_hash"])

    op.create_table(
        "event_accounts",
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(42), nullable=False),
        sa.Column("role", sa.String(128), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_hash", "log_index"], ["events.block_hash", "events.log_index"],
            ondelete="CASCADE", name="fk_event_accounts_event",
        ),
        sa.PrimaryKeyConstraint("block_hash", "log_index", "account", "role"),
    )
    op.create_index(
        "ix_event_accounts_account", "event_accounts", ["chain_id", "account", "block_number", "log_index"]
    )
    op.create_index("ix_event_accounts_block", "event_accounts", ["chain_id", "block_number"])

    op.create_table(
        "blocks",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(66), nullable=False),
        sa.Column("parent_hash", sa.String(66), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "number"),
    )

    op.create_table(
        "indexed_contracts",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("start_block", sa.BigInteger(), nullable=False),
        sa.Column("synced_to", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "address"),
    )

    op.create_table(
        "indexer_cursor",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.PrimaryKeyConstraint("chain_id"),
    )


def downgrade() -> None:
    op.drop_table("indexer_cursor")
    op.drop_table("indexed_contracts")
    op.drop_table("blocks")
    op.drop_index("ix_event_accounts_block", table_name="event_accounts")
    op.drop_index("ix_event_accounts_account", table_name="event_accounts")
    op.drop_table("event_accounts")
    op.drop_index("ix_events_tx", table_name="events")
    op.drop_index("ix_events_chain_time", table_name="events")
    op.drop_index("ix_events_chain_event", table_name="events")
    op.drop_index("ix_events_chain_asset", table_name="events")
    op.drop_index("ix_events_chain_block", table_name="events")
    op.drop_table("events")
