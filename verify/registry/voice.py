"""Calls to the hotline: one claim per step of a Twilio call (its CallSid and the step: Twilio may
request a step twice, after a timeout), and the caller's limits on calls and on codes keyed in (the
limiter's counters). The claims are the inbound texts' (``messages.py``), run by the same Lua.

Claims and counters live under the caller's borrower tag, next to their session keys.

  {T}:c:<CallSid>:<step>   hash, 48 h: the first request of a call (state answered, reply '' or
                           'limited'), or a keyed-in code (state checked, check: the code check's
                           outcome; or state answering when the caller's code limit refused it)
  {T}:l:voice-call:<s>     calls from this number in the current window
  {T}:l:voice-code:<s>     codes keyed in by this number in the current window
"""

from verify.registry import replies
from verify.registry.messages import CLAIM_SECONDS, Messages
from verify.registry.sessions import CONTACT_SECONDS
from verify.registry.store import unavailable_on_error


class CallSteps:
    """Claims of call steps and the callers' limits, bound to the sessions' store; made once by the factory."""

    def __init__(self, sessions, call_limit=10, code_limit=6, window=3600):
        self.store = sessions.store
        self.sessions = sessions
        self.call_limit = call_limit
        self.code_limit = code_limit
        self.window = window
        self._claim_call = self.store.script("call_claim")
        self._claim_and_check = self.store.script("message_code_check")

    valid_sid = staticmethod(Messages.valid_sid)  # a CallSid looks like a MessageSid: CA + 32 hex characters

    def _keys(self, tag, call_sid, step, limit, amount):
        counter = self.sessions.limits.counters(tag, limit, [(amount, self.window)])[0]
        return [self.store.key(tag, f"c:{call_sid}:{step}"), counter]

    @unavailable_on_error
    def claim_call(self, e164, call_sid):
        """Claim the first request of a call from ``e164``, counted on
        its call limit: a ``replies.Claim`` (new, limited, or duplicate with the reply kept: '' or 'limited')."""
        tag = self.sessions.tag(e164)
        keys = self._keys(tag, call_sid, "start", "voice-call", self.call_limit)
        return replies.claim(self._claim_call(keys=keys, args=[CLAIM_SECONDS, self.call_limit, self.window]), tag)

    @unavailable_on_error
    def claim_and_check(self, e164, call_sid, step, code, kind):
        """A code keyed in for the borrower ``e164`` at ``step`` of a call: claim the step, count it on the caller's code limit and
        check the code against ``kind`` of channel's lockout, in one round trip. A ``replies.Claim``:
        checked (with the check), duplicate (with the first check, or none when the limit refused it)
        or limited."""
        sessions = self.sessions
        tag = sessions.tag(e164)
        keys = [sessions.session_key(tag), sessions.lockout_key(tag, kind),
                *self._keys(tag, call_sid, step, "voice-code", self.code_limit), sessions.contact_key(tag)]
        args = [sessions.code_hmac(tag, code), *sessions.lockout_args(), CLAIM_SECONDS, self.code_limit, self.window,
                CONTACT_SECONDS]
        return replies.claim(self._claim_and_check(keys=keys, args=args), tag)
