"""defender addresses and live sessions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 23:37:22.570791
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('defender_addresses',
    sa.Column('address', sa.String(length=45), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('banned_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('banned_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_defender_addresses'))
    )
    with op.batch_alter_table('defender_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_defender_addresses_banned_until'), ['banned_until'], unique=False)

    op.create_table('live_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('instance', sa.String(length=64), nullable=False),
    sa.Column('protocol', sa.String(length=6), nullable=False),
    sa.Column('remote_address', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sender_id'], ['senders.id'], name=op.f('fk_live_sessions_sender_id_senders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_sessions'))
    )
    with op.batch_alter_table('live_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_sessions_instance'), ['instance'], unique=False)
        batch_op.create_index(batch_op.f('ix_live_sessions_sender_id'), ['sender_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('live_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_sessions_sender_id'))
        batch_op.drop_index(batch_op.f('ix_live_sessions_instance'))

    op.drop_table('live_sessions')
    with op.batch_alter_table('defender_addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_defender_addresses_banned_until'))

    op.drop_table('defender_addresses')
