"""The stamp service's rounds and acknowledged leaves (``ledger.timestamps.stampstore``).

Revision ID: 0002_stamp_service
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002_stamp_service"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stamp_rounds",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("contract", sa.String(42), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("opened_ms", sa.BigInteger(), nullable=False),
        sa.Column("closed_ms", sa.BigInteger(), nullable=True),
        sa.Column("root", sa.String(66), nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("nonce", sa.BigInteger(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(66), nullable=True),
        sa.Column("block_time", sa.BigInteger(), nullable=True),
        sa.Column("stamper", sa.String(42), nullable=True),
        sa.Column("anchored_ms", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_stamp_rounds_state", "stamp_rounds", ["chain_id", "contract", "state", "id"])
    op.create_table(
        "stamp_leaves",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("contract", sa.String(42), nullable=False),
        sa.Column("leaf", sa.String(66), nullable=False),
        sa.Column("round_id", _ID, nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.String(132), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["stamp_rounds.id"], name="fk_stamp_leaves_round"),
        sa.PrimaryKeyConstraint("chain_id", "contract", "leaf"),
    )
    op.create_index("ix_stamp_leaves_round", "stamp_leaves", ["round_id", "leaf"])


def downgrade() -> None:
    op.drop_index("ix_stamp_leaves_round", table_name="stamp_leaves")
    op.drop_table("stamp_leaves")
    op.drop_index("ix_stamp_rounds_state", table_name="stamp_rounds")
    op.drop_table("stamp_rounds")
