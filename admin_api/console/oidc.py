"""Console sign-in through OpenID Connect (authorization code + PKCE): being built."""

from __future__ import annotations

from fastapi import APIRouter

from kernel.settings import Settings

router = APIRouter()


def issuer_label(settings: Settings) -> str | None:
    """The name shown on the sign-in button when an OpenID Connect issuer is configured (None: no button)."""
    return None
