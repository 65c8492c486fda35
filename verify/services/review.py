"""The support team's work on reports: the queue and its filters, one report, the review workflow
(status, assignee, notes, each change in the report's history and the audit), known scams, the
overview, spoofing alerts and the export for the police."""

import dataclasses
import datetime as dt
import json
import re
import time
from dataclasses import dataclass

from verify import phones, times
from verify.errors import N_, Conflict, Invalid, NotFound, Said
from verify.registry.reports import Page
from verify.services import fields
from verify.services.reports import CATEGORIES, MAX_TEXT

STATUSES = ("new", "reviewing", "confirmed_scam", "not_scam", "duplicate")
EXPORT_FIELDS = ("id", "number", "number_raw", "occurred_at", "received_at", "channel", "categories", "text",
                 "amount_lost", "contact_masked", "source", "status", "assignee")
NO_REPORT = N_("There is no such report.")
OURS = N_("This is one of our official numbers: reports about it mean scammers show it as caller ID (spoofing). "
          "It cannot be marked as a known scam; confirm the reports instead.")
NOT_MARKED = "number not marked as known scam: it is our official number, being spoofed"
FILTERS = ("status", "number", "category", "since", "until")
MAX_BULK = 200  # reports one bulk change may name: a day's reports, four queue pages
REVIEWERS = ("admin", "support")  # who a report may be assigned to
# The bulk change's problems: marked N_ so the dashboard says them in the page's language.
NONE_SELECTED = N_("Select at least one report (the boxes at the start of the rows).")
TOO_MANY = N_("Select at most 200 reports at once.")  # MAX_BULK
NO_ACTION = N_("Choose a new status or an assignee for the selected reports.")
BAD_STATUS = N_("That status does not exist.")
NOT_A_REVIEWER = N_("Reports can be assigned only to support and admin accounts.")
GONE = N_("One of the selected reports does not exist.")


@dataclass(frozen=True)
class Filters:
    """Which reports: by status, number (E.164), category, received since/until (Unix seconds)."""

    status: str | None = None
    number: str | None = None
    category: str | None = None
    since: int | None = None
    until: int | None = None
    cursor: str | None = None
    limit: int = 50


def read_filters(args, region, max_limit=200, zone=dt.UTC):
    """The one reader of report filters (API, queue, export) from query arguments; ``Invalid`` listing
    every problem. Dates count as whole days in ``zone`` (the API's: UTC; the dashboard's:
    ``VERIFY_TIMEZONE``): ``until=2026-11-30`` includes that day."""
    errors = []
    status = fields.choice(args, "status", STATUSES, errors, required=False) if args.get("status") else None
    category = fields.choice(args, "category", CATEGORIES, errors, required=False) if args.get("category") else None
    number = fields.number(args, "number", errors, region, reader=phones.parse, required=False) if args.get("number") else None
    since = fields.moment(args, "since", errors, zone=zone)
    until = fields.moment(args, "until", errors, end_of_day=True, zone=zone)
    limit = fields.whole_number(args, "limit", errors, 1, max_limit, 50)
    cursor = args.get("cursor") or None
    if cursor is not None and _cursor(cursor) is None:
        errors.append(("cursor", "is not a cursor this service gave out"))
    if errors:
        raise Invalid(errors)
    return Filters(status, number.e164 if number else None, category, since, until, cursor, limit)


# A cursor is the last listed report's place in the index order: its received second and its id,
# "1795176000:R261120-7KQ2MD". Unique however many reports share a second; the next page starts past it.
_CURSOR = re.compile(r"([0-9]{1,12}):([0-9A-Za-z-]{1,32})")
_ID = re.compile(r"[0-9A-Za-z-]{1,32}")


def _cursor(text):
    """``(second, id)`` of a cursor this service gave out, or None."""
    found = _CURSOR.fullmatch(str(text))
    return (int(found[1]), found[2]) if found else None


def _cursor_text(score, report_id):
    return f"{int(score)}:{report_id}"


def _start(filters):
    """Where ``find`` starts reading: past the cursor, else at ``until``, newest first, down to ``since``."""
    bottom = filters.since if filters.since is not None else "-inf"
    if filters.cursor:
        second, after = _cursor(filters.cursor)
        if filters.until is None or second <= filters.until:
            return Page(second, after, bottom)
    return Page(filters.until if filters.until is not None else "+inf", None, bottom)


def decode(record):
    """A stored report as people see it: lists decoded, the contact's lookup key left out."""
    out = dict(record)
    out["categories"] = [c for c in out.get("categories", "").split(",") if c]
    out["notes"] = json.loads(out.get("notes") or "[]")
    out["history"] = json.loads(out.get("history") or "[]")
    out["amount_lost"] = float(out["amount_lost"]) if out.get("amount_lost") else None
    out.pop("contact_hmac", None)
    out.pop("contact_sealed", None)  # shown only on purpose, audited: Review.contact
    return out


