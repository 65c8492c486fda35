"""The registry of the lender's official numbers as stored, and the one-round-trip number lookup.

Entries live in one hash (E.164 -> JSON). A second hash, the index, is rebuilt on every change:
``=<e164>`` for each number and display variant, ``~<digits>`` for the signatures a lookalike would
carry (the national number, and a fixed line's digits within its city), ``@<digits>`` for the
numbers whose digits within their city these are (6080 0000 typed without the area code). A version counter goes up with every change. All share the ``{registry}`` hash tag.

  {registry}:entries   hash, E.164 -> the entry as JSON
  {registry}:index     hash, =<e164> and ~<signature> -> the entry as JSON; @<local digits> -> [E.164]
  {registry}:version   changes so far

The index also holds ``#format``: which version of ``build_index`` wrote it. A store indexed by an
older one (without the local digits, say) is re-indexed by ``reindex_if_stale`` (``flask store-check``,
run by ``make serve``, and ``flask seed-demo``, run by ``make run``).

The registry is small and read on every check, so each process keeps the parsed index and the
version it belongs to (``RegistryCache``). A copy whose version was read within the last second is
used as it is; otherwise the version is read in the same pipeline as the check's own script, and the
index fetched again only when the version moved: one round trip, two right after a change.
"""

import json
import time

from verify import phones
from verify.errors import N_, Conflict
from verify.registry.store import unavailable_on_error

TAG = "registry"


class RegistryCache:
    """This process's copy of the index: exact numbers and lookalike signatures, with their version.

    A copy whose version was read within ``FRESH_SECONDS`` is used without reading it again: during
    a campaign every check and report would otherwise read it. Changes made by this process show at
    once, changes made by others within that second.
    """

    FRESH_SECONDS = 1.0

    def __init__(self):
        self.version = None
        self.exact = {}
        self.signatures = {}
        self.local = {}
        self.confirmed_at = None  # time.monotonic() of the last read of the version
        self.changes_here = 0  # registry changes this process has made
        self._changes_seen = None

    def fresh(self):
        """True when the copy was found current within ``FRESH_SECONDS`` and this process has not
        changed the registry since."""
        return (self.confirmed_at is not None and self._changes_seen == self.changes_here
                and time.monotonic() - self.confirmed_at < self.FRESH_SECONDS)

    def confirm(self, changes_seen):
        """The version just read is the copy's (``changes_seen``: this process's changes before that read)."""
        self.confirmed_at, self._changes_seen = time.monotonic(), changes_seen

    def load(self, version, index):
        """Replace the copy with ``index`` (the raw hash) at ``version``."""
        parts = {"=": {}, "~": {}, "@": {}}
        for field, packed in index.items():
            if field[0] in parts:  # not ``#format``
                parts[field[0]][field[1:]] = json.loads(packed)
        self.exact, self.signatures, self.local, self.version = parts["="], parts["~"], parts["@"], version


INDEX_FORMAT = "2"  # 2: the local digits of fixed lines (``@``, ``~``). Raise it when the index changes.


def build_index(entries, region):
    """The lookup hash for ``entries``: exact numbers and variants, and lookalike signatures."""
    index, local = {}, {}
    for entry in entries:
        packed = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        for e164 in [entry["number"], *entry["variants"]]:
            index["=" + e164] = packed
            phone = phones.parse(e164, region)
            digits = phones.local_part(phone)
            if digits:
                local.setdefault(digits, []).append(e164)
            if entry["status"] == "active":
                # 0755 6080 0000 carries the city digits of 021 6080 0000: it imitates it, as +852 2160 800000 does.
                for sig in {phones.signature(phone), digits} - {None}:
                    index["~" + sig] = packed
    index.update({"@" + digits: json.dumps(sorted(numbers)) for digits, numbers in local.items()})
    index["#format"] = INDEX_FORMAT
    return index


