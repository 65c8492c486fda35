"""The one place where the Lua scripts' replies are read: each reply (names and values, see
``store.pairs``) becomes a dataclass or an enum here, so no sentinel leaves the registry."""

import enum
import json
from dataclasses import dataclass

from verify.registry.store import pairs
from verify.verdicts import CodeOutcome


@dataclass(frozen=True)
class SessionFacts:
    """What a genuine code check found: the session as stored (never its code)."""

    id: str
    caller: str
    agent_id: str
    agent_name: str
    purpose: str
    created: float  # Unix seconds, to the microsecond
    expires: float


@dataclass(frozen=True)
class CodeCheck:
    """A code check: ``outcome``; ``session`` only when it matched; ``retry_after`` only when locked."""

    outcome: CodeOutcome
    session: SessionFacts | None = None
    retry_after: int | None = None


def code_check(reply, tag):
    """Read a code check's pairs (``lua/_code_check.lua``) for the borrower whose tag it is."""
    outcome = reply["outcome"]
    if outcome == "locked":
        return CodeCheck(CodeOutcome(locked=True, matched=False, session_exists=False), retry_after=int(reply["wait"]))
    if outcome == "genuine":
        return CodeCheck(CodeOutcome(locked=False, matched=True, session_exists=True), session_facts(reply, tag))
    return CodeCheck(CodeOutcome(locked=False, matched=False, session_exists=bool(int(reply["active"]))))


@dataclass(frozen=True)
class NewSession:
    """A session just opened: its id, the code to read out, and its times (Unix seconds). ``again``: a
    retry of the same request found the session it opened (``code`` is then as sealed for retries);
    ``reused``: its Idempotency-Key came with another request (nothing opened); ``live``: the borrower
    has a live session that was not to be replaced (this is it; nothing opened, no code)."""

    id: str
    code: str
    created: int
    expires: int
    again: bool = False
    reused: bool = False
    live: bool = False


def opened(reply, tag, session_id, code):
    """Read a session open's reply (``lua/session_open.lua``) as ``NewSession``."""
    if reply["opened"] == "reused":
        return NewSession("", "", 0, 0, reused=True)
    created, expires = int(float(reply["created"])), int(float(reply["expires"]))
    if reply["opened"] == "again":
        return NewSession(f"{tag}-{reply['sx']}", reply["code"], created, expires, again=True)
    if reply["opened"] == "live":
        return NewSession(f"{tag}-{reply['sx']}", "", created, expires, live=True)
    return NewSession(session_id, code, created, expires)


def session_facts(fields, tag):
    """A session hash's (or a genuine reply's) short fields as ``SessionFacts``."""
    return SessionFacts(id=f"{tag}-{fields['sx']}", caller=fields["cl"], agent_id=fields["ai"], agent_name=fields["an"],
                        purpose=fields["pu"], created=float(fields["ct"]), expires=float(fields["ex"]))


@dataclass(frozen=True)
class LastContact:
    """The borrower's last genuine contact with us (a session confirmed by a right code, or ended):
    when (Unix seconds, Redis's clock), the number we called from (E.164) and the agent's id."""

    at: int
    caller: str
    agent_id: str


def last_contact(text):
    """Read a last-contact record (``lua/_last_contact.lua``); None when there is none (or it is gone)."""
    if not text:
        return None
    record = json.loads(text)
    return LastContact(int(record["at"]), record["cl"], record["ai"])


class ClaimState(enum.Enum):
    """What claiming an inbound message found."""

    NEW = "new"  # first delivery, within the sender's limit: answer it
    LIMITED = "limited"  # first delivery, past the sender's limit
    DUPLICATE = "duplicate"  # delivered before: give the same answer
    CHECKED = "checked"  # a texted code, claimed and checked in the same call


@dataclass(frozen=True)
class Claim:
    """A claimed message. ``count``: the sender's messages in the window (limited). For a duplicate:
    ``reply`` as sent ('' for none; None while the first delivery is still answering) or ``check``,
    the code check kept with the claim. For a checked code: ``check``."""

    state: ClaimState
    count: int = 0
    reply: str | None = None
    check: CodeCheck | None = None


def claim(raw, tag):
    """Read a claim's reply (``lua/_message_claim.lua``, ``lua/message_code_check.lua``)."""
    reply = pairs(raw)
    state = ClaimState(reply["claim"])
    if state is ClaimState.LIMITED:
        return Claim(state, count=int(reply["count"]))
    if state is ClaimState.CHECKED:
        return Claim(state, check=code_check(reply, tag))
    if state is ClaimState.DUPLICATE:
        return _duplicate(reply, tag)
    return Claim(state)


def _duplicate(held, tag):
    if held.get("state") == "checked":
        kept = json.loads(held["check"])
        return Claim(ClaimState.DUPLICATE, check=code_check(pairs([None if v is False else v for v in kept]), tag))
    return Claim(ClaimState.DUPLICATE, reply=held.get("reply") if held.get("state") == "answered" else None)


@dataclass(frozen=True)
class Hit:
    """A counted hit on a limit: ``count`` in the first window, ``retry_after`` seconds (0 when allowed)."""

    count: int
    retry_after: int

    @property
    def allowed(self):
        """True when no window is past its allowance."""
        return self.retry_after == 0


def hit(raw):
    """Read a limit hit's reply (``lua/limit.lua``)."""
    reply = pairs(raw)
    return Hit(int(reply["count"]), int(reply["wait"]))


class Filed(enum.Enum):
    """What a report write did."""

    YES = "yes"
    LIMITED = "limited"  # the client's report limit is reached: nothing written
    ID_TAKEN = "id_taken"  # that reference is in use: nothing written, draw another
    AGAIN = "again"  # the same request (Idempotency-Key) was filed before: nothing written
    REUSED = "reused"  # its Idempotency-Key came with another request before: nothing written


@dataclass(frozen=True)
class Written:
    """A report write's outcome; ``wait``: seconds until the client may file again (``LIMITED``);
    ``earlier``: ``(id, received time)`` of the report filed before (``AGAIN``)."""

    outcome: Filed
    wait: int = 0
    earlier: tuple | None = None


def filed(raw):
    """Read a report write's reply (``lua/report_write.lua``) as ``Written``."""
    reply = pairs(raw)
    earlier = (reply["id"], int(reply["at"])) if "id" in reply else None
    return Written(Filed(reply["filed"]), int(reply.get("wait", 0)), earlier)


@dataclass(frozen=True)
class Asked:
    """What asking for a callback did: ``outcome`` yes (stored), already (the number has an open request:
    that one), limited (``wait`` seconds) or id_taken; ``id``, ``created`` and ``expires`` (Unix seconds)
    of the new or the open request."""

    outcome: str
    id: str = ""
    created: float = 0.0
    expires: float = 0.0
    wait: int = 0


def asked(reply):
    """Read a callback request's reply (``lua/callback_request_open.lua``) as ``Asked``."""
    if "id" in reply:
        return Asked(reply["request"], reply["id"], float(reply["created"]), float(reply["expires"]))
    return Asked(reply["request"], wait=int(reply.get("wait", 0)))


@dataclass(frozen=True)
class Closed:
    """What closing a callback request did: ``outcome`` now, before (closed already, by ``session_id``)
    or unknown; ``at``: when it was closed (Unix seconds)."""

    outcome: str
    session_id: str | None = None
    at: int | None = None


def closed(reply):
    """Read a callback request's close (``lua/callback_request_done.lua``) as ``Closed``."""
    return Closed(reply["done"], reply.get("session"), int(reply["at"]) if "at" in reply else None)
