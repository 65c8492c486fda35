"""Verifying a call with the code the caller read out: the answer a borrower gets on every channel."""

from dataclasses import dataclass

from verify import phones, times
from verify import verdicts as v
from verify.errors import AreaCodeNeeded, Invalid, RateLimited, StoreUnavailable
from verify.registry.sessions import ANY, OWN
from verify.services import advice, fields
from verify.services.limits import API_VERIFY


@dataclass(frozen=True)
class CallAnswer:
    """A code check: ``session`` (what may be shown) only for genuine, ``retry_after`` only for locked."""

    verdict: str
    advice: dict
    session: dict | None = None
    retry_after: int | None = None


class CallChecks:
    """The code check, bound to the session store and the settings it needs."""

    def __init__(self, sessions, client_limits, region, brand, call_steps=None, numbers=None):
        self._sessions = sessions
        self._numbers = numbers  # the registry: a caller typed without its area code is one of our lines
        self._client_limits = client_limits
        self._call_steps = call_steps
        self._region = region
        self._brand = brand

    def read(self, data):
        """The borrower's own mobile, the code and (optional) the number that called, from an API body;
        ``Invalid`` listing every problem."""
        errors = []
        fields.no_unknown(data, ("phone", "code", "caller"), errors)
        phone = fields.number(data, "phone", errors, self._region, reader=phones.normalise_mobile)
        code = fields.code(data, errors)
        caller = fields.number(data, "caller", errors, self._region, reader=phones.parse, required=False)
        if errors:
            raise Invalid(errors)
        return phone, code, caller

    def read_status(self, data):
        """The borrower's own mobile and (optional) the number calling them, from a call-status query;
        ``Invalid`` listing every problem."""
        errors = []
        fields.no_unknown(data, ("borrower", "caller"), errors)
        borrower = fields.number(data, "borrower", errors, self._region, reader=phones.normalise_mobile)
        caller = fields.number(data, "caller", errors, self._region, reader=phones.parse, required=False)
        if errors:
            raise Invalid(errors)
        return borrower, caller

    def status(self, borrower, caller=None):
        """Is the lender calling ``borrower`` now (from ``caller``, when given: the session's number or
        one of its variants), for the lender's own app: one round trip that checks no code and counts
        nothing. ``calling_now`` with the session's masked details, else ``not_calling``; every field is
        there, None where it does not apply. ``StoreUnavailable`` when the store fails."""
        caller_e164 = self._caller(caller)
        status = self._sessions.status(borrower.e164)
        last = status.last_contact
        body = {"state": "not_calling", "agent_id": None, "agent_name": None, "caller": None, "since": None,
                "expires_at": None, "last_contact_at": times.iso(last.at) if last else None}
        live = status.live
        if live is None or (caller_e164 is not None and caller_e164 not in status.callers):
            return body  # no session, or a number that is not ours for it: whoever calls is not us
        return {**body, "state": "calling_now", "agent_id": live.agent_id, "agent_name": v.mask_name(live.agent_name),
                "caller": live.caller, "since": times.iso(live.created), "expires_at": times.iso(live.expires)}

    def verify(self, borrower, code, caller=None, channel="api", client_ip=None, once=None):
        """Check a code for ``borrower`` (one round trip); a store failure is the ``unavailable`` answer.
        With ``client_ip`` (the public API) the check counts against that client's API limit in the
        same round trip (``RateLimited`` past it: the code was still checked, a wrong one counted for
        the phone's web/API lockout, but nothing of the answer is given). With ``once`` (the hotline:
        ``(CallSid, step)``) the code is checked once per step of the call, whatever Twilio repeats, and
        counted on the caller's code limit first (``RateLimited`` past it: nothing checked)."""
        kind = OWN if channel == "sms" else ANY  # only a text comes from the borrower's own phone
        try:
            checked = self._check(borrower, code, self._caller(caller), kind, client_ip, once)
        except StoreUnavailable:
            return CallAnswer(v.UNAVAILABLE, advice.for_call(v.UNAVAILABLE, self._brand))
        return self.answer(checked, channel)

    def _caller(self, caller):
        # The number the borrower says called, as E.164: digits typed without the area code (6080 0000)
        # are the one line of ours they belong to; of several, the borrower is asked for the area code.
        if caller is None:
            return None
        lines = self._numbers.local_lines_stored(caller) if self._numbers is not None and caller.local else []
        if len(lines) > 1:
            raise AreaCodeNeeded(caller.typed, [phones.display(line, self._region) for line in lines])
        return lines[0] if lines else caller.e164

    def _check(self, borrower, code, caller_e164, kind, client_ip, once):
        if once is not None:
            steps = self._call_steps
            claim = steps.claim_and_check(borrower.e164, *once, code, kind)
            if claim.check is None:  # refused by the caller's code limit, now or when first asked
                raise RateLimited(steps.window)
            return claim.check
        if client_ip is None:
            return self._sessions.check(borrower.e164, code, caller_e164, kind)
        limits = self._client_limits.calls(API_VERIFY, client_ip)
        hits, checked = self._sessions.check_after(limits, borrower.e164, code, caller_e164, kind)
        self._client_limits.settle(API_VERIFY, hits)
        return checked

    def answer(self, checked, channel):
        """The answer for a code check already made (``replies.CodeCheck``; the SMS path claims and checks at once)."""
        verdict = v.call_verdict(checked.outcome, channel)
        return CallAnswer(
            verdict,
            advice.for_call(verdict, self._brand),
            session=self.shown(checked.session) if verdict == v.GENUINE else None,
            retry_after=checked.retry_after if verdict == v.LOCKED else None,
        )

    def shown(self, facts):
        """What a borrower may see of a genuine session: masked agent name, agent id, calling number,
        purpose and times (never the code)."""
        return {
            "agent_name": v.mask_name(facts.agent_name),
            "agent_id": facts.agent_id,
            "caller": facts.caller,
            "caller_display": phones.display(facts.caller, self._region),
            "purpose": facts.purpose,
            "created": int(facts.created),
            "expires": int(facts.expires),
        }
