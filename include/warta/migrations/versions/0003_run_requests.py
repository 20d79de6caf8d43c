"""Outbox of run requests: an item (or its next round) and the request to start its
Airflow run are committed together; `warta outbox serve` starts the runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('run_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('run_id', sa.String(length=250), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['news_items.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id')
    )
    with op.batch_alter_table('run_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_requests_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_run_requests_started_at'), ['started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('run_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_requests_started_at'))
        batch_op.drop_index(batch_op.f('ix_run_requests_item_id'))

    op.drop_table('run_requests')
