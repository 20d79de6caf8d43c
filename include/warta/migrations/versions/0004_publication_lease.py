"""Publication leases: the publishing attempt holding a publication's intent, and until when.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('publications') as batch:
        batch.add_column(sa.Column('lease_owner', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('publications') as batch:
        batch.drop_column('lease_expires_at')
        batch.drop_column('lease_owner')
