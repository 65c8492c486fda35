"""The domain's exceptions. Views translate them to HTTP; domain code never returns status codes."""


class StoreUnavailable(RuntimeError):
    """The store did not answer in time or failed: every verdict becomes ``unavailable``."""


class NotFound(LookupError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Conflict(RuntimeError):
    """The change collides with what is stored (e.g. a number registered twice)."""


class Invalid(ValueError):
    """Input that breaks a rule. ``errors`` lists ``(field, message)`` pairs for people."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors))
