"""API keys as stored: their digests, never the keys, under ``{keys}``.

  {keys}:by-id:<id>   hash: name, scope, created, digest
  {keys}:by-name      hash: name -> JSON {scope, created, id, revoked}
"""

import json

from verify.errors import N_, Conflict
from verify.registry.store import unavailable_on_error

TAG = "keys"


class ApiKeys:
    """Key records in one store."""

    def __init__(self, store):
        self.store = store

    def _by_id(self, key_id):
        return self.store.key(TAG, f"by-id:{key_id}")

    def _by_name(self):
        return self.store.key(TAG, "by-name")

    @unavailable_on_error
    def create(self, name, key_id, scope, created, digest):
        """Store a new key's record; ``Conflict`` if a key of that name exists (revoked ones too)."""
        listing = {"scope": scope, "created": created, "id": key_id, "revoked": None}
        # HSETNX first so two admins creating the same name cannot both win.
        if not self.store.redis.hsetnx(self._by_name(), name, json.dumps(listing)):
            raise Conflict(N_("a key named %(name)r exists already (revoked keys keep their name)"), name=name)
        self.store.redis.hset(self._by_id(key_id), mapping={"name": name, "scope": scope, "created": created, "digest": digest})

    @unavailable_on_error
    def by_id(self, key_id):
        """The live key ``key_id``'s record (name, scope, created, digest), or None."""
        return self.store.redis.hgetall(self._by_id(key_id)) or None

    @unavailable_on_error
    def listing(self):
        """Every key ever created: name -> {scope, created, id, revoked}."""
        return {name: json.loads(raw) for name, raw in self.store.redis.hgetall(self._by_name()).items()}

    @unavailable_on_error
    def revoke(self, name, when):
        """Revoke the key ``name`` at ``when``; False if there is no such key."""
        raw = self.store.redis.hget(self._by_name(), name)
        if raw is None:
            return False
        listing = json.loads(raw)
        listing["revoked"] = listing["revoked"] or when
        with self.store.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._by_id(listing["id"]))
            pipe.hset(self._by_name(), name, json.dumps(listing))
            pipe.execute()
        return True
