"""Who a request comes from, as limits and counts see it: the client's address and its network
(an IPv4 /24 or an IPv6 /64, what one person with a laptop, a phone hotspot or a small office holds)."""

import functools
import ipaddress


@functools.lru_cache(maxsize=4096)
def network(ip):
    """The /24 (IPv4) or /64 (IPv6) network of ``ip`` as text, or ``"unknown"`` for anything else
    (remembered for the last 4,096 addresses: every limited request asks)."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return "unknown"
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
