"""Staff accounts and their server-side login sessions as stored, under ``{staff}``.

  {staff}:u:<name>              hash: name, role, hash (argon2id), created, disabled, display_name (what
                                borrowers are shown, masked), agent_id (A1001, A1002, …: never the name)
  {staff}:agent-seq             the counter agent ids are drawn from
  {staff}:names                 set of every account's name (accounts stored before it are found by SCAN)
  {staff}:l:login:<subject>:<s> the limiter's counter of login attempts on one name
  {staff}:s:<sid>               a login session: name, role, created; TTL = the idle timeout, renewed
                                on use. Logging out deletes it, so a copied cookie stops working at once.
"""

import time

from verify.errors import N_, Conflict
from verify.registry.store import unavailable_on_error

TAG = "staff"


class Staff:
    """Accounts and login sessions in one store."""

    def __init__(self, store):
        self.store = store

    def _key(self, name):
        return self.store.key(TAG, name)

    @unavailable_on_error
    def create(self, record):
        """Store a new account (``record`` has name, role, hash, created); ``Conflict`` if the name is taken."""
        key = self._key(f"u:{record['name']}")
        if not self.store.redis.hsetnx(key, "name", record["name"]):
            raise Conflict(N_("staff member %(name)r exists already"), name=record["name"])
        with self.store.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=record)
            pipe.sadd(self._key("names"), record["name"])
            pipe.execute()

    @unavailable_on_error
    def get(self, name):
        """The stored account (with its hash), or None."""
        return self.store.redis.hgetall(self._key(f"u:{name}")) or None

    @unavailable_on_error
    def names(self, scan=False):
        """Every account's name, sorted, from the set of names. ``scan`` (the CLI's listing, never a
        request: SCAN walks the whole keyspace, every primary of a cluster) also finds accounts stored
        before the set existed, and adds them to it."""
        names = self.store.redis.smembers(self._key("names"))
        if scan:
            older = {key.rsplit(":u:", 1)[1] for key in self.store.redis.scan_iter(match=self._key("u:*"), count=500)}
            if older - names:
                self.store.redis.sadd(self._key("names"), *(older - names))
            names |= older
        return sorted(names)

    @unavailable_on_error
    def roles(self):
        """``{name: (role, disabled)}`` of the accounts in the set of names, in one pipeline: no SCAN,
        so a page may ask on every load (the queue's assignees)."""
        names = sorted(self.store.redis.smembers(self._key("names")))
        with self.store.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hmget(self._key(f"u:{name}"), "role", "disabled")
            return {name: (role, disabled) for name, (role, disabled) in zip(names, pipe.execute(), strict=True) if role}

    @unavailable_on_error
    def set_fields(self, name, **fields):
        """Change stored fields of an existing account (disabled, hash)."""
        self.store.redis.hset(self._key(f"u:{name}"), mapping=fields)

    @unavailable_on_error
    def agent_id(self, name):
        """The account's agent id, drawn from the counter the first time it is asked for (accounts made
        before agent ids existed get theirs then); None for an unknown account."""
        key = self._key(f"u:{name}")
        current = self.store.redis.hget(key, "agent_id")
        if current or not self.store.redis.exists(key):
            return current
        drawn = f"A{1000 + self.store.redis.incr(self._key('agent-seq'))}"
        self.store.redis.hsetnx(key, "agent_id", drawn)  # two first asks at once: the first one stays
        return self.store.redis.hget(key, "agent_id")

    @unavailable_on_error
    def start_session(self, account, sid, idle_seconds):
        """Store a login session ``sid`` for ``account``, living ``idle_seconds`` unless used."""
        key = self._key(f"s:{sid}")
        with self.store.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"name": account["name"], "role": account["role"], "created": int(time.time())})
            pipe.expire(key, idle_seconds)
            pipe.execute()

    @unavailable_on_error
    def touch_session(self, sid, idle_seconds):
        """The login session ``sid`` (renewing its idle timeout) with its account's ``disabled`` field,
        or None when it is gone."""
        key = self._key(f"s:{sid}")
        with self.store.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(key)
            pipe.expire(key, idle_seconds)  # no-op when the key is gone
            record, _renewed = pipe.execute()
        if not record:
            return None
        return {**record, "disabled": self.store.redis.hget(self._key(f"u:{record['name']}"), "disabled") or ""}

    @unavailable_on_error
    def end_session(self, sid):
        """Forget a login session: its cookie is worthless from now on."""
        self.store.redis.delete(self._key(f"s:{sid}"))
