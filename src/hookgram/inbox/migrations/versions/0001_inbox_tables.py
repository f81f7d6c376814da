"""The inbox tables: events (one row per accepted request), their attempts and deliveries.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

A database made by hookgram before migrations existed (``create_all``) already has these
tables: they are adopted as they are, so ``hookgram db upgrade`` works on it too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the tables and their indexes, unless they exist already."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "inbox_events" not in existing:
        _create_events()
    if "inbox_attempts" not in existing:
        _create_attempts()
    if "inbox_deliveries" not in existing:
        _create_deliveries()


def _create_events() -> None:
    op.create_table(
        "inbox_events",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("ordering_key", sa.String(length=255), nullable=True),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "dedup_key", name="uq_inbox_events_source_dedup"),
    )
    op.create_index("ix_inbox_events_ordering", "inbox_events", ["ordering_key", "status", "id"])
    op.create_index("ix_inbox_events_status_next", "inbox_events", ["status", "next_attempt_at"])


def _create_attempts() -> None:
    op.create_table(
        "inbox_attempts",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", ROW_ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["inbox_events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inbox_attempts_event_id", "inbox_attempts", ["event_id"])


def _create_deliveries() -> None:
    # Which chats a fanned-out notification already reached, so a retry sends only to the rest.
    op.create_table(
        "inbox_deliveries",
        sa.Column("event_id", ROW_ID, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("delivered_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["inbox_events.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("event_id", "chat_id", name="uq_inbox_deliveries_event_chat"),
    )


def downgrade() -> None:
    """Drop the tables (and every row in them)."""
    op.drop_table("inbox_deliveries")
    op.drop_table("inbox_attempts")
    op.drop_table("inbox_events")
