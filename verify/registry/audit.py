"""The audit trail: who did what, when (UTC), from which IP. A Redis stream under ``{audit}``,
append-only and durable with AOF. Never a code or a full phone number in it: callers pass masked
or hashed values."""

from verify import clock
from verify.registry.store import unavailable_on_error

ACTIONS = (
    "login", "login_failed", "logout", "report_status", "report_assign", "report_note", "number_known_scam",
    "number_cleared", "registry_add", "registry_update", "key_create", "key_revoke", "staff_create",
    "staff_disable", "session_start", "session_end",
)


def _key(store):
    return store.key("audit", "log")


@unavailable_on_error
def record(store, who, action, target="", ip="", detail=""):
    """Append one entry."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    store.redis.xadd(_key(store), {"at": clock.iso(), "who": who, "action": action, "target": target,
                                   "ip": ip or "", "detail": detail[:300]})


@unavailable_on_error
def entries(store, who=None, action=None, before=None, limit=100):
    """The newest entries first, filtered by ``who`` and ``action``; ``before`` is a cursor (an entry id).

    Returns ``(entries, next_cursor)``; next_cursor is None at the end. Reads in pages of 500.
    """
    found = []
    cursor = f"({before}" if before else "+"
    while True:
        batch = store.redis.xrevrange(_key(store), max=cursor, min="-", count=500)
        if not batch:
            return found, None
        for entry_id, fields in batch:
            if (who is None or fields.get("who") == who) and (action is None or fields.get("action") == action):
                found.append({"id": entry_id, **fields})
                if len(found) == limit:
                    return found, entry_id
        cursor = "(" + batch[-1][0]
