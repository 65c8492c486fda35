"""Is the service ready to answer: the store reachable, taking writes and keeping data safely."""

from verify.errors import StoreUnavailable
from verify.registry import store as store_module


def is_store_failure(exc):
    """True for a failure of the store that escaped the registry: routes answer it as ``unavailable``."""
    return store_module.is_store_error(exc)


class Health:
    """Readiness of one store; built once by the factory."""

    def __init__(self, store, allow_unsafe):
        self._store = store
        self._allow_unsafe = allow_unsafe

    def refusal(self):
        """Why this process will not use its Redis at all (settings that could lose data, refused in
        production), or None; a Redis that does not answer is no refusal (it may come)."""
        reason = self._store.gate.reason
        return reason if reason and reason.startswith("unsafe") else None

    def ready(self):
        """``(state, problems)``: ok, unsafe (settings that could lose data, refused in production
        unless allowed) or unavailable (Redis does not answer or refuses writes)."""
        try:
            return self._store.readiness(self._allow_unsafe)
        except StoreUnavailable as exc:
            return "unavailable", [str(exc) or "Redis does not answer"]
