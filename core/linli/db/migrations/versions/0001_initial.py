"""Recorder tables (states, events), the alert ledger, the audit log and consents.

Revision ID: 0001_initial
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CONTEXT = 36


def _context_columns() -> list[sa.Column[str]]:
    return [
        sa.Column("context_id", sa.String(CONTEXT), nullable=True),
        sa.Column("context_user_id", sa.String(CONTEXT), nullable=True),
        sa.Column("context_parent_id", sa.String(CONTEXT), nullable=True),
    ]


def upgrade() -> None:
    """Create the tables of revision 0001."""
    # ------------------------------------------------------------------ states
    op.create_table(
        "states_meta",
        sa.Column("metadata_id", ID, nullable=False),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("metadata_id", name=op.f("pk_states_meta")),
        sa.UniqueConstraint("entity_id", name=op.f("uq_states_meta_entity_id")),
    )
    op.create_table(
        "state_attributes",
        sa.Column("attributes_id", ID, nullable=False),
        sa.Column("hash", sa.BigInteger(), nullable=False),
        sa.Column("shared_attrs", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("attributes_id", name=op.f("pk_state_attributes")),
    )
    op.create_index(op.f("ix_state_attributes_hash"), "state_attributes", ["hash"])
    op.create_table(
        "states",
        sa.Column("state_id", ID, nullable=False),
        sa.Column("metadata_id", ID, nullable=False),
        sa.Column("state", sa.String(255), nullable=False),
        sa.Column("attributes_id", ID, nullable=True),
        sa.Column("last_changed_ts", sa.Float(), nullable=False),
        sa.Column("last_updated_ts", sa.Float(), nullable=False),
        *_context_columns(),
        sa.Column("origin_idx", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attributes_id"],
            ["state_attributes.attributes_id"],
            name=op.f("fk_states_attributes_id_state_attributes"),
        ),
        sa.ForeignKeyConstraint(
            ["metadata_id"],
            ["states_meta.metadata_id"],
            name=op.f("fk_states_metadata_id_states_meta"),
        ),
        sa.PrimaryKeyConstraint("state_id", name=op.f("pk_states")),
    )
    op.create_index(op.f("ix_states_attributes_id"), "states", ["attributes_id"])
    op.create_index(op.f("ix_states_last_updated_ts"), "states", ["last_updated_ts"])
    op.create_index(
        "ix_states_metadata_id_last_updated_ts", "states", ["metadata_id", "last_updated_ts"]
    )

    # ------------------------------------------------------------------ events
    op.create_table(
        "event_types",
        sa.Column("event_type_id", ID, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("event_type_id", name=op.f("pk_event_types")),
        sa.UniqueConstraint("event_type", name=op.f("uq_event_types_event_type")),
    )
    op.create_table(
        "event_data",
        sa.Column("data_id", ID, nullable=False),
        sa.Column("hash", sa.BigInteger(), nullable=False),
        sa.Column("shared_data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("data_id", name=op.f("pk_event_data")),
    )
    op.create_index(op.f("ix_event_data_hash"), "event_data", ["hash"])
    op.create_table(
        "events",
        sa.Column("event_id", ID, nullable=False),
        sa.Column("event_type_id", ID, nullable=False),
        sa.Column("data_id", ID, nullable=True),
        sa.Column("origin_idx", sa.SmallInteger(), nullable=False),
        sa.Column("time_fired_ts", sa.Float(), nullable=False),
        *_context_columns(),
        sa.ForeignKeyConstraint(
            ["data_id"], ["event_data.data_id"], name=op.f("fk_events_data_id_event_data")
        ),
        sa.ForeignKeyConstraint(
            ["event_type_id"],
            ["event_types.event_type_id"],
            name=op.f("fk_events_event_type_id_event_types"),
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_data_id"), "events", ["data_id"])
    op.create_index(
        "ix_events_event_type_id_time_fired_ts", "events", ["event_type_id", "time_fired_ts"]
    )
    op.create_index(op.f("ix_events_time_fired_ts"), "events", ["time_fired_ts"])

    # ------------------------------------------------------------------ alerts
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("area_id", sa.String(64), nullable=True),
        sa.Column("source_entity_id", sa.String(255), nullable=True),
        sa.Column("dedup_key", sa.String(255), nullable=True),
        sa.Column("created_ts", sa.Float(), nullable=False),
        sa.Column("updated_ts", sa.Float(), nullable=False),
        sa.Column("closed_ts", sa.Float(), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alerts")),
    )
    for column in ("area_id", "closed_ts", "created_ts", "state"):
        op.create_index(op.f(f"ix_alerts_{column}"), "alerts", [column])
    op.create_table(
        "alert_audit",
        sa.Column("id", ID, nullable=False),
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at_ts", sa.Float(), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.alert_id"],
            name=op.f("fk_alert_audit_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_audit")),
    )
    op.create_index("ix_alert_audit_alert_id_seq", "alert_audit", ["alert_id", "seq"], unique=True)

    # ------------------------------------------------------------------ audit log
    op.create_table(
        "audit_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("time_ts", sa.Float(), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("area_id", sa.String(64), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("context_id", sa.String(CONTEXT), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    for column in ("subject", "time_ts", "user_id"):
        op.create_index(op.f(f"ix_audit_log_{column}"), "audit_log", [column])

    # ------------------------------------------------------------------ consents
    op.create_table(
        "consents",
        sa.Column("consent_id", sa.String(32), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("household_id", sa.String(64), nullable=True),
        sa.Column("data_kind", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(255), nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("notice_version", sa.String(64), nullable=False),
        sa.Column("operator_user_id", sa.String(64), nullable=True),
        sa.Column("guardian_person_id", sa.String(64), nullable=True),
        sa.Column("granted_ts", sa.Float(), nullable=False),
        sa.Column("withdrawn_ts", sa.Float(), nullable=True),
        sa.Column("withdrawn_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("consent_id", name=op.f("pk_consents")),
    )
    for column in ("household_id", "person_id", "withdrawn_ts"):
        op.create_index(op.f(f"ix_consents_{column}"), "consents", [column])


def downgrade() -> None:
    """Drop the tables of revision 0001."""
    for table in (
        "consents",
        "audit_log",
        "alert_audit",
        "alerts",
        "events",
        "event_data",
        "event_types",
        "states",
        "state_attributes",
        "states_meta",
    ):
        op.drop_table(table)
