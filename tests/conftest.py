"""Shared fixtures: one database per test run (SQLite file, or a fresh PostgreSQL database when
GGA_DATABASE_URL points at a server), emptied between tests; the app with the development issuer."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from admin_api.app import build_services
from admin_api.http import Services
from gga.wiring import build_gateway, http_app
from kernel.settings import Settings
from keys.tokens import DevIssuer
from store.database import Database, upgrade
from store.models import Base


def _postgres_database(server_url: str) -> Iterator[str]:
    """Create ``gga_test_<random>`` on the server, yield its URL, drop it after the run."""
    url = make_url(server_url)
    name = f"gga_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # server absent: skip on a laptop, fail in CI
        admin.dispose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL at {url.render_as_string(hide_password=True)} unreachable: {exc}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("GGA_DATABASE_URL", "")
    if configured.startswith("postgresql"):
        yield from _postgres_database(configured)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'gga.db'}"


@pytest.fixture(scope="session")
def migrated(database_url: str) -> Database:
    upgrade(database_url)  # the suite runs on the migrated schema, so migrations are tested too
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def db(migrated: Database) -> Database:
    """The run's database, emptied before each test."""
    with migrated.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    return migrated


@pytest.fixture(scope="session")
def key_material(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gateway's signing identity and SSH host keys, made once per run (RSA generation is slow)."""
    from keys.issuing import gateway_signing_identity
    from keys.ssh import ensure_host_keys

    folder = tmp_path_factory.mktemp("keys")
    gateway_signing_identity(folder)
    ensure_host_keys(folder)
    return folder / "keys"


@pytest.fixture
def data_dir(tmp_path: Path, key_material: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(key_material, data / "keys")
    return data


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url, dev_issuer=True,
                    argon2_time_cost=1, argon2_memory_cost=1024, argon2_parallelism=1)


@pytest.fixture
def services(settings: Settings, db: Database) -> Iterator[Services]:
    built = build_services(settings, db=db, dev_issuer=True)
    gateway = build_gateway(built)
    yield built
    gateway.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(http_app(services, services.returns), raise_server_exceptions=False) as c:
        yield c


class Tokens:
    def __init__(self, settings: Settings):
        self.issuer = DevIssuer(settings.resolved_data_dir).ensure()
        self.audience = settings.jwt_audience

    def __call__(self, niss: str | None = None, loa: str = "eid", roles: list[str] | None = None) -> dict[str, str]:
        """Authorization header for that person (or a platform-role-only caller)."""
        subject = niss or "00000000000"
        return {"Authorization": f"Bearer {self.issuer.mint(subject, self.audience, loa, roles or [])}"}


@pytest.fixture
def auth(settings: Settings) -> Tokens:
    return Tokens(settings)
