"""Runtime settings, read from ``GGA_*`` environment variables (defaults: the contract's table)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Counts, days and intervals a zero or a negative would turn into damage (a retention of -1 day purged every return
# file not yet picked up; an interval of 0 ran retention in a busy loop): refused at start with the setting's name.
AtLeastOne = Annotated[int, Field(ge=1)]
AtLeastZero = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GGA_", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = None
    http_bind: str = "127.0.0.1:8080"
    sftp_bind: str = "127.0.0.1:8022"
    ftp_bind: str = "127.0.0.1:8021"
    ftp_passive_ports: str = "30000-30099"

    # Identity of admin-API callers: a JWT issuer with its JWKS (file or URL).
    jwt_issuer: str | None = None
    jwt_audience: str = "gga-admin-api"
    jwks_file: Path | None = None
    jwks_url: str | None = None
    dev_issuer: bool = Field(default=False, description="accept tokens of the local development issuer")
    # the web console's cookies are signed with it; default: one made in <data>/keys/console-secret
    console_secret: str | None = None
    # The console's production sign-in: OpenID Connect, authorization code + PKCE S256 (docs/console.md)
    oidc_issuer: str | None = None  # issuer URL, read at <issuer>/.well-known/openid-configuration; unset: no button
    oidc_client_id: str | None = None  # the console's client at that issuer (the ID token's audience)
    oidc_client_secret: str | None = None  # confidential client (client_secret_basic); unset: public client, PKCE
    oidc_scopes: str = "openid profile"  # asked for at the authorization endpoint (openid is required)
    oidc_name: str | None = None  # the provider's name on the sign-in button; default: the issuer's host
    oidc_niss_claim: str = "sub"  # the ID token claim holding the person's NISS (as the API reads `sub`)
    oidc_loa_claim: str = "acr"  # the claim holding how the person authenticated
    oidc_eid_acr: str = "eid"  # comma-separated values of that claim that mean an eID sign-in; any other: "low"
    oidc_roles_claim: str = "roles"  # the claim listing platform roles (operator, ops; others are ignored)

    # Outgoing mail: queued in the outbox, sent through SMTP only when a host is set.
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "noreply@gga.local"

    # argon2id parameters (RFC 9106 second recommendation by default).
    argon2_time_cost: AtLeastOne = 3
    argon2_memory_cost: int = 65536
    argon2_parallelism: AtLeastOne = 4

    # Event bus for accepted submissions: in process unless an AMQP URL is set.
    amqp_url: str | None = None
    amqp_exchange: str = "gga.events"

    # Promises across crashes and instances (docs/architecture.md: leases and the outbox)
    instance_id: str | None = None  # who holds a lease or a half upload; default <host>-<SFTP port>
    processing_give_up_h: Positive = 24  # then a submission still failing gets a rejecting ACRF PROCESSING_FAILED
    mail_retry_h: Positive = 24  # mails are retried with exponential backoff this long
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_ca_file: Path | None = None  # CA bundle the SMTP server's certificate must chain to (default: system's)
    drain_s: AtLeastZero = 30  # SIGTERM: uploads in flight may finish this long
    workers: int = 1  # processes serving every endpoint on the same ports (`gga serve --workers N` overrides)
    worker: int | None = None  # which of them this process is (the parent sets it for each worker)

    # Operations (docs/operations.md)
    log_format: str = "json"  # json (one object per line) | console (for people)
    defender_max_failures: AtLeastOne = 10  # failed logins per address within the window before a ban
    defender_window_s: AtLeastOne = 300
    defender_ban_s: AtLeastOne = 1800
    defender_allow: str = ""  # comma-separated CIDRs never banned
    max_sessions_per_sender: AtLeastOne = 20  # SFTP and FTP sessions of one technical user, all instances
    password_checks_at_once: AtLeastOne = 4  # argon2 checks running at the same time (memory bound under a flood)
    ftp_masquerade_address: str | None = None  # the address FTP passive replies give clients outside a container
    retention_every_s: AtLeastOne = 3600
    retention_returns_days: AtLeastOne = 30  # return files not picked up
    retention_archives_days: AtLeastOne = 90  # rejected and cancelled archives
    retention_transfer_log_days: AtLeastOne = 400

    # Gateway
    max_file_age_days: AtLeastOne = 30  # oldest creation date accepted in a file name
    go_wait_hours: Positive = 24  # parts waiting longer for their GO are refused with ACRF-130
    max_file_mb: int | None = None  # overrides every application's own limit when set
    sftp_allow_ssh_rsa: bool = False  # legacy clients that only sign with ssh-rsa (SHA-1)
    allow_sha1_signatures: bool = False
    trust_store: Path | None = None  # PEM bundle of CAs sender certificates must chain to
    crl_files: list[Path] = []
    return_zip_threshold_mb: AtLeastOne = 50  # return files above this go out zipped as CO
    return_max_mb: AtLeastOne = 200  # largest return file an application may post (POST /api/v1/returns)

    # Public face and limits (docs/security.md)
    public_url: str | None = None  # the URL clients use (token audience, how-to); default http://<http_bind>
    legacy_algorithms: bool = False  # SHA-1 SSH kex/MACs/host-key signatures and CBC TLS ciphers, for old clients
    sftp_max_handles: AtLeastOne = 32  # open files and folders per SFTP session
    max_connections_per_address: Annotated[int, Field(ge=0)] = 50  # per remote address, on each listener (0: none)
    max_login_tries: AtLeastOne = 3  # password tries per connection (SFTP, FTP) before it is closed
    idle_timeout_s: AtLeastOne = 300  # an SFTP or FTP connection with no traffic for this long is closed
    http_header_timeout_s: Positive = 10  # a request's headers must arrive within this
    http_max_body_kb: AtLeastOne = 1024  # every HTTP body except web-service uploads (those: the application's limit)
    session_check_s: Positive = 2.0  # how often live sessions are checked against blocks (all instances)

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def spool_dir(self) -> Path:
        return self.resolved_data_dir / "spool"

    @property
    def instance_base_id(self) -> str:
        """The instance's id, shared by its workers (``GGA_INSTANCE_ID``, else ``<host>-<SFTP port>``)."""
        return self.instance_id or f"{socket.gethostname()}-{host_port(self.sftp_bind)[1]}"

    @property
    def resolved_instance_id(self) -> str:
        """Stable across restarts (its leftovers and leases are recognised as its own), distinct between instances
        on one host (their SFTP ports differ) and between the workers of one instance (``-w<index>``)."""
        base = self.instance_base_id
        return base if self.worker is None else f"{base}-w{self.worker}"  # each worker holds its own leases

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.http_bind}").rstrip("/")

    @field_validator("http_bind", "sftp_bind", "ftp_bind")
    @classmethod
    def _bind_is_host_port(cls, bind: str) -> str:
        """``host:port``: refused at start with the setting's name, not as a traceback from the listener."""
        try:
            port = host_port(bind)[1]
        except ValueError:
            port = -1
        if not 0 <= port <= 65535:
            raise ValueError(f"{bind!r} is not host:port")
        return bind

    @field_validator("ftp_passive_ports")
    @classmethod
    def _ports_are_a_range(cls, spec: str) -> str:
        port_range(spec)
        return spec

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.resolved_data_dir / 'gga.db'}"


def port_range(spec: str) -> range:
    """``30000-30099`` (or one port): the ports it names; ValueError for anything else."""
    low, _, high = spec.partition("-")
    if not (low.isdigit() and (high or low).isdigit() and 0 < int(low) <= int(high or low) <= 65535):
        raise ValueError(f"{spec!r} is not a port range like 30000-30099")
    return range(int(low), int(high or low) + 1)


def host_port(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)