class Numbers:
    """The official numbers in one store, with this process's copy of their index."""

    def __init__(self, store, region):
        self.store = store
        self.region = region
        self.cache = RegistryCache()
        self._entries, self._index, self._version = (store.key(TAG, name) for name in ("entries", "index", "version"))
        self._value = store.script("value")

    @unavailable_on_error
    def all_entries(self):
        """Every entry (dicts as stored), in no particular order."""
        return [json.loads(item) for item in self.store.redis.hvals(self._entries)]

    @unavailable_on_error
    def get(self, e164):
        """The entry registered under ``e164``, or None."""
        raw = self.store.redis.hget(self._entries, e164)
        return json.loads(raw) if raw is not None else None

    @unavailable_on_error
    def entry_for(self, e164):
        """The entry ``e164`` belongs to (as the number or a display variant), else None."""
        raw = self.store.redis.hget(self._index, "=" + e164)
        return json.loads(raw) if raw is not None else None

    @unavailable_on_error
    def is_empty(self):
        """True when no official number is registered yet."""
        return self.store.redis.hlen(self._entries) == 0

    @unavailable_on_error
    def save(self, entry, creating, along=()):
        """Store ``entry`` and rebuild the index, atomically against concurrent changes (WATCH), with
        the scripts ``along`` (its audit entry) in the same transaction.

        ``Conflict`` when creating a number that is registered, or when the entry's number or a
        variant belongs to another entry: each number is in the index once.
        """

        moved = []

        def write(pipe):
            current = {k: json.loads(v) for k, v in pipe.hgetall(self._entries).items()}
            if creating and entry["number"] in current:
                raise Conflict(N_("%(number)s is already registered"), number=entry["number"])
            _check_clashes(entry, current)
            current[entry["number"]] = entry
            pipe.multi()
            moved[:] = self.store.queue_beside(pipe, along, anchor=self._entries)
            pipe.hset(self._entries, entry["number"], json.dumps(entry, ensure_ascii=False))
            self._queue_index(pipe, current.values())

        self.store.redis.transaction(write, self._entries)
        self.store.delivered(moved)
        self.cache.changes_here += 1
        return entry

    @unavailable_on_error
    def reindex_if_stale(self):
        """Rebuild the index when an older version of ``build_index`` wrote it (its ``#format`` is not
        ``INDEX_FORMAT``), atomically against concurrent changes; True when it was rebuilt."""
        if self.store.redis.hget(self._index, "#format") == INDEX_FORMAT or self.is_empty():
            return False

        def write(pipe):
            current = [json.loads(v) for v in pipe.hvals(self._entries)]
            pipe.multi()
            self._queue_index(pipe, current)

        self.store.redis.transaction(write, self._entries)
        self.cache.changes_here += 1
        return True

    def _queue_index(self, pipe, entries):
        # The index of ``entries`` replaces the stored one, and the version moves: every process reloads.
        pipe.delete(self._index)
        pipe.hset(self._index, mapping=build_index(entries, self.region))
        pipe.incr(self._version)

    def run_current(self, work):
        """Run the scripts ``work`` [(script, keys, args)] in one round trip, and on the way make this
        process's copy of the registry current: while the copy is fresh (see ``RegistryCache``) the
        scripts alone (no round trip for no scripts), else with a read of the registry's version (and
        when that changed, one more round trip for the index). Returns the scripts' replies."""
        cache = self.cache
        if cache.fresh():
            if not work:
                self.store.gate.enter()  # a closed gate answers unavailable even with nothing to read
                return []
            return self.store.run_many(work)
        changes_seen = cache.changes_here
        *replies, version = self.store.run_many([*work, (self._value, [self._version], [])])
        if version != cache.version or cache.version is None:
            with self.store.redis.pipeline(transaction=False) as pipe:
                pipe.get(self._version)
                pipe.hgetall(self._index)
                version, index = pipe.execute()
            cache.load(version, index)
        cache.confirm(changes_seen)
        return replies

    def official(self, e164):
        """The entry ``e164`` belongs to in this process's copy (made current by the last ``run_current``)."""
        return self.cache.exact.get(e164)

    @unavailable_on_error
    def local_lines_stored(self, phone):
        """``local_lines`` read from the store itself (one read, for a path that keeps no registry copy)."""
        if not phone.local:
            return []
        packed = self.store.redis.hget(self._index, "@" + phone.national)
        return json.loads(packed) if packed is not None else []

    def local_lines(self, phone):
        """The numbers (E.164, registered or variants) whose digits within their city ``phone`` is, when
        it was typed without an area code (``Phone.local``): one, several (ask for the area code) or none."""
        return self.cache.local.get(phone.national, []) if phone.local else []

    def imitated(self, phone):
        """The active official entry whose signature ``phone`` carries (the longest), else None."""
        carried = [sig for sig in self.cache.signatures if phones.carries(phone, sig)]
        return self.cache.signatures[max(carried, key=len)] if carried else None


def _check_clashes(entry, current):
    taken = {}
    for other in current.values():
        if other["number"] == entry["number"]:
            continue
        for e164 in [other["number"], *other["variants"]]:
            taken[e164] = other["number"]
    for e164 in [entry["number"], *entry["variants"]]:
        if e164 in taken:
            raise Conflict(N_("%(number)s already belongs to the entry %(entry)s"), number=e164, entry=taken[e164])
