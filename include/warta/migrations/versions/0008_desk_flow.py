"""Step claims (who took a waiting step) and per-user alert reads (the desk's unread count).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('step_claims',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('item_id', ID, sa.ForeignKey('news_items.id'), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=150), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'round', 'step_id')
    )
    op.create_index(op.f('ix_step_claims_username'), 'step_claims', ['username'], unique=False)
    op.create_table('alert_reads',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('alert_id', ID, sa.ForeignKey('alerts.id'), nullable=False),
    sa.Column('username', sa.String(length=150), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('alert_id', 'username')
    )
    op.create_index(op.f('ix_alert_reads_username'), 'alert_reads', ['username'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_alert_reads_username'), table_name='alert_reads')
    op.drop_table('alert_reads')
    op.drop_index(op.f('ix_step_claims_username'), table_name='step_claims')
    op.drop_table('step_claims')
