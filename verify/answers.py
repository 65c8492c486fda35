"""The answers a borrower gets, whatever the channel (API, web page, SMS): a number's verdict with
what to do, and a code's verdict with what may be shown of the session. Views only shape them."""

import time
from dataclasses import dataclass

from verify import advice, phones
from verify import verdicts as v
from verify.errors import StoreUnavailable
from verify.registry import numbers


@dataclass(frozen=True)
class NumberAnswer:
    """A number check: ``facts`` is None when the store failed (verdict ``unavailable``)."""

    verdict: str
    facts: v.NumberFacts | None
    imitated: str | None  # how the imitated official number is shown, for lookalikes
    advice: dict


def for_number(svc, phone):
    """Look ``phone`` up (one round trip) and decide; a store failure is the ``unavailable`` answer."""
    try:
        facts = numbers.lookup(svc.store, phone, int(time.time()), svc.registry)
    except StoreUnavailable:
        return NumberAnswer(v.UNAVAILABLE, None, None, advice.for_number(v.UNAVAILABLE, svc.brand))
    verdict = v.number_verdict(facts, svc.reported_threshold)
    imitated = phones.display(facts.imitated["number"], svc.region) if facts.imitated else None
    texts = advice.for_number(verdict, svc.brand, imitated=imitated, impersonated=v.impersonated(facts))
    return NumberAnswer(verdict, facts, imitated, texts)


@dataclass(frozen=True)
class CallAnswer:
    """A code check: ``session`` (what may be shown) only for genuine, ``retry_after`` only for locked."""

    verdict: str
    advice: dict
    session: dict | None = None
    retry_after: int | None = None


def shown_session(details, region):
    """What a borrower may see of a genuine session: masked agent name, agent id, calling number,
    purpose and times (never the code)."""
    return {
        "agent_name": v.mask_name(details["agent_name"]),
        "agent_id": details["agent_id"],
        "caller": details["caller"],
        "caller_display": phones.display(details["caller"], region),
        "purpose": details["purpose"],
        "created": details["created"],
        "expires": details["expires"],
    }


def for_code(svc, borrower, code, caller=None, channel="api"):
    """Check a code for ``borrower`` (one round trip); a store failure is the ``unavailable`` answer."""
    try:
        outcome, details = svc.sessions.check(borrower, code, caller)
    except StoreUnavailable:
        return CallAnswer(v.UNAVAILABLE, advice.for_call(v.UNAVAILABLE, svc.brand))
    return call_answer(svc, outcome, details, channel)


def call_answer(svc, outcome, details, channel):
    """The answer for a code check that was already made (the SMS path claims and checks at once)."""
    verdict = v.call_verdict(outcome, channel)
    return CallAnswer(
        verdict,
        advice.for_call(verdict, svc.brand),
        session=shown_session(details, svc.region) if verdict == v.GENUINE else None,
        retry_after=details.get("retry_after") if verdict == v.LOCKED else None,
    )
