"""live sessions carry when their instance last vouched for them: a crashed instance's rows stop counting

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 18:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # no default: rows from before are no instance's live sessions any more (each instance clears its own at start)
    with op.batch_alter_table('live_sessions') as batch_op:
        batch_op.add_column(sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('live_sessions') as batch_op:
        batch_op.drop_column('seen_at')
