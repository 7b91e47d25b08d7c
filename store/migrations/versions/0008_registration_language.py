"""registration requests remember the requester's language (their mails speak it)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 03:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('registration_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), server_default='fr', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('registration_requests', schema=None) as batch_op:
        batch_op.drop_column('language')
