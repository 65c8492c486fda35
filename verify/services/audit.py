"""The audit trail: who did what, when (UTC), from which IP. Never a code or a full phone number in
it: operations pass masked or hashed values."""

import hashlib
import hmac
import re

from verify import times
from verify.errors import Invalid

ACTIONS = (
    "login", "login_failed", "logout", "report_status", "report_assign", "report_note", "number_known_scam",
    "number_cleared", "registry_add", "registry_update", "key_create", "key_revoke", "staff_create",
    "staff_disable", "staff_update", "session_start", "session_replace", "session_end", "purge", "report_erase",
    "contact_show", "callback_request", "callback_number_show", "callback_done",
)
_CURSOR = re.compile(r"^\d{1,20}-\d{1,20}$")


def _stream_id(text):
    # An id Redis accepts as the end of a range: both parts below 2^64, not 0-0.
    ms, seq = (int(part) for part in text.split("-"))
    return ms < 2**64 and seq < 2**64 and (ms, seq) != (0, 0)


class Audit:
    """Writes and reads the audit trail (``registry.audit.AuditLog``). The client's address is kept
    as a keyed pseudonym (``ip:`` and 16 hex characters): the same address always gives the same
    one, so an investigation can follow it, and whoever holds the key can test an address."""

    def __init__(self, log, hmac_key):
        self._log = log
        self._hmac_key = hmac_key

    def pseudonym(self, ip):
        """The audit's name for a client address ('' for none)."""
        if not ip:
            return ""
        return "ip:" + hmac.new(self._hmac_key, f"audit-ip|{ip}".encode(), hashlib.sha256).hexdigest()[:16]

    def record(self, actor, action, target="", detail=""):
        """Append one entry for ``actor`` (an ``Actor``)."""
        self._log.append(self._entry(actor, action, target, detail))

    def along(self, actor, action, target="", detail="", only_if=None):
        """``record``'s entry as a call for the registry to run in one script with the write it
        records: both happen, or neither (``only_if``: see ``AuditLog.append_call``)."""
        return self._log.append_call(self._entry(actor, action, target, detail), only_if)

    def _entry(self, actor, action, target, detail):
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        return {"at": times.iso(), "who": actor.who, "action": action, "target": target,
                "ip": self.pseudonym(actor.ip), "detail": detail[:300]}

    def entries(self, who=None, action=None, before=None, limit=100):
        """The newest entries first, filtered by ``who`` and ``action`` (unknown actions: no filter);
        ``before`` is the cursor a previous page gave. Returns ``(entries, next_cursor)``."""
        if before and not (_CURSOR.match(before) and _stream_id(before)):
            raise Invalid([("cursor", "is not a cursor this service gave out")])
        action = action if action in ACTIONS else None
        return self._log.newest(
            lambda entry: (who is None or entry.get("who") == who) and (action is None or entry.get("action") == action),
            before=before, limit=limit)
