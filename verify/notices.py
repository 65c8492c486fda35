"""The pre-call notice: an SMS from the official number telling the borrower a callback is coming.

Sent in the background so the API never waits on Twilio; the outcome is kept on the session
(pending, then sent or failed; skipped_opted_out; logged when there are no Twilio credentials).
"""

import logging
import os
from concurrent.futures import ThreadPoolExecutor

from verify import advice, phones
from verify.errors import StoreUnavailable
from verify.messaging import SendFailed

log = logging.getLogger(__name__)


class Notifier:
    """Decides and sends pre-call notices; built once in the app factory."""

    def __init__(self, svc, twilio, hmac_key, lang="zh"):
        self.svc = svc
        self.twilio = twilio
        self.hmac_key = hmac_key
        self.lang = lang
        self._pool = None
        self._pool_pid = None

    def text(self, caller, ttl):
        """The notice itself, in the default SMS language."""
        minutes = max(1, round(ttl / 60))
        display = phones.display(caller.e164, self.svc.region)
        return advice.sms("notice", self.lang, self.svc.brand, minutes=minutes, caller=display)

    def first_state(self, borrower):
        """Before the session is stored: skipped_opted_out, logged (no credentials) or pending."""
        if self.svc.messages.opted_out(phones.number_hmac(self.hmac_key, borrower.e164)):
            return "skipped_opted_out"
        return "pending" if self.twilio.can_send else "logged"

    def dispatch(self, session_id, state, borrower, caller, ttl):
        """Act on ``first_state``: log the notice, or send it in the background."""
        body = self.text(caller, ttl)
        if state == "logged":
            log.info("pre-call notice (no Twilio credentials) to %s: %s", phones.mask(borrower.e164), body)
        elif state == "pending":
            self._executor().submit(self._send, session_id, borrower.e164, body)

    def _executor(self):
        # Threads do not survive a fork: one pool per worker process.
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool, self._pool_pid = ThreadPoolExecutor(max_workers=2, thread_name_prefix="notice"), os.getpid()
        return self._pool

    def _send(self, session_id, to, body):
        try:
            self.twilio.send(to, body)
            outcome = "sent"
        except SendFailed as exc:
            log.warning("pre-call notice to %s failed: %s", phones.mask(to), exc)
            outcome = "failed"
        try:
            self.svc.sessions.set_notice(session_id, outcome)
        except StoreUnavailable:
            log.warning("could not record the notice outcome for a session")
