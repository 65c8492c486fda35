"""This process's circuit breaker in front of Redis.

When Redis stops answering (a stopped or partitioned server, a long fork), each command waits for its
timeout; requests queued behind it on the same worker thread would wait one timeout each, several
seconds in all. So the first failure of that kind closes the gate: every registry call then fails at
once with ``StoreUnavailable`` (the ``unavailable`` answer, fail closed), and a thread of its own probes
Redis every ``pause`` seconds, away from the requests. The gate opens again when the probe finds Redis
answering with safe settings (the durability check runs on every reconnection, not only at start-up);
while the settings are unsafe in production it stays closed, said once on stderr.
"""

import logging
import os
import threading
import time

from verify.errors import StoreUnavailable

log = logging.getLogger(__name__)


class Gate:
    """Open (``reason`` None) or closed with the reason; ``probe()`` says why Redis cannot be used
    now (None: it can) and never raises."""

    def __init__(self, probe, pause=0.5):
        self._probe = probe
        self._pause = pause
        self._lock = threading.Lock()
        self._watcher_pid = None
        self.reason = None

    def enter(self):
        """Raise ``StoreUnavailable`` at once while the gate is closed."""
        reason = self.reason
        if reason is not None:
            raise StoreUnavailable(reason)

    def check(self):
        """Probe now (at start-up): close the gate if Redis cannot be used."""
        reason = self._probe()
        if reason is not None:
            self.close(reason)

    def close(self, reason):
        """Fail every call at once from now on, and probe until Redis can be used again."""
        with self._lock:
            if reason != self.reason:
                log.error("Redis cannot be used (%s): answering unavailable until it can", reason)
            self.reason = reason
            if self._watcher_pid != os.getpid():  # none yet, or one of the parent before a fork
                self._watcher_pid = os.getpid()
                threading.Thread(target=self._watch, name="verify-redis-probe", daemon=True).start()

    def _watch(self):
        while True:
            time.sleep(self._pause)
            try:
                reason = self._probe()
            except Exception as exc:  # noqa: BLE001 (a probe that failed oddly must not end the probing)
                reason = f"the probe failed ({exc.__class__.__name__})"
            with self._lock:
                if reason is None:
                    self.reason, self._watcher_pid = None, None
                    log.warning("Redis can be used again")
                    return
                if reason != self.reason:
                    log.error("Redis cannot be used (%s): answering unavailable until it can", reason)
                self.reason = reason
