"""Monthly report narratives: every version the Operator saves in the desk.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_narratives',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('problems', sa.Text(), nullable=False),
    sa.Column('follow_up', sa.Text(), nullable=False),
    sa.Column('edited_by', sa.String(length=150), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('month', 'lang', 'version')
    )
    op.create_index(op.f('ix_report_narratives_month'), 'report_narratives', ['month'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_report_narratives_month'), table_name='report_narratives')
    op.drop_table('report_narratives')
