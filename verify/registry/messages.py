"""Inbound SMS bookkeeping: one claim per Twilio MessageSid (with the reply), the per-sender message
limit (the limiter's counter), and opt-outs.

Claims and message counters live under the sender's borrower tag, next to their session keys.

  {T}:c:<MessageSid>   hash, 48 h: state (answering, answered or checked), reply (the text sent, ''
                       for none) or check (a texted code's check, kept by the call that made it, so
                       the reply is made from it again, word for word)
  {T}:l:sms:<s>        messages from this sender in the current window
  {optout}:numbers     set of HMACs of numbers that texted STOP
The hotline's calls claim their steps the same way, as {T}:c:<CallSid>:<step> (see voice.py).
"""

import re
import time

from verify.registry import replies
from verify.registry.sessions import CONTACT_SECONDS, OWN
from verify.registry.store import unavailable_on_error

CLAIM_SECONDS = 48 * 3600
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")


class Messages:
    """Claims, the message limit and opt-outs, bound to one store; made once by the factory."""

    def __init__(self, store, sessions, limit=10, window=600):
        self.store = store
        self.sessions = sessions
        self.limit = limit
        self.window = window
        self._claim = store.script("message_claim")
        self._claim_and_check = store.script("message_code_check")

    @staticmethod
    def valid_sid(message_sid):
        """Twilio's MessageSid looks like SM + 32 hex characters; anything odd is not deduplicated."""
        return bool(message_sid and _SID.match(message_sid))

    def _claim_keys(self, tag, message_sid):
        counter = self.sessions.limits.counters(tag, "sms", [(self.limit, self.window)])[0]
        return [self.store.key(tag, f"c:{message_sid}"), counter]

    @unavailable_on_error
    def claim(self, tag, message_sid):
        """Claim a message from the sender whose tag it is: a ``replies.Claim`` (new, limited, duplicate)."""
        raw = self._claim(keys=self._claim_keys(tag, message_sid), args=[CLAIM_SECONDS, self.limit, self.window])
        return replies.claim(raw, tag)

    @unavailable_on_error
    def claim_and_check(self, tag, message_sid, code):
        """A texted code: claim the message and check the code in one round trip; a ``replies.Claim``
        (checked, with the check, or limited or duplicate as ``claim`` says)."""
        sessions = self.sessions
        # Texted from the borrower's own phone: counted apart from codes anyone can type for it.
        keys = [sessions.session_key(tag), sessions.lockout_key(tag, OWN), *self._claim_keys(tag, message_sid),
                sessions.contact_key(tag)]
        args = [sessions.code_hmac(tag, code), *sessions.lockout_args(), CLAIM_SECONDS, self.limit, self.window,
                CONTACT_SECONDS]
        return replies.claim(self._claim_and_check(keys=keys, args=args), tag)

    @unavailable_on_error
    def remember_reply(self, tag, message_sid, reply):
        """Keep the reply sent ('' for none) with the claim, so a second delivery gets the same."""
        key = self.store.key(tag, f"c:{message_sid}")
        with self.store.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"state": "answered", "reply": reply})
            pipe.expire(key, CLAIM_SECONDS)
            pipe.execute()

    @unavailable_on_error
    def wait_for_reply(self, tag, message_sid, seconds=1.5):
        """The reply another delivery of the same message is making ('' for none); None if it does not
        come in time."""
        key = self.store.key(tag, f"c:{message_sid}")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            state, reply = self.store.redis.hmget(key, "state", "reply")
            if state == "answered":
                return reply
            time.sleep(0.02)
        return None

    def _optout_key(self):
        return self.store.key("optout", "numbers")

    @unavailable_on_error
    def opt_out(self, number_hmac):
        """Record STOP: no more notices to this number."""
        self.store.redis.sadd(self._optout_key(), number_hmac)

    @unavailable_on_error
    def opt_in(self, number_hmac):
        """Record START: notices may be sent again."""
        self.store.redis.srem(self._optout_key(), number_hmac)

    @unavailable_on_error
    def opted_out(self, number_hmac):
        """True when the number texted STOP (and not START since)."""
        return bool(self.store.redis.sismember(self._optout_key(), number_hmac))
