"""senders carry a revision the database bumps on every change of a sender, its channels, certificates or
applications (triggers): the gateway keeps a sender's snapshot while its revision stays

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 04:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

CHILDREN = ("channel_certificates", "channel_applications")  # rows of a channel: the sender through the channel
SQLITE_BUMP = "UPDATE senders SET revision = revision + 1 WHERE id = {sender}"
SQLITE_BY_CHANNEL = "(SELECT sender_id FROM sender_channels WHERE id = {row}.channel_id)"


def upgrade() -> None:
    with op.batch_alter_table('senders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _sqlite_triggers() -> None:
    # a change of the revision itself (a bump) does not bump again
    op.execute("CREATE TRIGGER senders_revision AFTER UPDATE ON senders WHEN NEW.revision = OLD.revision "
               "BEGIN UPDATE senders SET revision = OLD.revision + 1 WHERE id = NEW.id; END")
    rows = {"INSERT": ("NEW",), "DELETE": ("OLD",), "UPDATE": ("OLD", "NEW")}
    for operation, which in rows.items():
        bumps = "; ".join(SQLITE_BUMP.format(sender=f"{row}.sender_id") for row in which)
        op.execute(f"CREATE TRIGGER sender_channels_revision_{operation.lower()} AFTER {operation} ON "
                   f"sender_channels BEGIN {bumps}; END")
        for table in CHILDREN:
            bumps = "; ".join(SQLITE_BUMP.format(sender=SQLITE_BY_CHANNEL.format(row=row)) for row in which)
            op.execute(f"CREATE TRIGGER {table}_revision_{operation.lower()} AFTER {operation} ON {table} "
                       f"BEGIN {bumps}; END")


def _postgresql_triggers() -> None:
    op.execute("""
        CREATE FUNCTION gga_sender_revision() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.revision := OLD.revision + 1;
            RETURN NEW;
        END $$""")
    op.execute("CREATE TRIGGER senders_revision BEFORE UPDATE ON senders FOR EACH ROW "
               "WHEN (NEW.revision = OLD.revision) EXECUTE FUNCTION gga_sender_revision()")
    op.execute("""
        CREATE FUNCTION gga_channel_revision() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                UPDATE senders SET revision = revision + 1 WHERE id = OLD.sender_id;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                UPDATE senders SET revision = revision + 1 WHERE id = NEW.sender_id;
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER sender_channels_revision AFTER INSERT OR UPDATE OR DELETE ON sender_channels "
               "FOR EACH ROW EXECUTE FUNCTION gga_channel_revision()")
    op.execute("""
        CREATE FUNCTION gga_channel_row_revision() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                UPDATE senders SET revision = revision + 1
                WHERE id = (SELECT sender_id FROM sender_channels WHERE id = OLD.channel_id);
            END IF;
            IF TG_OP <> 'DELETE' THEN
                UPDATE senders SET revision = revision + 1
                WHERE id = (SELECT sender_id FROM sender_channels WHERE id = NEW.channel_id);
            END IF;
            RETURN NULL;
        END $$""")
    for table in CHILDREN:
        op.execute(f"CREATE TRIGGER {table}_revision AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION gga_channel_row_revision()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("senders", "sender_channels", *CHILDREN):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_revision ON {table}")
        for function in ("gga_sender_revision", "gga_channel_revision", "gga_channel_row_revision"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        op.execute("DROP TRIGGER IF EXISTS senders_revision")
        for table in ("sender_channels", *CHILDREN):
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_revision_{operation}")
    with op.batch_alter_table('senders', schema=None) as batch_op:
        batch_op.drop_column('revision')