class Review:
    """Reading and reviewing reports; built once with the report store, the registry and the audit."""

    def __init__(self, reports, numbers, audit, region, zone="UTC", contacts=None, callback_requests=None, staff=None):
        self._reports = reports
        self._callback_requests = callback_requests  # the overview counts them
        self._staff = staff  # StaffAccounts: who a report may be assigned to
        self._contacts = contacts  # the Sealer of reporters' numbers
        self._zone = times.zone(zone)  # exports give times in it (VERIFY_TIMEZONE), with the offset
        self._numbers = numbers
        self._audit = audit
        self._region = region

    def find(self, filters):
        """Reports matching ``filters``, newest first (one second's reports by id, descending):
        ``(reports, next_cursor)``. Reads pages of the index that narrows most, and reads bigger pages
        while a filter matches few."""
        index, start = self._reports.index_key(filters.number, filters.status), _start(filters)
        narrowed = filters.category is not None or (filters.status is not None and filters.number is not None)
        found, chunk = [], max(filters.limit * 2, 50) if narrowed else filters.limit + 10
        while True:
            page = self._reports.page(index, start, chunk)
            for member, score, record in page:
                start = Page(score, member, start.bottom)
                if record and _matches(record, filters):
                    found.append(decode(record))
                    if len(found) == filters.limit:
                        return found, _cursor_text(score, member)
            if len(page) < chunk:
                return found, None
            chunk = min(chunk * 2, 1000)

    def get(self, report_id):
        """One report as people see it; ``NotFound``."""
        record = self._reports.get(report_id) if len(report_id) <= 32 else None
        if record is None:
            raise NotFound(NO_REPORT)
        return decode(record)

    def queue(self, filters):
        """The queue's page: ``{"reports", "cursor", "assignees"}``, the reports matching ``filters``
        (``find``), each with ``ours`` (it names one of our official numbers: spoofed, not a scam) and
        its number as people read it (``display``), the
        next page's cursor, and the accounts a report may be assigned to."""
        found, cursor = self.find(filters)
        ours = self._ours()
        return {"reports": [{**report, "ours": report["number"] in ours, "display": phones.display(report["number"], self._region)}
                            for report in found], "cursor": cursor, "assignees": self.assignees()}

    def assignees(self):
        """The names of the enabled support and admin accounts, sorted."""
        return self._staff.enabled_with_role(*REVIEWERS) if self._staff else []

    def detail(self, report_id, filters):
        """One report with its neighbours in the queue as ``filters`` (cursor aside) list it, newest
        first: ``{"report", "newer", "older"}``, the neighbours' ids or None; ``NotFound``."""
        report = self.get(report_id)
        second = times.parse(report["received_at"])
        report = {**report, "display": phones.display(report["number"], self._region)}
        return {"report": report, "newer": self._neighbour(filters, second, report["id"], newest_first=False),
                "older": self._neighbour(filters, second, report["id"], newest_first=True)}

    def _neighbour(self, filters, second, report_id, newest_first):
        """The id of the first report past (second, report_id) that matches ``filters``, walking the
        index the queue reads, older (``newest_first``) or newer; None at the end."""
        index = self._reports.index_key(filters.number, filters.status)
        if newest_first:
            start = _start(dataclasses.replace(filters, cursor=_cursor_text(second, report_id)))
        else:  # oldest first: from the report (or ``since``, if it lies before) up to ``until``
            last = filters.until if filters.until is not None else "+inf"
            start = Page(second, report_id, last) if filters.since is None or second >= filters.since else Page(filters.since, None, last)
        chunk = 20
        while True:
            page = self._reports.page(index, start, chunk, newest_first=newest_first)
            for member, score, record in page:
                if record and _matches(record, filters):
                    return member
                start = Page(score, member, start.bottom)
            if len(page) < chunk:
                return None
            chunk = min(chunk * 2, 1000)

    def contact(self, actor, report_id):
        """The reporter's number in full, to call them back (they asked to be contacted): asked for on
        purpose by support, audited. None when the report has none (anonymous, or erased); ``NotFound``."""
        record = self._reports.get(report_id) if len(report_id) <= 32 else None
        if record is None:
            raise NotFound(NO_REPORT)
        e164 = self._contacts.open(record.get("contact_sealed")) if self._contacts else None
        if e164 is None:
            return None
        self._audit.record(actor, "contact_show", report_id)
        return {"e164": e164, "display": phones.display(e164, self._region)}

    def review(self, actor, report_id, status=None, assignee=None, note=None):
        """Change a report's status or assignee and/or add a note: each change lands in the report's
        history and in the audit. ``Invalid``, ``NotFound``."""
        _check_review(status, assignee, note)

        def decide(record):
            return _changes(record, actor.who, status, assignee, note, ours=self.is_ours(record["number"]))

        def audited(record, changes):  # the audit entries, written in the same transaction as the change
            return [self._audit.along(actor, *entry) for entry in _audit_entries(decode(record), decode({**record, **changes}))]

        if len(report_id) > 32:
            raise NotFound(NO_REPORT)
        try:
            return decode(self._reports.change(report_id, decide, along=audited, may_mark=lambda e164: not self.is_ours(e164)))
        except NotFound:
            raise NotFound(NO_REPORT) from None

    def review_many(self, actor, report_ids, status=None, assignee=None):
        """Give the reports ``report_ids`` (the queue's selected rows) a status and/or an assignee ('' for
        nobody): all of them or none, in one transaction, each change in its report's history and one
        audit entry per report and change, as ``review`` writes them. Returns how many reports changed
        (the others already were so); ``Invalid`` naming every problem."""
        ids = list(dict.fromkeys(report_ids))
        _check_bulk(ids, status, assignee, self.assignees())
        changed = {}

        def decide(record):  # may run again when another change gets in first (WATCH): keyed by id
            changes = _changes(record, actor.who, status, assignee, None, ours=self.is_ours(record["number"]))
            changed[record["id"]] = bool(changes)
            return changes

        def audited(record, changes):
            return [self._audit.along(actor, *entry) for entry in _audit_entries(decode(record), decode({**record, **changes}))]

        try:
            self._reports.change_many(ids, decide, along=audited, may_mark=lambda e164: not self.is_ours(e164))
        except NotFound:
            raise Invalid([("reports", GONE)]) from None
        return sum(changed.values())

    def review_request(self, actor, report_id, data):
        """A review sent as an object of status, assignee and note; any other field is refused."""
        errors = []
        fields.no_unknown(data, ("status", "assignee", "note"), errors)
        if errors:
            raise Invalid(errors)
        return self.review(actor, report_id, data.get("status"), data.get("assignee"), data.get("note"))

    def is_ours(self, e164):
        """True when ``e164`` is in the registry of official numbers (as a number or a display variant,
        active or retired): reports about it mean scammers show it, so it is never a known scam."""
        return self._numbers.entry_for(e164) is not None

    def mark_known_scam(self, actor, phone, known):
        """Mark a number as a confirmed scam by hand, or clear it. Audited. ``Conflict`` for marking
        one of our own numbers (clearing it is allowed)."""
        if known and self.is_ours(phone.e164):
            raise Conflict(OURS)
        self._reports.mark_known_scam(phone.e164, known)
        self._audit.record(actor, "number_known_scam" if known else "number_cleared", phones.mask(phone.e164))

    def about_number(self, phone, now=None):
        """Everything support sees about one number: its reports, distinct reporters in 24 h, 7 d and
        30 d, whether it is a known scam, and its registry entry."""
        found, _cursor_ = self.find(Filters(number=phone.e164, limit=200))
        counts = self._reports.reporter_counts(phone.e164, now or int(time.time()))
        return {"reports": found, "counts": {"24h": counts[1], "7d": counts[7], "30d": counts[30]},
                "known": self._reports.is_known_scam(phone.e164), "entry": self._numbers.entry_for(phone.e164)}

    def alerts(self, now=None):
        """Spoofing alerts: our own numbers that people reported lately, most recent activity first."""
        now = now or int(time.time())
        rows = []
        for entry in self._numbers.all_entries():
            counts = self._reports.reporter_counts(entry["number"], now)
            if counts[30]:
                shown = {**entry, "display": phones.display(entry["number"], self._region)}
                rows.append({"entry": shown, "counts": {"24h": counts[1], "7d": counts[7], "30d": counts[30]}})
        rows.sort(key=lambda row: (-row["counts"]["24h"], -row["counts"]["7d"], -row["counts"]["30d"]))
        return rows

    def overview(self, now=None, days=30):
        """Reports per day in the service's zone (oldest first), the most reported numbers (``ours``: one
        of our official numbers, being spoofed), how often each category was named, and the borrowers'
        callback requests waiting and expired (not called back within VERIFY_CALLBACK_TTL)."""
        dates = times.local_days(now or int(time.time()), days, self._zone)
        per_day, top_numbers, categories = self._reports.counts_per_day([start for _date, start in dates])
        ours = self._ours()
        return {
            "days": [{"day": date, "count": count} for (date, _start), count in zip(dates, per_day, strict=False)],
            "top_numbers": [{"number": number, "display": phones.display(number, self._region), "count": int(score),
                             "ours": number in ours} for number, score in top_numbers],
            "categories": {category: int(categories.get(category, 0)) for category in CATEGORIES},
            "callbacks": self._callback_requests.counts() if self._callback_requests else {"open": 0, "expired": 0},
        }

    def _ours(self):
        """Our official numbers and their display variants (E.164)."""
        return {e164 for entry in self._numbers.all_entries() for e164 in [entry["number"], *entry["variants"]]}

    def export_rows(self, filters, limit=10000, page=200):
        """Up to ``limit`` reports matching ``filters``, each with ``EXPORT_FIELDS`` only, read ``page``
        at a time. Times are ISO 8601 in the service's zone with its offset: 2026-11-29T14:05:00+08:00."""
        rows, cursor = [], None
        while len(rows) < limit:
            found, cursor = self.find(dataclasses.replace(filters, cursor=cursor, limit=min(page, limit - len(rows))))
            rows += [self._export_row(report) for report in found]
            if cursor is None:
                return rows
        return rows

    def _export_row(self, report):
        row = {field: report[field] for field in EXPORT_FIELDS}
        return {**row, **{f: times.local_iso(row[f], self._zone) for f in ("occurred_at", "received_at")}}

    def spoofing_totals(self):
        """Reports naming each official number (all time), and reports per review status: for /metrics."""
        numbers = [entry["number"] for entry in self._numbers.all_entries()]
        return self._reports.totals_by_number(numbers), self._reports.count_by_status(STATUSES)


