"""The gateway keeps a sender's snapshot while the sender's revision stays. The database moves the revision on any
change of the sender, its channels, certificates or applications (triggers, whoever writes): a block, a removed
certificate or a removed application counts for the very next submission."""

from sqlalchemy import delete, insert, select, update

from store.models import ChannelApplication, ChannelCertificate, Sender, SenderChannel


def revision(db, number):
    with db.session() as session:
        return session.scalar(select(Sender.revision).where(Sender.number == number))


def channel_id(db, number, channel):
    with db.session() as session:
        return session.scalar(select(SenderChannel.id).join(Sender).where(Sender.number == number,
                                                                          SenderChannel.type == channel))


def change(db, statement):
    with db.session() as session:
        session.execute(statement)


def test_the_snapshot_is_kept_until_its_sender_changes(harness, kit, db):
    directory = harness.gateway.directory
    first = directory.by_number(kit.number)
    assert directory.by_id(first.id) is first  # the same revision: not read again
    change(db, update(Sender).where(Sender.id == first.id).values(status="blocked"))
    assert directory.by_id(first.id).active is False


def test_a_removed_certificate_or_application_counts_at_once(harness, kit, db):
    directory = harness.gateway.directory
    sender = directory.by_number(kit.number)
    sftp = channel_id(db, kit.number, "SFTP")
    assert len(sender.channels["SFTP"].certificates) == 2 and sender.may_send("SFTP", "DIMN")
    with db.session() as session:
        newest = session.scalar(select(ChannelCertificate.id).where(ChannelCertificate.channel_id == sftp)
                                .order_by(ChannelCertificate.id.desc()).limit(1))
    change(db, delete(ChannelCertificate).where(ChannelCertificate.id == newest))
    assert len(directory.by_id(sender.id).channels["SFTP"].certificates) == 1
    change(db, delete(ChannelApplication).where(ChannelApplication.channel_id == sftp,
                                                ChannelApplication.code == "DIMN"))
    assert not directory.by_id(sender.id).may_send("SFTP", "DIMN")


def test_every_table_of_the_snapshot_moves_the_revision(kit, db):
    """One step per table and operation: a trigger lost (a later migration recreating a table) fails here."""
    sftp, ftp = channel_id(db, kit.number, "SFTP"), channel_id(db, kit.number, "FTP")
    with db.session() as session:
        sender_id = session.scalar(select(Sender.id).where(Sender.number == kit.number))
        pem, fingerprint, not_after = session.execute(select(
            ChannelCertificate.pem, ChannelCertificate.fingerprint, ChannelCertificate.not_after).where(
            ChannelCertificate.channel_id == sftp).limit(1)).one()
    steps = {
        "sender": update(Sender).where(Sender.id == sender_id).values(technical_user_status="blocked"),
        "channel updated": update(SenderChannel).where(SenderChannel.id == ftp).values(plain_ftp=True),
        "certificate removed": delete(ChannelCertificate).where(ChannelCertificate.channel_id == ftp),
        "certificate added": insert(ChannelCertificate).values(channel_id=ftp, pem=pem, fingerprint=fingerprint,
                                                               not_after=not_after),
        "certificate updated": update(ChannelCertificate).where(ChannelCertificate.channel_id == ftp)
        .values(pem=pem + "\n"),
        "application preferred": update(ChannelApplication).where(
            ChannelApplication.channel_id == sftp, ChannelApplication.code == "DIMN").values(preferred=True),
        "application removed": delete(ChannelApplication).where(ChannelApplication.channel_id == sftp,
                                                                ChannelApplication.code == "ZIMA"),
        "application added": insert(ChannelApplication).values(channel_id=sftp, code="ZIMA"),
        "channel removed": delete(SenderChannel).where(SenderChannel.id == ftp),
        "channel added": insert(SenderChannel).values(sender_id=sender_id, type="FTP", plain_ftp=False),
    }
    for step, statement in steps.items():
        before = revision(db, kit.number)
        change(db, statement)
        assert revision(db, kit.number) > before, step
