"""The address of the client behind any trusted proxies: what sign-in lockouts are keyed on and the security log shows.

A request's peer (REMOTE_ADDR) is the client itself unless it is one of
``settings.TRUSTED_PROXIES``. Only then is X-Forwarded-For read, from the right:
each trusted proxy appends the address it received the request from, so the
first address from the right that is not a trusted proxy is the client. Entries
further left were written by the client and could say anything, so they are
never used; a header sent straight to this server by an untrusted peer is
ignored altogether.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def parse_networks(entries):
    """The networks ``entries`` name (addresses or CIDR blocks); ImproperlyConfigured names any that is neither."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {entry!r} is neither an IP address nor a CIDR block (such as 10.0.0.0/8)."
            ) from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _networks(entries):
    return parse_networks(entries)


def _address(text):
    """An ip_address from a header entry or REMOTE_ADDR, or None; IPv4-mapped IPv6 is read as the IPv4 it carries."""
    text = (text or "").strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234": some proxies add the client's port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def _trusted(address, networks):
    return address is not None and any(address in network for network in networks)


def client_ip(request):
    """The client's address as text (REMOTE_ADDR unless it came through trusted proxies), or None if unknown."""
    peer_text = request.META.get("REMOTE_ADDR") or None
    peer = _address(peer_text)
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not _trusted(peer, networks):
        return str(peer) if peer is not None else peer_text
    # Django joins repeated X-Forwarded-For headers with commas, in the order they arrived.
    hops = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # not written by a trusted proxy: nothing further left can be believed either
        client = address
        if not _trusted(address, networks):
            break
    return str(client)
