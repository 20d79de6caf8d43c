"""Final monthly reports (each revision kept) and the report's step-timing index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_finals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('narrative_version', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('finalised_by', sa.String(length=150), nullable=False),
    sa.Column('finalised_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('month', 'lang', 'revision')
    )
    op.create_index(op.f('ix_report_finals_month'), 'report_finals', ['month'], unique=False)
    op.create_index('ix_step_timings_step_ended', 'step_timings',
                    ['step_id', 'ended_at', 'duration_seconds', 'within_standard'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_step_timings_step_ended', table_name='step_timings')
    op.drop_index(op.f('ix_report_finals_month'), table_name='report_finals')
    op.drop_table('report_finals')
