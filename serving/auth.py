"""Optional API-key authentication (``Authorization: Bearer KEY``).

Keys come from an env var (comma-separated, plain) or a file of sha256 hex
digests, one per line. Only digests are kept in memory, the presented key is
hashed and compared against every stored digest with ``hmac.compare_digest``
(constant time, no early exit), and keys are never logged. With no keys
configured the API is open; with no admin keys the admin routes are disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from fastapi import Request

from framewatch.errors import AuthError, ConfigError, PermissionDeniedError

__all__ = ["KeyStore", "hash_key"]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _load_digests(env_var: str, file: Path | None) -> list[str]:
    digests = [hash_key(k.strip()) for k in os.environ.get(env_var, "").split(",") if k.strip()]
    if file is not None:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read key file {file}: {exc.strerror or exc}") from exc
        for line_no, line in enumerate(lines, 1):
            line = line.split("#", 1)[0].strip().lower()
            if not line:
                continue
            if len(line) != 64 or any(c not in "0123456789abcdef" for c in line):
                raise ConfigError(f"{file}:{line_no}: expected a sha256 hex digest")
            digests.append(line)
    return digests


def _matches(presented: str, digests: list[str]) -> bool:
    candidate = hash_key(presented).encode()
    found = False
    for digest in digests:
        found |= hmac.compare_digest(candidate, digest.encode())
    return found


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class KeyStore:
    """Digests of user and admin keys; FastAPI dependencies check requests against them."""

    def __init__(self, user_digests: list[str], admin_digests: list[str]):
        self.user_digests = user_digests
        self.admin_digests = admin_digests

    @classmethod
    def from_settings(cls, settings) -> KeyStore:
        return cls(
            _load_digests(settings.api_keys_env, settings.api_keys_file),
            _load_digests(settings.admin_keys_env, settings.admin_keys_file),
        )

    @property
    def open(self) -> bool:
        return not self.user_digests

    def require_user(self, request: Request) -> None:
        """Admin keys are accepted wherever user keys are."""
        if self.open:
            return
        token = _bearer(request)
        if token is None:
            raise AuthError("missing API key: send 'Authorization: Bearer <key>'")
        if not _matches(token, self.user_digests + self.admin_digests):
            raise AuthError("invalid API key")

    def require_admin(self, request: Request) -> None:
        if not self.admin_digests:
            raise PermissionDeniedError("admin API disabled: no admin keys configured")
        token = _bearer(request)
        if token is None:
            raise AuthError("missing admin key: send 'Authorization: Bearer <key>'")
        if not _matches(token, self.admin_digests):
            if _matches(token, self.user_digests):
                raise PermissionDeniedError("this key is not an admin key")
            raise AuthError("invalid admin key")
