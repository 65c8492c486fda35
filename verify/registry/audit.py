"""The audit trail as stored: a Redis stream under ``{audit}``, append-only and durable with AOF.

  {audit}:log   stream of entries: at, who, action, target, ip, detail; the oldest are trimmed past
                MAX_ENTRIES (approximately: Redis trims whole blocks), so it cannot grow without bound
"""

from verify.registry.store import unavailable_on_error

MAX_ENTRIES = 1_000_000


class AuditLog:
    """The audit stream of one store."""

    def __init__(self, store):
        self.store = store
        self._key = store.key("audit", "log")
        self._append = store.script("audit_append")

    @unavailable_on_error
    def append(self, entry):
        """Append one entry (a dict of texts)."""
        self.store.redis.xadd(self._key, entry, maxlen=MAX_ENTRIES, approximate=True)

    def append_call(self, entry, only_if=None):
        """``append`` as a ``(script, keys, args)``, to run in one script with the write it records;
        ``only_if``: ``(hash key, field, value)`` the write must have left for the entry to be made."""
        key, field, value = only_if or (None, "", "")
        return (self._append, [self._key, *([key] if key else [])],
                [MAX_ENTRIES, field, value, *(item for pair in entry.items() for item in pair)])

    @unavailable_on_error
    def trim_before(self, timestamp):
        """Drop the entries made before ``timestamp`` (Unix seconds); returns how many went."""
        return self.store.redis.xtrim(self._key, minid=f"{int(timestamp) * 1000}-0", approximate=False)

    @unavailable_on_error
    def newest(self, keep, before=None, limit=100):
        """Entries newest first for which ``keep(entry)`` is true; ``before`` is a cursor (an entry id).
        Returns ``(entries, next_cursor)``; next_cursor is None at the end. Reads in pages of 500."""
        found = []
        cursor = f"({before}" if before else "+"
        while True:
            batch = self.store.redis.xrevrange(self._key, max=cursor, min="-", count=500)
            if not batch:
                return found, None
            for entry_id, fields in batch:
                if keep(fields):
                    found.append({"id": entry_id, **fields})
                    if len(found) == limit:
                        return found, entry_id
            cursor = "(" + batch[-1][0]
