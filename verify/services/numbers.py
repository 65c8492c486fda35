"""Managing the registry of official numbers (dashboard, API and CLI): the rules an entry follows,
adding, changing and retiring entries, bulk import, and the lists shown to people."""

import datetime as dt

from verify import phones, times
from verify.errors import N_, Invalid, NotFound, Said
from verify.services import fields

PURPOSES = ("callback", "hotline", "sms", "collections", "other")
DIRECTIONS = ("outbound", "inbound_only", "both")
STATUSES = ("active", "retired")
FIELDS = ("number", "labels", "purpose", "direction", "status", "retired_on", "variants", "notes")
MAX_LABEL, MAX_NOTES, MAX_VARIANTS = 80, 500, 20
NOT_REGISTERED = N_("That number is not in the registry.")


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
        entry["number"] = fields.number(data, "number", errors, region)
    elif "number" in data and not _same_number(data["number"], entry["number"], region):
        errors.append(("number", N_("cannot be changed; retire this entry and add the new number")))
    if "labels" in data or creating:
        entry["labels"] = _clean_labels(data.get("labels"), errors) or entry.get("labels")
    for field, choices in (("purpose", PURPOSES), ("direction", DIRECTIONS), ("status", STATUSES)):
        if field in data or (creating and field != "status"):
            value = fields.choice(data, field, choices, errors, required=creating and field != "status")
            entry[field] = value if value is not None else entry.get(field)
    _clean_dates(data, entry, errors)
    if "variants" in data:
        entry["variants"] = _clean_variants(data["variants"], entry.get("number"), region, errors)
    if "notes" in data:
        entry["notes"] = _clean_notes(data["notes"], errors)
    if errors:
        raise Invalid(errors)
    entry["number"] = entry["number"].e164 if creating else entry["number"]
    return entry


def _same_number(raw, e164, region):
    try:
        return phones.parse(raw, region).e164 == e164
    except phones.InvalidNumber:
        return False


def _clean_labels(labels, errors):
    if not isinstance(labels, dict):
        errors.append(("labels", 'must be an object like {"zh": "回访专线", "en": "Callback line"}'))
        return None
    if set(labels) - {"zh", "en"}:
        errors.append(("labels", "only zh and en are allowed"))
    return {lang: fields.text(labels, lang, errors, MAX_LABEL) for lang in ("zh", "en")}


def _clean_dates(data, entry, errors):
    if data.get("retired_on") is not None:
        try:
            entry["retired_on"] = times.day(times.parse(str(data["retired_on"])[:10]))
        except (ValueError, OverflowError):
            errors.append(("retired_on", N_("must be a date like 2025-06-30")))
    if entry.get("status") == "retired" and not entry.get("retired_on"):
        entry["retired_on"] = times.day(None)
    if entry.get("status") == "active":
        entry["retired_on"] = None


def _clean_notes(notes, errors):
    if notes is None:
        return ""
    if not isinstance(notes, str) or len(notes) > MAX_NOTES or fields.has_control_characters(notes):
        errors.append(("notes", Said(N_("must be a text of at most %(max)s characters, without control characters"),
                                     max=MAX_NOTES)))
        return ""
    return notes.strip()


def _clean_variants(raw, number, region, errors):
    if not isinstance(raw, list) or len(raw) > MAX_VARIANTS:
        errors.append(("variants", Said(N_("must be a list of at most %(max)s numbers"), max=MAX_VARIANTS)))
        return []
    variants = []
    for position, item in enumerate(raw):
        try:
            e164 = phones.normalise(item, region).e164
        except phones.InvalidNumber as exc:
            errors.append((f"variants[{position}]", str(exc)))
            continue
        if e164 != getattr(number, "e164", number) and e164 not in variants:
            variants.append(e164)
    return variants


def _inbound_since(entry, current, now):
    # When the entry became inbound-only (None while it may call out); an entry already inbound-only
    # before this was recorded gets its last change before this one.
    if entry["direction"] != "inbound_only":
        return None
    if current and current["direction"] == "inbound_only":
        return current.get("inbound_only_since") or current.get("updated_at") or now
    return now


