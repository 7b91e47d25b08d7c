"""The gateway's parts, built once from the settings and shared by every front end."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from admin_api.database import Database
from admin_api.sender.directory import SenderDirectory
from admin_api.settings import Settings
from gateway.core.auth import Authenticator
from gateway.core.events import EventBus, InProcessBus
from gateway.core.spool import Spool
from gateway.core.translog import TransferLog
from gateway.pipeline import IntakePipeline
from gateway.returns import ReturnDelivery
from keys.certificates import load_certificates
from keys.cms import VerificationPolicy
from keys.issuing import Issued, gateway_signing_identity
from keys.passwords import Passwords


@dataclass
class Gateway:
    settings: Settings
    directory: SenderDirectory
    spool: Spool
    translog: TransferLog
    auth: Authenticator
    returns: ReturnDelivery
    pipeline: IntakePipeline
    identity: Issued
    bus: EventBus

    @classmethod
    def build(cls, settings: Settings, db: Database, passwords: Passwords, bus: EventBus | None = None) -> Gateway:
        data = settings.resolved_data_dir
        directory = SenderDirectory(db)
        spool = Spool(settings.spool_dir)
        translog = TransferLog(db)
        identity = gateway_signing_identity(data)
        returns = ReturnDelivery(spool, identity, translog, settings.return_zip_threshold_mb << 20)
        bus = bus or InProcessBus()
        pipeline = IntakePipeline(db, directory, spool, translog, returns, bus, verification_policy(settings),
                                  settings.max_file_age_days)
        return cls(settings, directory, spool, translog, Authenticator(directory, passwords, spool, translog),
                   returns, pipeline, identity, bus)

    def close(self) -> None:
        self.pipeline.close()


def verification_policy(settings: Settings) -> VerificationPolicy:
    trust = load_certificates(settings.trust_store.read_bytes()) if settings.trust_store else []
    crls = [x509.load_pem_x509_crl(p.read_bytes()) if p.read_bytes().startswith(b"-----")
            else x509.load_der_x509_crl(p.read_bytes()) for p in settings.crl_files]
    return VerificationPolicy(allow_sha1=settings.allow_sha1_signatures, trust_store=trust, crls=crls)
