"""The rules that turn registry, session and report facts into verdicts. No Flask, no Redis.

Verdict strings are part of the API and stay stable.
"""

from dataclasses import dataclass

# Number check
OFFICIAL = "official"
INBOUND_ONLY = "inbound_only"
RETIRED = "retired"
LOOKALIKE = "lookalike"
KNOWN_SCAM = "known_scam"
REPORTED = "reported"
UNKNOWN = "unknown"
# Call verification
GENUINE = "genuine"
NOT_VERIFIED = "not_verified"
NOT_CALLING = "not_calling"
LOCKED = "locked"
# Both: the store failed, so nothing can be confirmed (fail closed)
UNAVAILABLE = "unavailable"

NUMBER_VERDICTS = (OFFICIAL, INBOUND_ONLY, RETIRED, LOOKALIKE, KNOWN_SCAM, REPORTED, UNKNOWN, UNAVAILABLE)
CALL_VERDICTS = (GENUINE, NOT_VERIFIED, NOT_CALLING, LOCKED, UNAVAILABLE)

# Session states reported to the call centre
ACTIVE, CONFIRMED, ENDED, EXPIRED = "active", "confirmed", "ended", "expired"
SESSION_STATES = (ACTIVE, CONFIRMED, ENDED, EXPIRED, LOCKED)


@dataclass(frozen=True)
class NumberFacts:
    """What the store knows about a number that called.

    ``entry``: the registry entry it belongs to (as the number or a display variant), else None.
    ``imitated``: an active official entry whose digits it carries, else None.
    """

    entry: dict | None
    imitated: dict | None
    reporters_30d: int
    known_scam: bool


def number_verdict(facts, reported_threshold):
    """Pick the number verdict. Registry facts win; reports can only make a number look worse."""
    if facts.entry is not None:
        if facts.entry["status"] == "retired":
            return RETIRED
        if facts.entry["direction"] == "inbound_only":
            return INBOUND_ONLY
        return OFFICIAL
    if facts.known_scam:
        return KNOWN_SCAM
    if facts.imitated is not None:
        return LOOKALIKE
    if facts.reporters_30d >= reported_threshold:
        return REPORTED
    return UNKNOWN


IMPERSONATED_REPORTERS = 2


def impersonated(facts):
    """Reports naming one of our own numbers are a spoofing signal: scammers show our number. The
    public warning needs two distinct reporters, so that one stranger cannot put it on an official
    number (the staff's alert fires on one)."""
    return facts.entry is not None and facts.reporters_30d >= IMPERSONATED_REPORTERS


@dataclass(frozen=True)
class CodeOutcome:
    """What the atomic code check found: ``matched`` only for an active session, right code and caller."""

    locked: bool
    matched: bool
    session_exists: bool


def call_verdict(outcome, channel="web"):
    """Pick the call verdict for a code check.

    On the web and API a wrong code, an expired session and no session look the same (not_verified),
    so nobody can probe who is a borrower. By SMS the reply goes to the borrower's own phone, so it
    may say that no call is being made (not_calling).
    """
    if outcome.locked:
        return LOCKED
    if outcome.matched:
        return GENUINE
    if channel == "sms" and not outcome.session_exists:
        return NOT_CALLING
    return NOT_VERIFIED


def session_state(ended, expired, locked, successes):
    """The state shown to the call centre; ended and expired are final, locked (no channel is left to
    verify on) wins over the rest."""
    if ended:
        return ENDED
    if expired:
        return EXPIRED
    if locked:
        return LOCKED
    if successes:
        return CONFIRMED
    return ACTIVE


def mask_name(name):
    """Show an agent's name to a borrower without giving it away: 王小明 -> 王**, Li Wei -> L**.

    Always two stars, so the mask does not tell the name's length either.
    """
    return name.strip()[:1] + "**"
