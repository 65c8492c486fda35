"""Per-client limits on the public pages and the public API (number checks and code checks), counted
by the registry's one limiter under keyed HMACs of the client's address, and on the API of its
network too (/24, /64, which allows ``NETWORK_FACTOR`` times as much: one person with many addresses
of one network counts as one). The pages count the address alone: a neighbour behind the same
carrier NAT must not be able to take the pages from everyone on it. The only importer of ``limits``,
whose rule syntax the settings use ("5 per minute")."""

from dataclasses import dataclass

from limits import parse_many

from verify.errors import RateLimited
from verify.services import clients


def windows(rule):
    """``"5 per minute;30 per day"`` as ``[(5, 60), (30, 86400)]``."""
    return [(item.amount, item.get_expiry()) for item in parse_many(rule)]


NETWORK_FACTOR = 4
PAGE_CHECK, PAGE_VERIFY, API_CHECK, API_VERIFY = "check", "verify", "api-check", "api-verify"


class ClientLimits:
    """Named limits per client, e.g. ``{"check": [(30, 60)]}``; built once by the factory."""

    def __init__(self, limits, rules, network_wide=()):
        self._limits = limits
        self._rules = {name: tuple(spans) for name, spans in rules.items()}
        self._network_wide = frozenset(network_wide)

    def hit(self, name, client_ip):
        """Count one use of ``name`` by ``client_ip`` (and its network): ``(allowance, uses left)`` of
        the first window; ``RateLimited`` past the limit (the use still counts)."""
        return self.settle(name, self._limits.run(self.calls(name, client_ip)))

    def calls(self, name, client_ip):
        """The hit of ``name`` by ``client_ip`` and its network, as scripts to run in one round trip
        with the work. The address's counter lives under its network's hash tag: one script counts both."""
        rule = self._rules[name]
        address = self._limits.subject("ip", client_ip or "unknown")
        if name not in self._network_wide:
            return [self._limits.hit_call(f"c{address}", (name, rule))]
        network = self._limits.subject("net", clients.network(client_ip))
        wider = tuple((amount * NETWORK_FACTOR, seconds) for amount, seconds in rule)
        return [self._limits.hit_call(f"n{network}", (f"{name}-{address}", rule), (name, wider))]

    def settle(self, name, replies):
        """``RateLimited`` when one of the hits (the replies of ``calls``) is past its limit, else the
        allowance left."""
        hits = [self._limits.read(reply) for reply in replies]
        refused = [hit.retry_after for hit in hits if not hit.allowed]
        if refused:
            raise RateLimited(max(refused))
        amount = self._rules[name][0][0]
        return Allowance(amount, max(amount - hits[0].count, 0))


@dataclass(frozen=True)
class Allowance:
    """What a limited page tells the client: its allowance in the first window, and what is left."""

    limit: int
    remaining: int
