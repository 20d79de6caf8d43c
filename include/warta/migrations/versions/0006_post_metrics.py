"""Reach and engagement: one reading per published post and day (DAG jangkauan_kanal).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 04:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('post_metrics',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('publication_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('reading_date', sa.Date(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reach', sa.BigInteger(), nullable=True),
    sa.Column('views', sa.BigInteger(), nullable=True),
    sa.Column('reactions', sa.BigInteger(), nullable=True),
    sa.Column('comments', sa.BigInteger(), nullable=True),
    sa.Column('shares', sa.BigInteger(), nullable=True),
    sa.Column('saves', sa.BigInteger(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['news_items.id'], ),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('publication_id', 'reading_date')
    )
    op.create_index(op.f('ix_post_metrics_item_id'), 'post_metrics', ['item_id'], unique=False)
    op.create_index(op.f('ix_post_metrics_reading_date'), 'post_metrics', ['reading_date'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_post_metrics_reading_date'), table_name='post_metrics')
    op.drop_index(op.f('ix_post_metrics_item_id'), table_name='post_metrics')
    op.drop_table('post_metrics')
