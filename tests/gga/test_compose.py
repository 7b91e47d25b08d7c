"""docker-compose.yml is valid (``docker-compose config``) and has what issue 10 asks of it: gateway, PostgreSQL
and RabbitMQ with healthchecks (the gateway's on /readyz), a non-root gateway, data volumes, the AMQP URL, the
identity settings and the FTP passive address."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def config(**env: str) -> dict:
    if shutil.which("docker-compose") is None:
        pytest.skip("no docker-compose binary (.ci/run installs Debian's docker-compose package as root)")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GGA_")}
    done = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"], cwd=ROOT,
                          env=clean | env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_compose_stack_is_valid_and_complete():
    services = config()["services"]
    assert set(services) == {"gateway", "db", "rabbitmq"}
    assert all(s.get("healthcheck") for s in services.values())
    gateway = services["gateway"]
    assert "/readyz" in " ".join(gateway["healthcheck"]["test"])
    assert gateway["user"].split(":")[0] not in ("", "0", "root")
    assert {d: c["condition"] for d, c in gateway["depends_on"].items()} == {"db": "service_healthy",
                                                                           "rabbitmq": "service_healthy"}
    env = gateway["environment"]
    assert env["GGA_AMQP_URL"].startswith("amqp://") and "@rabbitmq:5672" in env["GGA_AMQP_URL"]
    assert env["GGA_DATABASE_URL"].startswith("postgresql+psycopg://") and "@db:5432" in env["GGA_DATABASE_URL"]
    assert env["GGA_FTP_MASQUERADE_ADDRESS"] and env["GGA_PUBLIC_URL"].startswith("http")
    assert {"GGA_JWT_ISSUER", "GGA_JWKS_URL", "GGA_DEV_ISSUER"} <= set(env)
    assert any(v.startswith("gga-data:/data") for v in gateway["volumes"])
    assert any("/var/lib/postgresql/data" in v for v in services["db"]["volumes"])


def test_identity_and_public_address_come_from_the_environment():
    env = config(GGA_JWT_ISSUER="https://login.example.be/realms/gga",
                 GGA_JWKS_URL="https://login.example.be/realms/gga/protocol/openid-connect/certs",
                 GGA_FTP_MASQUERADE_ADDRESS="203.0.113.7")["services"]["gateway"]["environment"]
    assert env["GGA_JWT_ISSUER"] == "https://login.example.be/realms/gga"
    assert env["GGA_JWKS_URL"].endswith("/certs") and env["GGA_FTP_MASQUERADE_ADDRESS"] == "203.0.113.7"


def test_image_runs_as_non_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
