"""The one limiter: every limit verify keeps is counted by the Lua functions in ``lua/_limiter.lua``
(a counter per subject and window, started by its first hit, gone when the window ends), here for
a page's per-client limits and the staff login lockout, inside the other scripts for the code
lockout, the report limit and the SMS per-sender limit (atomic with the work they guard, in the same
round trip). Subjects are keyed HMACs: no client IP or phone number appears in a key.

  {<subject tag>}:l:<limit>:<window seconds>   hits in the current window (TTL: the rest of it)
"""

import functools
import hashlib
import hmac

from verify.registry import replies
from verify.registry.store import unavailable_on_error

SUBJECT_CHARS = 24


@functools.lru_cache(maxsize=8192)
def _subject(hmac_key, kind, value):
    # Remembered for the last 8,192 subjects: every limited request names one or two.
    return hmac.new(hmac_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:SUBJECT_CHARS]


class Limits:
    """Counters of hits per subject and window, bound to one store and the HMAC key."""

    def __init__(self, store, hmac_key):
        self.store = store
        self._hmac_key = hmac_key
        self._hit = store.script("limit")

    def subject(self, kind, value):
        """A subject's name in keys: a keyed HMAC of ``kind:value`` (a client IP never shows)."""
        return _subject(self._hmac_key, kind, value)

    def counters(self, tag, limit, windows):
        """The counter keys of ``limit`` for the subject whose hash tag is ``tag``, one per (amount,
        seconds) window."""
        return [self.store.key(tag, f"l:{limit}:{seconds}") for _amount, seconds in windows]

    @unavailable_on_error
    def hit(self, tag, limit, windows):
        """Count one hit on every window of ``limit``; refused when one is past its amount."""
        return self.read(self._hit(*self.hit_call(tag, (limit, windows))[1:]))

    @unavailable_on_error
    def run(self, calls):
        """Hits (``hit_call``s) in one round trip; their replies, as the work they may go with gives them."""
        return self.store.run_many(calls)

    def hit_call(self, tag, *limits):
        """A hit on each ``(limit, windows)`` of the subject whose hash tag is ``tag``, as one
        ``(script, keys, args)`` to run in one round trip with other work (refused when any counter
        is past its amount; the count is the first window's)."""
        keys = [key for limit, windows in limits for key in self.counters(tag, limit, windows)]
        return self._hit, keys, [value for _limit, windows in limits for window in windows for value in window]

    @staticmethod
    def read(reply):
        """A hit's reply as a ``replies.Hit``."""
        return replies.hit(reply)

    @unavailable_on_error
    def clear(self, tag, limit, windows):
        """Forget the hits (a staff member who logged in is no longer locked out)."""
        self.store.redis.delete(*self.counters(tag, limit, windows))
