"""Who does a thing, and from where: what every audited operation takes."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """``who``: a staff name, ``key:<name>`` for an API key, ``cli``, or ``public``; ``ip``: the client's."""

    who: str
    ip: str = ""


CLI = Actor("cli")
