"""The registry of the lender's official numbers, and the one-round-trip number lookup.

Entries live in one hash (E.164 -> JSON). A second hash, the index, is rebuilt on every change:
``=<e164>`` for each number and display variant, ``~<digits>`` for the signature a lookalike would
carry. A version counter goes up with every change. All share the ``{registry}`` hash tag.

The registry is small and read on every check, so each process keeps the parsed index and the
version it belongs to (``RegistryCache``). A check reads the version in the same pipeline as the
report counts, at most once a second (and at once after this process's own change), and only
fetches the index again when the version moved: one round trip normally, two right after a change.
"""

import datetime as dt
import functools
import json
import time

import redis

from verify import clock, fields, phones
from verify.errors import Conflict, Invalid, NotFound
from verify.registry import reports
from verify.registry.store import unavailable_on_error
from verify.verdicts import NumberFacts

TAG = "registry"
PURPOSES = ("callback", "hotline", "sms", "collections", "other")
DIRECTIONS = ("outbound", "inbound_only", "both")
STATUSES = ("active", "retired")
FIELDS = ("number", "labels", "purpose", "direction", "status", "retired_on", "variants", "notes")
MAX_LABEL, MAX_NOTES, MAX_VARIANTS = 80, 500, 20


def _entries_key(store):
    return store.key(TAG, "entries")


def _index_key(store):
    return store.key(TAG, "index")


def _version_key(store):
    return store.key(TAG, "version")


# Registry changes this process has made: a copy confirmed before the latest of them is not fresh.
_changes_here = 0


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
        self.confirmed_at = None  # time.monotonic() of the last read of the version
        self._changes_seen = None

    def fresh(self):
        """True when the copy was found current within ``FRESH_SECONDS`` and this process has not
        changed the registry since."""
        return (self.confirmed_at is not None and self._changes_seen == _changes_here
                and time.monotonic() - self.confirmed_at < self.FRESH_SECONDS)

    def confirm(self, changes_seen):
        """The version just read is the copy's (``changes_seen``: this process's changes before that read)."""
        self.confirmed_at, self._changes_seen = time.monotonic(), changes_seen

    def load(self, version, index):
        """Replace the copy with ``index`` (the raw hash) at ``version``."""
        exact, signatures = {}, {}
        for field, packed in index.items():
            (exact if field[0] == "=" else signatures)[field[1:]] = json.loads(packed)
        self.exact, self.signatures, self.version = exact, signatures, version


def clean_entry(data, region, existing=None):
    """Validate a new entry (``existing`` None) or a change to one; return the complete entry.

    Raises ``Invalid`` listing every field problem at once.
    """
    if not isinstance(data, dict):
        raise Invalid([("body", "must be a JSON object")])
    errors = []
    fields.no_unknown(data, FIELDS, errors)
    creating = existing is None
    entry = dict(existing or {"status": "active", "retired_on": None, "variants": [], "notes": ""})

    if creating:
        try:
            entry["number"] = phones.normalise(data.get("number"), region).e164
        except phones.InvalidNumber as exc:
            errors.append(("number", str(exc)))
    elif "number" in data and _same_number(data["number"], entry["number"], region) is False:
        errors.append(("number", "cannot be changed; retire this entry and add the new number"))

    if "labels" in data or creating:
        labels = data.get("labels")
        if not isinstance(labels, dict):
            errors.append(("labels", 'must be an object like {"zh": "回访专线", "en": "Callback line"}'))
        else:
            cleaned = {lang: fields.text(labels, lang, errors, MAX_LABEL) for lang in ("zh", "en")}
            if set(labels) - {"zh", "en"}:
                errors.append(("labels", "only zh and en are allowed"))
            entry["labels"] = cleaned
    for field, choices in (("purpose", PURPOSES), ("direction", DIRECTIONS), ("status", STATUSES)):
        if field in data or (creating and field != "status"):
            value = fields.choice(data, field, choices, errors, required=creating and field != "status")
            if value is not None:
                entry[field] = value
    if "retired_on" in data and data["retired_on"] is not None:
        try:
            entry["retired_on"] = dt.date.fromisoformat(str(data["retired_on"])).isoformat()
        except ValueError:
            errors.append(("retired_on", "must be a date like 2025-06-30"))
    if entry.get("status") == "retired" and not entry.get("retired_on"):
        entry["retired_on"] = dt.date.today().isoformat()
    if entry.get("status") == "active":
        entry["retired_on"] = None
    if "variants" in data:
        entry["variants"] = _clean_variants(data["variants"], entry.get("number"), region, errors)
    if "notes" in data:
        notes = data["notes"]
        if notes is None:
            entry["notes"] = ""
        elif not isinstance(notes, str) or len(notes) > MAX_NOTES:
            errors.append(("notes", f"must be a text of at most {MAX_NOTES} characters"))
        else:
            entry["notes"] = notes.strip()
    if errors:
        raise Invalid(errors)
    return entry


def _same_number(raw, e164, region):
    try:
        return phones.parse(raw, region).e164 == e164
    except phones.InvalidNumber:
        return False


def _clean_variants(raw, number, region, errors):
    if not isinstance(raw, list) or len(raw) > MAX_VARIANTS:
        errors.append(("variants", f"must be a list of at most {MAX_VARIANTS} numbers"))
        return []
    variants = []
    for position, item in enumerate(raw):
        try:
            e164 = phones.normalise(item, region).e164
        except phones.InvalidNumber as exc:
            errors.append((f"variants[{position}]", str(exc)))
            continue
        if e164 != number and e164 not in variants:
            variants.append(e164)
    return variants


