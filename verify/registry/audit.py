"""The audit trail as stored: a Redis stream under ``{audit}``, append-only and durable with AOF.

  {audit}:log                 stream of entries: at, who, action, target, ip, detail; the oldest are
                              trimmed past MAX_ENTRIES (approximately: Redis trims whole blocks), so
                              it cannot grow without bound
  {audit}:outboxes            Redis Cluster only: sorted set, outbox key -> token (Redis's clock in µs
                              when work last noted it), the outboxes that may hold entries to relay
  {audit}:relayed:<outbox>:<id>   Redis Cluster only: an outbox entry was relayed and may still be in
                              its outbox (deleted with it; RELAYED_SECONDS if the relay died between)
  {T}:audit-outbox            Redis Cluster only: stream, entries written in the slot of the work
                              they record (tag T), waiting to be relayed to {audit}:log

An entry is written in the same script or transaction as the work it records: both happen or
neither. On one server that is one script across {audit} and the work's keys. On a cluster one script
reaches one slot, so the entry goes to an outbox in the work's slot, in that same script; the outbox
was noted as pending before (no work without that), and the entry is relayed to the log right
after the work (``Relay.deliver``), exactly once (a marker per entry). An entry whose relay failed
(the process died, {audit}'s primary did not answer) stays in its outbox and is relayed by the next
work on that outbox, or by the sweep (``relay_stranded``) that runs before the trail is read or
trimmed. No SCAN: the pending outboxes are listed. An emptied outbox is deleted, and so are the
markers once their entries have left the outbox.
"""

import logging

from verify.errors import StoreUnavailable
from verify.registry.store import unavailable_on_error

MAX_ENTRIES = 1_000_000
OUTBOX = "audit-outbox"
RELAYED_SECONDS = 7 * 86400  # how long a marker outlives a relay that died before deleting its entry
STRANDED_SECONDS = 5  # an outbox pending this long was left by work whose relay failed
SWEEP_MOST = 200  # outboxes one sweep relays at most

log = logging.getLogger(__name__)


class AuditLog:
    """The audit stream of one store."""

    def __init__(self, store):
        self.store = store
        self._key = store.key("audit", "log")
        self._append = store.script("audit_append")
        self._append.relay = Relay(store, self._key)

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
        self._append.relay.relay_stranded()
        return self.store.redis.xtrim(self._key, minid=f"{int(timestamp) * 1000}-0", approximate=False)

    @unavailable_on_error
    def newest(self, keep, before=None, limit=100):
        """Entries newest first for which ``keep(entry)`` is true; ``before`` is a cursor (an entry id).
        Returns ``(entries, next_cursor)``; next_cursor is None at the end. Reads in pages of 500."""
        self._append.relay.relay_stranded()
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


class Relay:
    """How audit entries reach ``{audit}:log`` on a Redis Cluster from the outboxes beside the work
    they record (see the module's docstring); ``Store.run_many`` and ``Store.queue_beside`` use it."""

    def __init__(self, store, stream):
        self.store = store
        self._stream = stream
        self._pending = store.key("audit", "outboxes")
        self._expect = store.script("audit_expect")
        self._relay = store.script("audit_relay")
        self._drop = store.script("audit_drop")
        self._settle = store.script("audit_settle")

    def beside(self, keys, anchor):
        """``audit_append``'s keys with the entry written to the outbox in the slot of ``anchor``, a key
        of the work it records; ``(keys, outbox)``."""
        outbox = self.store.key(anchor.partition("{")[2].partition("}")[0], OUTBOX)
        return [outbox, *keys[1:]], outbox

    def expect(self, outbox):
        """Note ``outbox`` as pending, before the work; its token. Raises the store's error (then
        the work is not done)."""
        return self._expect(keys=[self._pending], args=[outbox])

    def deliver(self, outbox, token):
        """Relay ``outbox``'s entries to the log after the work, and forget the outbox unless noted
        again since ``token``. Never raises: an entry left behind is relayed later."""
        try:
            self._drain(outbox, token)
        except StoreUnavailable as exc:
            log.warning("audit entries left in %s for a later relay (%s)", outbox, exc)

    @unavailable_on_error
    def _drain(self, outbox, token):
        markers = []
        while entries := self.store.redis.xrange(outbox, count=100):
            for entry_id, fields in entries:
                markers.append(self.store.key("audit", f"relayed:{outbox}:{entry_id}"))
                self._relay(keys=[self._stream, markers[-1]],
                            args=[MAX_ENTRIES, RELAYED_SECONDS, *(item for pair in fields.items() for item in pair)])
            self._drop(keys=[outbox], args=[entry_id for entry_id, _fields in entries])
        self._settle(keys=[self._pending, *markers], args=[outbox, token])

    def relay_stranded(self, most=SWEEP_MOST):
        """Relay the outboxes whose work's own relay failed (pending for ``STRANDED_SECONDS``), the
        ``most`` oldest of them (a read of the trail after a long outage of {audit}'s primary stays
        short; the next read takes the next ones)."""
        if not self.store.clustered:
            return
        seconds, micro = self.store.redis.time()
        before = (seconds - STRANDED_SECONDS) * 1_000_000 + micro
        stranded = self.store.redis.zrangebyscore(self._pending, "-inf", before, start=0, num=most, withscores=True)
        for outbox, token in stranded:
            self.deliver(outbox, f"{token:.0f}")

