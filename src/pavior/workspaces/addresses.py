"""Who sent a request: the client's address, believing X-Forwarded-For only
from the proxies listed in PAVIOR_TRUSTED_PROXIES.

One rule for every caller that keys something on the client's address (the
tracking intake's GeoIP place, sign-in throttling, rate limits): a header any
client can set must not let that client choose its own address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(remote: str, forwarded_for: str) -> str:
    """The client's address: `remote` (the socket's peer) unless it is a trusted
    proxy, in which case the nearest X-Forwarded-For hop that is not one."""
    trusted = settings.PAVIOR_TRUSTED_PROXIES
    if remote not in trusted:
        return remote
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    # Walk from the nearest hop; the first one not a trusted proxy is the client
    # (the hops before it could have been written by the client itself).
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote
        if hop not in trusted:
            return hop
    return remote


def request_ip(request: HttpRequest) -> str:
    """client_ip of a Django request (the sign-in views)."""
    return client_ip(
        request.META.get("REMOTE_ADDR", ""), request.headers.get("X-Forwarded-For", "")
    )