def build_index(entries, region):
    """The lookup hash for ``entries``: exact numbers and variants, and lookalike signatures."""
    index = {}
    for entry in entries:
        packed = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        for e164 in [entry["number"], *entry["variants"]]:
            index["=" + e164] = packed
            if entry["status"] == "active":
                sig = phones.signature(phones.parse(e164, region))
                if sig:
                    index["~" + sig] = packed
    return index


def _decorate(entry, region):
    entry = dict(entry)
    entry["display"] = phones.display(entry["number"], region)
    return entry


@unavailable_on_error
def all_entries(store, region):
    """Every entry, ordered active first, then by number; each with its ``display`` form."""
    raw = store.redis.hvals(_entries_key(store))
    entries = [_decorate(json.loads(item), region) for item in raw]
    return sorted(entries, key=lambda e: (e["status"] != "active", e["number"]))


@unavailable_on_error
def get(store, number, region):
    """The entry for ``number`` (any format); ``NotFound`` when it is not registered."""
    try:
        e164 = phones.parse(number, region).e164
    except phones.InvalidNumber:
        raise NotFound(number) from None
    raw = store.redis.hget(_entries_key(store), e164)
    if raw is None:
        raise NotFound(number)
    return _decorate(json.loads(raw), region)


@unavailable_on_error
def add(store, data, region):
    """Register a new official number; ``Conflict`` if it or a variant is already registered."""
    entry = clean_entry(data, region)
    now = clock.iso()
    entry["created_at"] = entry["updated_at"] = now
    return _decorate(_write(store, entry, region, creating=True), region)


@unavailable_on_error
def update(store, number, changes, region):
    """Change an entry's fields (the number itself stays); ``NotFound`` if it is not registered."""
    current = get(store, number, region)
    current.pop("display", None)
    entry = clean_entry(changes, region, existing=current)
    entry["updated_at"] = clock.iso()
    return _decorate(_write(store, entry, region, creating=False), region)


def retire(store, number, region, on=None):
    """Mark an entry retired (from ``on``, a date, default today)."""
    changes = {"status": "retired", "retired_on": (on or dt.date.today()).isoformat()}
    return update(store, number, changes, region)


def _write(store, entry, region, creating):
    global _changes_here
    entries_key, index_key = _entries_key(store), _index_key(store)
    with store.redis.pipeline() as pipe:
        while True:
            try:
                # WATCH makes the read-check-rebuild atomic against a concurrent change.
                pipe.watch(entries_key)
                current = {k: json.loads(v) for k, v in pipe.hgetall(entries_key).items()}
                if creating and entry["number"] in current:
                    raise Conflict(f"{entry['number']} is already registered")
                _check_clashes(entry, current)
                current[entry["number"]] = entry
                index = build_index(current.values(), region)
                pipe.multi()
                pipe.hset(entries_key, entry["number"], json.dumps(entry, ensure_ascii=False))
                pipe.delete(index_key)
                pipe.hset(index_key, mapping=index)
                pipe.incr(_version_key(store))
                pipe.execute()
                _changes_here += 1
                return entry
            except redis.WatchError:
                continue


def _check_clashes(entry, current):
    taken = {}
    for other in current.values():
        if other["number"] == entry["number"]:
            continue
        for e164 in [other["number"], *other["variants"]]:
            taken[e164] = other["number"]
    for e164 in [entry["number"], *entry["variants"]]:
        if e164 in taken:
            raise Conflict(f"{e164} already belongs to the entry {taken[e164]}")


@unavailable_on_error
def is_empty(store):
    """True when no official number is registered yet."""
    return store.redis.hlen(_entries_key(store)) == 0


def queue_version(pipe, store):
    """Queue a read of the registry's version on ``pipe`` (to go with other work in one round trip)."""
    pipe.get(_version_key(store))


@unavailable_on_error
def refresh_if_changed(store, cache, version):
    """Reload this process's copy of the index when ``version`` (just read) is not the copy's."""
    changes_seen = _changes_here
    if version != cache.version or cache.version is None:
        with store.redis.pipeline(transaction=False) as pipe:
            pipe.get(_version_key(store))
            pipe.hgetall(_index_key(store))
            version, index = pipe.execute()
        cache.load(version, index)
    cache.confirm(changes_seen)


def run_current(store, cache, script, keys, args):
    """Run ``script`` and on the way make this process's copy of the registry current: the script
    call alone while the copy is fresh (see ``RegistryCache``), else the script and the registry's
    version in one pipeline. One round trip either way (two right after a registry change)."""
    if cache.fresh():
        return script(keys, args)
    reply, (version,) = script.run_with(keys, args, lambda pipe: queue_version(pipe, store))
    refresh_if_changed(store, cache, version)
    return reply


@unavailable_on_error
def lookup(store, phone, now, cache):
    """Everything the number verdict needs about ``phone``: one round trip (two after a registry change)."""
    reporters_30d, known_scam = reports.number_facts(store, phone.e164, now, run=functools.partial(run_current, store, cache))
    entry = cache.exact.get(phone.e164)
    imitated = None
    if entry is None:
        # The longest signature carried is the official number being imitated.
        carried = [sig for sig in cache.signatures if phones.carries(phone, sig)]
        if carried:
            imitated = cache.signatures[max(carried, key=len)]
    return NumberFacts(entry=entry, imitated=imitated, reporters_30d=reporters_30d, known_scam=known_scam)


def outbound_numbers(store, region):
    """Active entries that call borrowers: the numbers a callback session may use."""
    return [e for e in all_entries(store, region) if e["status"] == "active" and e["direction"] != "inbound_only"]


@unavailable_on_error
def entry_for(store, phone):
    """The registry entry ``phone`` belongs to (as the number or a display variant), else None."""
    raw = store.redis.hget(_index_key(store), "=" + phone.e164)
    return json.loads(raw) if raw is not None else None
