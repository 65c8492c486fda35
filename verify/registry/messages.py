"""Inbound SMS bookkeeping: one claim per Twilio MessageSid (with the reply), a per-sender rate
limit, and opt-outs.

Claims and rate counters live under the sender's borrower tag, next to their session keys.

  {T}:m:<MessageSid>   the reply sent for that message ('' while it is being answered), 48 h; for
                       a texted code, OUTCOME + the code check's outcome as JSON, kept by the same
                       call that checked it (the reply is made from it again, word for word)
  {T}:r                messages from this sender in the current window
  {optout}:numbers     set of HMACs of numbers that texted STOP
"""

import re
import time

from verify.registry.store import unavailable_on_error

CLAIM_SECONDS = 48 * 3600
OUTCOME = "\x01"  # marks a kept code-check outcome; no reply text starts with a control character
OUTCOME_LUA = "\\1"  # the same character, written in Lua
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")



def claim_lua(keys_from=1, args_from=1):
    """The claim as Lua: KEYS claim and rate counter, ARGV claim ttl, limit and window, from the given
    positions. Returns early with {'dup', reply} or {'limited', n} (the claim then holds ''); otherwise
    falls through, so a script can go on with the message's own work in the same round trip. That
    work ends by writing the claim: '' while the reply is being made, or what the reply is made of."""
    k1, k2 = keys_from, keys_from + 1
    a1, a2, a3 = args_from, args_from + 1, args_from + 2
    return f"""
local prior = redis.call('GET', KEYS[{k1}])
if prior then return {{'dup', prior}} end
local n = redis.call('INCR', KEYS[{k2}])
if n == 1 then redis.call('EXPIRE', KEYS[{k2}], ARGV[{a3}]) end
if n > tonumber(ARGV[{a2}]) then
  redis.call('SET', KEYS[{k1}], '', 'EX', ARGV[{a1}])
  return {{'limited', n}}
end
"""


_CLAIM = claim_lua() + "redis.call('SET', KEYS[1], '', 'EX', ARGV[1])\nreturn {'new', n}\n"


class Messages:
    """Claims, rate limits and opt-outs, bound to one store; created once in the app factory."""

    def __init__(self, store, limit=10, window=600):
        self.store = store
        self.limit = limit
        self.window = window
        self._claim = store.script(_CLAIM)

    @staticmethod
    def valid_sid(message_sid):
        """Twilio's MessageSid looks like SM + 32 hex characters; anything odd is not deduplicated."""
        return bool(message_sid and _SID.match(message_sid))

    def claim_keys(self, tag, message_sid):
        """The claim's KEYS (claim, rate counter) and ARGV (ttl, limit, window), for ``claim_lua``."""
        return [self.store.key(tag, f"m:{message_sid}"), self.store.key(tag, "r")], [CLAIM_SECONDS, self.limit, self.window]

    @unavailable_on_error
    def claim(self, tag, message_sid):
        """Claim a message: ``("new", n)``, ``("limited", n)`` (n-th message in the window), or
        ``("dup", reply)`` with the reply already sent ('' while the first delivery is answering)."""
        keys, args = self.claim_keys(tag, message_sid)
        outcome, value = self._claim(keys=keys, args=args)
        return outcome, value

    @unavailable_on_error
    def remember_reply(self, tag, message_sid, reply):
        """Store the reply with the claim, so a retried delivery gets the same text."""
        self.store.redis.set(self.store.key(tag, f"m:{message_sid}"), reply, xx=True, keepttl=True)

    @unavailable_on_error
    def wait_for_reply(self, tag, message_sid, seconds=1.5):
        """The reply another delivery of the same message is writing; None if it does not come in time."""
        key = self.store.key(tag, f"m:{message_sid}")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            reply = self.store.redis.get(key)
            if reply:
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
