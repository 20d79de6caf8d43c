"""Nothing typed is lost: drafts of desk forms, forms kept across an expired login, and
files of a refused submit kept as pending uploads.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02 14:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('drafts',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=150), nullable=False),
    sa.Column('item_id', ID, nullable=False),
    sa.Column('form', sa.String(length=64), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['news_items.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username', 'item_id', 'form')
    )
    op.create_index(op.f('ix_drafts_item_id'), 'drafts', ['item_id'], unique=False)
    op.create_index(op.f('ix_drafts_updated_at'), 'drafts', ['updated_at'], unique=False)
    op.create_table('kept_forms',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('csrf_token', sa.String(length=200), nullable=False),
    sa.Column('username', sa.String(length=150), nullable=True),
    sa.Column('target', sa.String(length=250), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    op.create_index(op.f('ix_kept_forms_expires_at'), 'kept_forms', ['expires_at'], unique=False)
    op.create_table('pending_uploads',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=150), nullable=True),
    sa.Column('kept_form_id', ID, nullable=True),
    sa.Column('target', sa.String(length=250), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kept_form_id'], ['kept_forms.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_pending_uploads_created_at'), 'pending_uploads', ['created_at'], unique=False)
    op.create_index(op.f('ix_pending_uploads_kept_form_id'), 'pending_uploads', ['kept_form_id'], unique=False)
    op.create_index(op.f('ix_pending_uploads_username'), 'pending_uploads', ['username'], unique=False)


def downgrade() -> None:
    op.drop_table('pending_uploads')
    op.drop_table('kept_forms')
    op.drop_table('drafts')
