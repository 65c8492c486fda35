"""Staff accounts, their login lockout and their server-side login sessions, under ``{staff}``.

  {staff}:u:<name>     hash: name, role, hash (argon2id), created, disabled
  {staff}:fails:<name> failed logins in the lockout window
  {staff}:s:<sid>      a login session: name, role, created; TTL = the idle timeout, renewed on use.
                       Logging out deletes it, so a copied cookie stops working at once.
"""

import functools
import re
import secrets
import time

from verify import clock, passwords
from verify.errors import Conflict, Invalid, NotFound
from verify.registry.store import unavailable_on_error

TAG = "staff"
ROLES = ("admin", "support", "agent")
MAX_FAILURES = 5
LOCKOUT_SECONDS = 900
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")


def _key(store, name):
    return store.key(TAG, name)


@unavailable_on_error
def create(store, name, role, password):
    """Create an account; ``Invalid`` for a bad name, role or short password, ``Conflict`` if it exists."""
    errors = []
    if not _NAME.match(name or ""):
        errors.append(("name", "use 2-32 lower-case letters, digits, dot, dash or underscore"))
    if role not in ROLES:
        errors.append(("role", f"must be one of {', '.join(ROLES)}"))
    if len(password or "") < passwords.MIN_LENGTH:
        errors.append(("password", f"must be at least {passwords.MIN_LENGTH} characters"))
    if errors:
        raise Invalid(errors)
    record = {"name": name, "role": role, "hash": passwords.hash_password(password), "created": clock.iso(), "disabled": ""}
    if not store.redis.hsetnx(_key(store, f"u:{name}"), "name", name):
        raise Conflict(f"staff member {name!r} exists already")
    store.redis.hset(_key(store, f"u:{name}"), mapping=record)
    return {k: v for k, v in record.items() if k != "hash"}


@unavailable_on_error
def get(store, name):
    """The account without its hash; ``NotFound``."""
    record = store.redis.hgetall(_key(store, f"u:{name}"))
    if not record:
        raise NotFound(name)
    record.pop("hash", None)
    return record


@unavailable_on_error
def all_staff(store):
    """Every account (no hashes), by name."""
    names = sorted(key.rsplit(":u:", 1)[1] for key in store.redis.scan_iter(match=_key(store, "u:*"), count=500))
    return [get(store, name) for name in names]


@unavailable_on_error
def disable(store, name):
    """Disable an account and end its login sessions' use (they fail the next check)."""
    if not store.redis.exists(_key(store, f"u:{name}")):
        raise NotFound(name)
    store.redis.hset(_key(store, f"u:{name}"), "disabled", clock.iso())


@unavailable_on_error
def authenticate(store, name, password):
    """``(account, None)`` on success; ``(None, reason)`` with reason ``locked`` or ``wrong``.

    Five failures within 15 minutes lock the name, whatever the password after that; an unknown
    name costs the same hashing time as a known one.
    """
    fails_key = _key(store, f"fails:{name}")
    if int(store.redis.get(fails_key) or 0) >= MAX_FAILURES:
        return None, "locked"
    record = store.redis.hgetall(_key(store, f"u:{name}")) if _NAME.match(name or "") else {}
    stored = record.get("hash") or _dummy_hash()
    if passwords.check_password(stored, password or "") and record and not record.get("disabled"):
        store.redis.delete(fails_key)
        if passwords.needs_rehash(stored):
            store.redis.hset(_key(store, f"u:{name}"), "hash", passwords.hash_password(password))
        return {"name": record["name"], "role": record["role"]}, None
    with store.redis.pipeline() as pipe:
        pipe.incr(fails_key)
        pipe.expire(fails_key, LOCKOUT_SECONDS)
        pipe.execute()
    return None, "wrong"


@functools.cache
def _dummy_hash():
    # Checked against when the name is unknown, so timing does not tell which names exist.
    return passwords.hash_password(secrets.token_hex(16))


@unavailable_on_error
def start_session(store, account, idle_seconds):
    """A new server-side login session; returns its id (what the cookie carries)."""
    sid = secrets.token_urlsafe(32)
    key = _key(store, f"s:{sid}")
    with store.redis.pipeline() as pipe:
        pipe.hset(key, mapping={"name": account["name"], "role": account["role"], "created": int(time.time())})
        pipe.expire(key, idle_seconds)
        pipe.execute()
    return sid


@unavailable_on_error
def resume_session(store, sid, idle_seconds, absolute_seconds):
    """The account of a live session (renewing its idle timeout), or None when it is gone, too old,
    or its account was disabled."""
    if not sid or len(sid) > 100:
        return None
    key = _key(store, f"s:{sid}")
    with store.redis.pipeline() as pipe:
        pipe.hgetall(key)
        pipe.expire(key, idle_seconds)  # no-op when the key is gone
        record, _renewed = pipe.execute()
    if not record or time.time() - int(record["created"]) > absolute_seconds:
        store.redis.delete(key)
        return None
    if store.redis.hget(_key(store, f"u:{record['name']}"), "disabled"):
        return None
    return {"name": record["name"], "role": record["role"], "sid": sid}


@unavailable_on_error
def end_session(store, sid):
    """Log out: the session is gone on the server, so its cookie is worthless."""
    store.redis.delete(_key(store, f"s:{sid}"))
