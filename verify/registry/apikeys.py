"""API keys for the call-centre system and staff tools: scoped, stored hashed, revocable.

A key looks like ``vk_<scope>_<id>_<secret>`` and is shown once at creation. The id (not secret)
finds the record; the SHA-256 of the whole key is compared with ``hmac.compare_digest``. Keys carry
192 random bits, so a fast hash is enough; a slow password hash would only slow every API call.

Keys, all under ``{keys}``:
  {keys}:by-id:<id>   hash: name, scope, created, digest
  {keys}:by-name      hash: name -> JSON {scope, created, id, revoked}
"""

import hashlib
import hmac
import json
import re
import secrets

from verify import clock
from verify.errors import Conflict, Invalid, NotFound
from verify.registry.store import unavailable_on_error

TAG = "keys"
SCOPES = ("sessions", "registry", "reports")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _digest(key):
    return hashlib.sha256(key.encode()).hexdigest()


def _by_id(store, key_id):
    return store.key(TAG, f"by-id:{key_id}")


def _by_name(store):
    return store.key(TAG, "by-name")


@unavailable_on_error
def create(store, name, scope):
    """Create a key; return the key itself (the only time it exists in clear)."""
    if not _NAME.match(name or ""):
        raise Invalid([("name", "use 1-64 letters, digits, dot, dash or underscore")])
    if scope not in SCOPES:
        raise Invalid([("scope", f"must be one of {', '.join(SCOPES)}")])
    key_id = secrets.token_hex(6)
    key = f"vk_{scope}_{key_id}_{secrets.token_urlsafe(24)}"
    created = clock.iso()
    record = {"scope": scope, "created": created, "id": key_id, "revoked": None}
    # HSETNX first so two admins creating the same name cannot both win.
    if not store.redis.hsetnx(_by_name(store), name, json.dumps(record)):
        raise Conflict(f"a key named {name!r} exists already (revoked keys keep their name)")
    store.redis.hset(
        _by_id(store, key_id), mapping={"name": name, "scope": scope, "created": created, "digest": _digest(key)}
    )
    return key


@unavailable_on_error
def authenticate(store, key):
    """The ``{"name", "scope"}`` of a valid, unrevoked key, else None."""
    parts = key.split("_") if key and len(key) <= 200 else []
    if len(parts) < 4 or parts[0] != "vk":
        return None
    record = store.redis.hgetall(_by_id(store, parts[2]))
    if not record or not hmac.compare_digest(record["digest"], _digest(key)):
        return None
    return {"name": record["name"], "scope": record["scope"]}


@unavailable_on_error
def list_keys(store):
    """Every key ever created (never the key itself): name, scope, created, revoked."""
    rows = store.redis.hgetall(_by_name(store))
    out = []
    for name, raw in sorted(rows.items()):
        record = json.loads(raw)
        out.append({"name": name, "scope": record["scope"], "created": record["created"], "revoked": record["revoked"]})
    return out


@unavailable_on_error
def revoke(store, name):
    """Revoke a key by name; it stops working at once. ``NotFound`` if there is no such key."""
    raw = store.redis.hget(_by_name(store), name)
    if raw is None:
        raise NotFound(name)
    record = json.loads(raw)
    record["revoked"] = record["revoked"] or clock.iso()
    with store.redis.pipeline() as pipe:
        pipe.delete(_by_id(store, record["id"]))
        pipe.hset(_by_name(store), name, json.dumps(record))
        pipe.execute()
