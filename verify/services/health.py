"""Is the service ready to answer: the store reachable and keeping data safely."""

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

    def ready(self):
        """``(state, problems)``: ok, unsafe (AOF off or eviction on, unless allowed) or unavailable."""
        try:
            problems = store_module.durability_problems(self._store.redis)
        except StoreUnavailable:
            return "unavailable", ["Redis does not answer"]
        if problems and not self._allow_unsafe:
            return "unsafe", problems
        return "ok", problems or []
