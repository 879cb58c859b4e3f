"""What API replicas share: the transaction journal, relayer nonces, relayed requests, rate limits.

Revision ID: 0003_shared_state
Revises: 0001
Create Date: 2026-12-01

The tables are described in ``ledger/chain/state.py``. The stamp service's revision
(``0002_stamp_service``) may come between: then this one revises it instead of ``0001``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_shared_state"
down_revision: str | None = "0002_stamp_service"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tx_journal",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("chain_key", sa.String(32), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("sender", sa.String(42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(66), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.UniqueConstraint("tx_hash", name="uq_tx_journal_hash"),
    )
    op.create_index("ix_tx_journal_chain_state", "tx_journal", ["chain_key", "state", "block_number"])
    op.create_table(
        "tx_journal_outputs",
        sa.Column("tx_hash", sa.String(66), primary_key=True),
        sa.Column("path", sa.String(1024), primary_key=True),
    )
    op.create_table(
        "relayer_nonces",
        sa.Column("chain_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("address", sa.String(42), primary_key=True),
        sa.Column("next_nonce", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "relayed_requests",
        sa.Column("signature_hash", sa.String(66), primary_key=True),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("claimed_at", sa.Float(), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
    )
    op.create_table(
        "relay_slots",
        sa.Column("chain_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("sender", sa.String(42), primary_key=True),
        sa.Column("nonce", sa.String(78), primary_key=True),
        sa.Column("claimed_at", sa.Float(), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
    )
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_rate_buckets_updated", "rate_buckets", ["updated_at"])
    op.create_table(
        "served_deployments",
        sa.Column("chain_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("forwarder", sa.String(42), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("pinned_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    for table in ("served_deployments", "rate_buckets", "relay_slots", "relayed_requests", "relayer_nonces",
                  "tx_journal_outputs", "tx_journal"):
        op.drop_table(table)