def _matches(record, filters):
    if filters.status and record["status"] != filters.status:
        return False
    return not filters.category or filters.category in record["categories"].split(",")


def _check_review(status, assignee, note):
    errors = []
    if status is not None and status not in STATUSES:
        errors.append(("status", f"must be one of {', '.join(STATUSES)}"))
    if assignee is not None and (not isinstance(assignee, str) or len(assignee) > 32 or fields.has_control_characters(assignee)):
        errors.append(("assignee", N_("must be a staff name")))
    if note is not None and (not isinstance(note, str) or not note.strip() or len(note) > MAX_TEXT
                             or fields.has_control_characters(note)):
        errors.append(("note", Said(N_("must be a text of 1 to %(max)s characters, without control characters"),
                                    max=MAX_TEXT)))
    if errors:
        raise Invalid(errors)


def _check_bulk(ids, status, assignee, assignees):
    errors = []
    if not ids:
        errors.append(("reports", NONE_SELECTED))
    elif len(ids) > MAX_BULK:
        errors.append(("reports", TOO_MANY))
    elif not all(isinstance(i, str) and _ID.fullmatch(i) for i in ids):
        errors.append(("reports", GONE))
    if status is None and assignee is None:
        errors.append(("action", NO_ACTION))
    if status is not None and status not in STATUSES:
        errors.append(("status", BAD_STATUS))
    if assignee is not None and assignee != "" and assignee not in assignees:
        errors.append(("assignee", NOT_A_REVIEWER))
    if errors:
        raise Invalid(errors)


