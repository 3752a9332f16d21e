"""The address of the person at the other end of a request, for login throttling.

Directly exposed (`TRUSTED_PROXY_COUNT=0`, the default), that is the connection's peer,
`REMOTE_ADDR`; any `X-Forwarded-For` header is the client's own words and is ignored.

Behind N trusted proxies, the last one is the peer and each proxy appends the address it was
connected from to `X-Forwarded-For`, so the client is the Nth entry from the right. Entries
further left were sent by the client and are never read: nobody can dodge or cause a lock-out
by forging the header. A request with fewer entries came through fewer proxies than
configured; its leftmost entry (or the peer) is then the farthest address a proxy saw.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address (django-axes' `AXES_CLIENT_IP_CALLABLE`), read only from what the
    peer and the `TRUSTED_PROXY_COUNT` proxies nearest to us wrote; a forwarded entry is used
    only when it is a valid IP address, otherwise the peer is."""
    peer = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies == 0:
        return peer
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in forwarded if hop] + [peer]
    candidate = hops[max(len(hops) - 1 - proxies, 0)]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # Only a misconfigured proxy writes something else than a bare address: fall back to
        # the peer rather than hand the attempt log a string it cannot store.
        return peer
