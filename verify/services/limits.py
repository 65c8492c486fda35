"""Per-client limits on the public pages (number checks and code checks typed on the web), counted by
the registry's one limiter under a keyed HMAC of the client's IP. The only importer of ``limits``,
whose rule syntax the settings use ("5 per minute;30 per day")."""

from dataclasses import dataclass

from limits import parse_many

from verify.errors import RateLimited


def windows(rule):
    """``"5 per minute;30 per day"`` as ``[(5, 60), (30, 86400)]``."""
    return [(item.amount, item.get_expiry()) for item in parse_many(rule)]


class ClientLimits:
    """Named limits per client IP, e.g. ``{"check": [(30, 60)]}``; built once by the factory."""

    def __init__(self, limits, rules):
        self._limits = limits
        self._rules = {name: tuple(spans) for name, spans in rules.items()}

    def hit(self, name, client_ip):
        """Count one use of ``name`` by ``client_ip``: ``(allowance, uses left)`` of the first window;
        ``RateLimited`` past the limit (the use still counts)."""
        rule = self._rules[name]
        subject = self._limits.subject("ip", client_ip or "unknown")
        hit = self._limits.hit(f"c{subject}", name, rule)
        if not hit.allowed:
            raise RateLimited(hit.retry_after)
        return Allowance(rule[0][0], max(rule[0][0] - hit.count, 0))


@dataclass(frozen=True)
class Allowance:
    """What a limited page tells the client: its allowance in the first window, and what is left."""

    limit: int
    remaining: int
