"""Files API replicas share: the chunked blob store, metadata documents and sealed documents.

Revision ID: 0004_blobs
Revises: 0003_shared_state
Create Date: 2026-12-01

The tables are described in ``ledger/chain/blobs.py``, ``ledger/registry/metadata.py`` and
``ledger/sealing/store.py``. Files of data folders from before are imported at start
(``ledger.context.import_data_folder``), not here: a migration runs without the data folder.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004_blobs"
down_revision: str | None = "0003_shared_state"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(66), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("digest", name="uq_blobs_digest"),
    )
    op.create_table(
        "blob_chunks",
        sa.Column("blob_id", _ID, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["blob_id"], ["blobs.id"], ondelete="CASCADE", name="fk_blob_chunks_blob"),
    )
    op.create_table(
        "metadata_documents",
        sa.Column("hash", sa.String(66), primary_key=True),
        sa.Column("stored_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "sealed_documents",
        sa.Column("sealed_id", sa.String(66), primary_key=True),
        sa.Column("header", sa.LargeBinary(), nullable=False),
        sa.Column("payload", sa.String(66), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("stored_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_sealed_documents_stored", "sealed_documents", ["stored_at"])
    op.create_table(
        "sealed_recipients",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("sealed_id", sa.String(66), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("entry_key", sa.String(64), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["sealed_id"], ["sealed_documents.sealed_id"], name="fk_sealed_recipients_doc"),
        sa.UniqueConstraint("sealed_id", "entry_key", name="uq_sealed_recipients_entry"),
    )
    op.create_index("ix_sealed_recipients_address", "sealed_recipients", ["address", "sealed_id"])


def downgrade() -> None:
    for table in ("sealed_recipients", "sealed_documents", "metadata_documents", "blob_chunks", "blobs"):
        op.drop_table(table)