def _changes(record, who, status, assignee, note, ours=False):
    """The fields a review changes, with an entry in the history for each change (``ours``: the report
    names one of our official numbers, which a confirmation does not mark as a scam)."""
    now, history, changes = times.iso(), json.loads(record["history"]), {}
    if status is not None and status != record["status"]:
        changes["status"] = status
        history.append({"at": now, "by": who, "change": f"status {record['status']} -> {status}"})
        if status == "confirmed_scam" and ours:
            history.append({"at": now, "by": who, "change": NOT_MARKED})
    if assignee is not None and assignee != record["assignee"]:
        changes["assignee"] = assignee
        history.append({"at": now, "by": who, "change": f"assigned to {assignee or 'nobody'}"})
    if note is not None:
        notes = json.loads(record["notes"]) + [{"at": now, "by": who, "text": note.strip()}]
        changes["notes"] = json.dumps(notes, ensure_ascii=False)
        history.append({"at": now, "by": who, "change": "note added"})
    if changes:
        changes["history"] = json.dumps(history, ensure_ascii=False)
    return changes


def _audit_entries(before, after):
    """What a review changed, as audit entries ``(action, target, detail)``."""
    entries = []
    if before["status"] != after["status"]:
        entries.append(("report_status", after["id"], f"{before['status']} -> {after['status']}"))
    if before["assignee"] != after["assignee"]:
        entries.append(("report_assign", after["id"], after["assignee"]))
    if len(after["notes"]) > len(before["notes"]):
        entries.append(("report_note", after["id"], ""))
    return entries
