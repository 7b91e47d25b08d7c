"""The gateway's parts, built once from the settings and shared by every front end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509

from gateway.core.auth import Authenticator
from gateway.core.defender import Defender
from gateway.core.events import EventBus, InProcessBus
from gateway.core.live import LiveSessions
from gateway.core.relay import AmqpPublisher, BusPublisher, EventRelay
from gateway.core.reservation import clear_leftovers
from gateway.core.spool import Spool
from gateway.core.tokens import ServiceTokens
from gateway.core.transfer import Transfers
from gateway.core.translog import TransferLog
from gateway.naming import BatchName, parse
from gateway.pipeline import IntakePipeline
from gateway.returns import Delivered, ReturnDelivery, check_application_return
from kernel.errors import ErrorCode, GGAError
from kernel.settings import Settings
from keys.certificates import load_certificates
from keys.cms import VerificationPolicy
from keys.issuing import Issued, gateway_signing_identity
from keys.passwords import Passwords
from store.database import Database
from store.directory import SenderDirectory

SHARE_S = 0.2  # how often an idle worker looks at its siblings' backlog (gga serve --workers N)

@dataclass
class Gateway:
    settings: Settings
    directory: SenderDirectory
    spool: Spool
    translog: TransferLog
    auth: Authenticator
    transfers: Transfers
    returns: ReturnDelivery
    pipeline: IntakePipeline
    identity: Issued
    bus: EventBus
    live: LiveSessions
    relay: EventRelay
    defender: Defender

    @classmethod
    def build(cls, settings: Settings, db: Database, passwords: Passwords, bus: EventBus | None = None) -> Gateway:
        directory = SenderDirectory(db)
        spool = Spool(settings.spool_dir)
        translog = TransferLog(db)
        identity = gateway_signing_identity(settings.resolved_data_dir)
        returns = ReturnDelivery(spool, identity, translog, settings.return_zip_threshold_mb << 20)
        bus = bus or InProcessBus()
        publisher = (AmqpPublisher(settings.amqp_url, settings.amqp_exchange) if settings.amqp_url
                     else BusPublisher(bus))
        relay = EventRelay(db, publisher)
        pipeline = IntakePipeline(db, directory, spool, translog, returns, verification_policy(settings),
                                  settings.max_file_age_days, owner=settings.resolved_instance_id,
                                  give_up=timedelta(hours=settings.processing_give_up_h), on_event=relay.wake)
        defender = Defender(db, settings)
        auth = Authenticator(directory, passwords, spool, translog, ServiceTokens(db), defender, pipeline.policy)
        siblings = settings.instance_base_id if settings.worker is not None else None
        live = LiveSessions(directory, translog, settings.session_check_s, db, settings.resolved_instance_id,
                            settings.max_sessions_per_sender, siblings)
        return cls(settings, directory, spool, translog, auth, Transfers(pipeline, translog, settings), returns,
                   pipeline, identity, bus, live, relay, defender)

    def clear_last_stop(self) -> None:
        """What a crash of this instance left: its session rows, half uploads and leases. Before any endpoint
        listens: once clients are served, this instance's name owns their live uploads and sessions too (a worker
        restarted after a kill cleared an upload it had just accepted)."""
        owner = self.settings.resolved_instance_id
        self.live.forget_instance()
        for leftover in clear_leftovers(self.spool.root / "mailboxes", owner, self.pipeline.is_recorded):
            self.translog.record("upload", "incomplete", error_code=str(ErrorCode.UPLOAD_INCOMPLETE),
                                 protocol=leftover.parts[-3],  # its channel: which of FTP or FTPS is not known
                                 **self._leftover_fields(leftover), details={
                                     "instance": owner, "removed_at_start": True, "channel": leftover.parts[-3]})
        self.pipeline.release_own_leases()

    def _leftover_fields(self, leftover: Path) -> dict[str, str | None]:
        """Whose the removed upload was (``<mailboxes>/<number>/<channel>/<folder or .partial>/<name>``), as an
        upload's own row says it: an operator looking for a technical user's transfers finds it too."""
        sender = self.directory.by_number(leftover.parts[-4])
        try:
            name: BatchName | None = parse(leftover.name)
        except GGAError:  # a claim's name was checked when it was made; a stray file may be anything
            name = None
        return {"file_name": leftover.name, "sender_number": leftover.parts[-4],
                "technical_user": sender.technical_user if sender else None,
                "application": name.application if name else None, "environment": name.environment if name else None}

    def start(self, *, clear: bool = True) -> int:
        """The background work every instance runs: the outbox relay and the lease loop (which takes up, now and
        every few seconds, whatever a stop or a failure left). Returns how many submissions it took up now.
        ``clear=False``: ``clear_last_stop`` ran already, before the endpoints started (gga serve)."""
        if clear:
            self.clear_last_stop()
        self.relay.start()
        taken_up = self.pipeline.recover()
        # the workers of one instance share each other's backlog of submissions (gga serve --workers N)
        self.pipeline.start(share_s=SHARE_S if self.settings.worker is not None else None)
        return taken_up

    def deliver_return(self, sender_number: str, application: str, environment: str, kind: str,
                       content: bytes) -> Delivered:
        """A file an application returns to a sender (the admin API's ``ReturnsPort``): on the application's
        preferred channel. Blocking."""
        check_application_return(application, kind, content)
        sender = self.directory.by_number(sender_number)
        if sender is None:
            raise GGAError(ErrorCode.NOT_FOUND, f"No sender {sender_number}.", {"sender_number": sender_number})
        channel = sender.preferred_channel(application)
        if channel is None:
            raise GGAError(ErrorCode.APPLICATION_NOT_AUTHORISED, f"Sender {sender_number} has no channel for "
                           f"{application}.", {"application": application})
        return self.returns.deliver(sender, kind, environment, content, channel, application)

    def close(self) -> None:
        self.live.stop()
        self.transfers.close()  # the settles under way end first: they hand their records to the pipeline
        self.pipeline.close()  # finishes what it holds; its last events are then relayed
        try:
            self.relay.relay_once()
        finally:
            self.relay.stop()


def verification_policy(settings: Settings) -> VerificationPolicy:
    trust = load_certificates(settings.trust_store.read_bytes()) if settings.trust_store else []
    crls = [x509.load_pem_x509_crl(p.read_bytes()) if p.read_bytes().startswith(b"-----")
            else x509.load_der_x509_crl(p.read_bytes()) for p in settings.crl_files]
    return VerificationPolicy(allow_sha1=settings.allow_sha1_signatures, trust_store=trust, crls=crls)
