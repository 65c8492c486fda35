"""API keys for the call-centre system and staff tools: scoped, stored hashed, revocable.

A key looks like ``vk_<scope>_<id>_<secret>`` and is shown once at creation. The id (not secret)
finds the record; the SHA-256 of the whole key is compared with ``hmac.compare_digest``. Keys carry
192 random bits, so a fast hash is enough; a slow password hash would only slow every API call.
"""

import hashlib
import hmac
import re
import secrets

from verify import times
from verify.errors import N_, Invalid, NotFound

SCOPES = ("sessions", "registry", "reports", "app")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ID = re.compile(r"^[0-9a-f]{12}$")


def _digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyService:
    """Creating, checking, listing and revoking keys; built once with the key store and the audit."""

    def __init__(self, keys, audit):
        self._keys = keys
        self._audit = audit

    def create(self, actor, name, scope):
        """Create a key; return the key itself (the only time it exists in clear). Audited."""
        if not _NAME.match(name or ""):
            raise Invalid([("name", N_("use 1-64 letters, digits, dot, dash or underscore"))])
        if scope not in SCOPES:
            raise Invalid([("scope", f"must be one of {', '.join(SCOPES)}")])
        key_id = secrets.token_hex(6)
        key = f"vk_{scope}_{key_id}_{secrets.token_urlsafe(24)}"
        self._keys.create(name, key_id, scope, times.iso(), _digest(key))
        self._audit.record(actor, "key_create", name, scope)
        return key

    def authenticate(self, key):
        """The ``{"name", "scope"}`` of a valid, unrevoked key, else None."""
        parts = key.split("_") if key and len(key) <= 200 else []
        if len(parts) < 4 or parts[0] != "vk" or not _ID.match(parts[2]):
            return None
        record = self._keys.by_id(parts[2])
        if not record or not hmac.compare_digest(record["digest"], _digest(key)):
            return None
        return {"name": record["name"], "scope": record["scope"]}

    def all(self):
        """Every key ever created (never the key itself): name, scope, created, revoked."""
        return [{"name": name, "scope": row["scope"], "created": row["created"], "revoked": row["revoked"]}
                for name, row in sorted(self._keys.listing().items())]

    def revoke(self, actor, name):
        """Revoke a key by name: it stops working at once. Audited; ``NotFound``."""
        if not self._keys.revoke(name, times.iso()):
            raise NotFound(f"no key named {name!r}")
        self._audit.record(actor, "key_revoke", name)
