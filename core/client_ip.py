"""The address of the person behind a request, for per-IP rate limits.

Forwarded headers are written by whoever sends the request, so they are
believed only when the connection comes from a proxy named in
`GENOPORTAL_TRUSTED_PROXIES` (settings.TRUSTED_PROXIES). Trusting them from
anyone let a client rotate X-Real-IP to escape the per-IP limit, or name a
member's address to get it locked out."""

import functools
import ipaddress

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.cache
def trusted_networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    """The proxies' networks; a single address is a network of one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"GENOPORTAL_TRUSTED_PROXIES: {value!r} is not an IP address or network "
                "(e.g. 10.0.0.1 or 10.0.0.0/24)."
            ) from None
    return tuple(networks)


def _address(value: str) -> Address | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def client_ip(request) -> str:
    """REMOTE_ADDR, unless that is a trusted proxy: then the right-most address
    in X-Forwarded-For that is not a trusted proxy (everything left of it was
    written by the client and may be invented), else X-Real-IP."""
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return ""
    proxies = trusted_networks(tuple(settings.TRUSTED_PROXIES))

    def trusted(address: Address) -> bool:
        return any(address in network for network in proxies)

    if not trusted(remote):
        return str(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop for hop in forwarded.split(",") if hop.strip()]
    if not hops and request.META.get("HTTP_X_REAL_IP"):
        hops = [request.META["HTTP_X_REAL_IP"]]
    nearest = remote
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # Not an address: no proxy wrote this, so the hop that passed it on
            # is the last one we can vouch for.
            break
        if not trusted(address):
            return str(address)
        nearest = address
    return str(nearest)
