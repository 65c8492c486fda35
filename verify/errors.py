"""The domain's exceptions. Each carries the message a person may be told; the routes pick the
status code and the form (problem JSON, a page, a short SMS). Domain code never returns status codes."""


def N_(text):  # noqa: N802 (the name gettext tools look for)
    """Mark ``text`` as a message people read: pybabel extracts it into the catalogs (``N_`` is one of
    its default keywords) and the pages translate it when they show it; the API keeps the English."""
    return text


class Said(str):
    """A message for people with values in it, for an ``Invalid`` error: the English with the values in
    (what the API and the CLI show), keeping its words (``template``, marked ``N_``) and its ``values``
    apart as ``DomainError`` does, so a page can say it in another language."""

    def __new__(cls, template, **values):
        """``template`` (marked ``N_``) with ``values`` in its ``%(name)s`` places."""
        said = super().__new__(cls, template % values)
        said.template, said.values = template, values
        return said


class DomainError(Exception):
    """Base of the domain's exceptions: ``message`` is safe to show to whoever made the request."""

    message = "Something in the request was not right."

    def __init__(self, message=None, **values):
        # The words before the values go in (what the catalogs translate, see N_) and the values apart,
        # so a page can say it in another language; ``message`` is the English with the values in.
        self.template, self.values = message or self.message, values
        self.message = self.template % values if values else self.template
        super().__init__(self.message)


class StoreUnavailable(DomainError):
    """The store did not answer in time or failed: every verdict becomes ``unavailable``."""

    message = "We cannot check right now. Hang up and call the official hotline yourself."


class NotFound(DomainError, LookupError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    message = "There is nothing at this address."


class Conflict(DomainError):
    """The change collides with what is stored (e.g. a number registered twice)."""

    message = "That collides with what is stored."


class Invalid(DomainError, ValueError):
    """Input that breaks a rule. ``errors`` lists ``(field, message)`` pairs for people."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors))


class AreaCodeNeeded(Invalid):
    """Digits typed without an area code that are the number within its city of several of our
    lines: ``typed`` as typed, ``candidates`` how each line is shown. Never guessed: ask."""

    def __init__(self, typed, candidates):
        self.typed, self.candidates = typed, list(candidates)
        super().__init__([("number", f"{typed} could be {' or '.join(self.candidates)}: add the area code")])


class RateLimited(DomainError):
    """Too many requests from one client (or for one subject); ``retry_after`` seconds to wait."""

    message = "Too many requests from your address. Please wait a little and try again."

    def __init__(self, retry_after, message=None):
        super().__init__(message)
        self.retry_after = max(int(retry_after), 1)


class NotSigned(DomainError):
    """A webhook request that does not carry a valid signature of the provider."""

    message = "This request is not signed by our SMS provider."
