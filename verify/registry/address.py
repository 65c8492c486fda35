"""Where Redis is: ``REDIS_URL`` read with the standard library, in the URL forms redis-py and ``limits``
users know.

  redis://[[user]:password@]host[:port][/db]           one server (redis-py's own URL, unchanged)
  rediss://…                                           the same over TLS
  unix://[[user]:password@]/path/redis.sock[?db=0]     one server on a unix socket
  redis+cluster://[[user]:password@]host:port[,host:port…]
                                                       a Redis Cluster, found from these seed nodes
  redis+sentinel://[[user]:password@]host:port[,host:port…]/<service>[/db]
                                                       the primary Sentinel names for <service>; follows failovers
  rediss+cluster://…, rediss+sentinel://…              the same over TLS (the sentinels too)

The password is the data nodes'; sentinels that want one of their own take it from
``?sentinel_password=…`` (percent-encoded like the rest). TLS options ride along as query parameters:
``ssl_ca_certs``, ``ssl_certfile``, ``ssl_keyfile``, ``ssl_cert_reqs`` (``required``, ``optional`` or
``none``).
"""

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

SINGLE, CLUSTER, SENTINEL = "single", "cluster", "sentinel"
_SCHEMES = {"redis+cluster": (CLUSTER, False), "rediss+cluster": (CLUSTER, True),
            "redis+sentinel": (SENTINEL, False), "rediss+sentinel": (SENTINEL, True)}
TLS_OPTIONS = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs")
CERT_REQS = ("required", "optional", "none")


@dataclass(frozen=True)
class Address:
    """A parsed ``REDIS_URL``: ``kind`` (single, cluster, sentinel), ``nodes`` [(host, port)] (the seed
    nodes or the sentinels; empty for a single server, which redis-py reads from ``url`` itself),
    the Sentinel ``service``, ``db``, credentials, TLS and its options."""

    kind: str
    url: str
    nodes: tuple = ()
    service: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False
    tls_options: dict = field(default_factory=dict)
    sentinel_password: str | None = None


def parse(url):
    """``url`` as an ``Address``; ``ValueError`` naming what is wrong (never echoing the password)."""
    scheme = url.partition("://")[0].lower()
    if scheme in ("redis", "rediss", "unix"):
        return Address(SINGLE, url, tls=scheme == "rediss")
    if scheme not in _SCHEMES:
        raise ValueError(f"REDIS_URL must start with redis://, rediss://, unix://, redis+cluster:// or "
                         f"redis+sentinel:// (rediss+… for TLS), not {scheme!r}")
    kind, tls = _SCHEMES[scheme]
    parts = urlsplit(url)
    userinfo, _at, hosts = parts.netloc.rpartition("@")
    username, _colon, password = userinfo.partition(":") if userinfo else ("", "", "")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(query) - {*TLS_OPTIONS, "sentinel_password"}
    if unknown:
        raise ValueError(f"REDIS_URL has options verify does not know: {', '.join(sorted(unknown))}")
    if query.get("ssl_cert_reqs", "required") not in CERT_REQS:
        raise ValueError(f"ssl_cert_reqs must be one of {', '.join(CERT_REQS)}")
    service, db = _path(kind, parts.path)
    return Address(kind, url, _nodes(hosts), service, db, unquote(username) or None, unquote(password) or None, tls,
                   {name: unquote(value) for name, value in query.items() if name in TLS_OPTIONS},
                   unquote(query.get("sentinel_password", "")) or None)


def _nodes(hosts):
    nodes = []
    for item in hosts.split(","):
        host, colon, port = item.strip().rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"REDIS_URL: {item.strip()!r} is not host:port")
        nodes.append((host.strip("[]"), int(port)))  # [::1]:7000, an IPv6 address, without its brackets
    return tuple(nodes)


def _path(kind, path):
    names = [unquote(part) for part in path.split("/") if part]
    if kind == CLUSTER:
        if names not in ([], ["0"]):
            raise ValueError("REDIS_URL: a Redis Cluster has only database 0 (redis+cluster://host:port,…)")
        return None, 0
    if not names or len(names) > 2 or (len(names) == 2 and not names[1].isdigit()):
        raise ValueError("REDIS_URL: Sentinel needs the service's name: redis+sentinel://host:port,…/<service>[/db]")
    return names[0], int(names[1]) if len(names) == 2 else 0