class NumberRegistry:
    """The registry's operations for people and systems; audited. Built once with the number store."""

    def __init__(self, numbers, audit, region):
        self._numbers = numbers
        self._audit = audit
        self._region = region

    def _shown(self, entry):
        return {**entry, "display": phones.display(entry["number"], self._region),
                "variant_displays": [phones.display(e164, self._region) for e164 in entry["variants"]]}

    def all(self):
        """Every entry, active first, then by number; each with its ``display`` forms."""
        entries = sorted(self._numbers.all_entries(), key=lambda e: (e["status"] != "active", e["number"]))
        return [self._shown(entry) for entry in entries]

    def inbound_only(self):
        """Active entries that never call out, by number (one read of the registry): what carriers and
        number-labelling apps may block. ``since``: when the entry became inbound-only (for entries
        made before that was recorded, their last change before it, or their last change)."""
        return [{"number": e["number"], "labels": e["labels"], "variants": e["variants"],
                 "since": e.get("inbound_only_since") or e["updated_at"]}
                for e in sorted(self._numbers.all_entries(), key=lambda e: e["number"])
                if e["status"] == "active" and e["direction"] == "inbound_only"]

    def outbound(self):
        """Active entries that call borrowers: the numbers a callback session may use."""
        return [e for e in self.all() if e["status"] == "active" and e["direction"] != "inbound_only"]

    def get(self, number):
        """The entry for ``number`` (any format); ``NotFound`` when it is not registered."""
        try:
            e164 = phones.parse(number, self._region).e164
        except phones.InvalidNumber:
            raise NotFound(NOT_REGISTERED) from None
        entry = self._numbers.get(e164)
        if entry is None:
            raise NotFound(NOT_REGISTERED)
        return self._shown(entry)

    def add(self, actor, data):
        """Register a new official number; ``Invalid``, or ``Conflict`` if it or a variant is registered."""
        entry = clean_entry(data, self._region)
        entry["created_at"] = entry["updated_at"] = times.iso()
        entry["inbound_only_since"] = _inbound_since(entry, None, entry["created_at"])
        saved = self._numbers.save(entry, creating=True, along=[self._audit.along(actor, "registry_add", entry["number"])])
        return self._shown(saved)

    def update(self, actor, number, changes):
        """Change an entry's fields (the number itself stays); ``NotFound``, ``Invalid``, ``Conflict``."""
        current = {k: v for k, v in self.get(number).items() if k not in ("display", "variant_displays")}
        entry = clean_entry(changes, self._region, existing=current)
        entry["updated_at"] = times.iso()
        entry["inbound_only_since"] = _inbound_since(entry, current, entry["updated_at"])
        changed = sorted(field for field in FIELDS if entry.get(field) != current.get(field))
        audit = self._audit.along(actor, "registry_update", entry["number"], ",".join(changed))
        return self._shown(self._numbers.save(entry, creating=False, along=[audit]))

    def retire(self, actor, number, on=None):
        """Mark an entry retired from ``on`` (a date; today by default)."""
        day = (on or dt.datetime.now(dt.UTC).date()).isoformat()
        return self.update(actor, number, {"status": "retired", "retired_on": day})

    def import_rows(self, actor, rows, first_line=2):
        """Add or update every entry of ``rows`` (dicts as ``clean_entry`` takes them), after checking all
        of them first: nothing is written unless every row is valid. ``Invalid`` names the row's line
        (``first_line`` for the first: a CSV file's header is line 1). Returns ``[(number, "added" | "updated")]``."""
        for line, data in enumerate(rows, start=first_line):
            try:
                clean_entry(data, self._region)
            except Invalid as exc:
                raise Invalid([(f"line {line}: {field}", message) for field, message in exc.errors]) from None
        done = []
        for data in rows:
            try:
                self.get(data["number"])
            except NotFound:
                done.append((self.add(actor, data)["number"], "added"))
            else:
                changed = self.update(actor, data["number"], {k: v for k, v in data.items() if k != "number"})
                done.append((changed["number"], "updated"))
        return done

    def reindex_if_stale(self):
        """Bring the registry's index up to this version's format (see ``Numbers.reindex_if_stale``);
        True when it was rebuilt. Not a change of the registry: nothing to audit."""
        return self._numbers.reindex_if_stale()

    def is_empty(self):
        """True when no official number is registered yet."""
        return self._numbers.is_empty()
