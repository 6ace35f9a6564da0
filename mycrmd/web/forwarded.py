"""Who is asking, and over what: the client's address and scheme, believing a reverse proxy's
X-Forwarded-For / X-Forwarded-Proto only when the connection comes from one listed in
`[web] trusted_proxies` (anyone else could write those headers)."""

import ipaddress
from functools import lru_cache

from aiohttp import web

from mycrmd.web.services import SERVICES

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _from_proxy(request: web.Request) -> tuple[Network, ...] | None:
    """The trusted networks when the peer is one of them, else None."""
    networks = _networks(request.app[SERVICES].config.web.trusted_proxies)
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not networks or not peer or not _trusted(str(peer[0]), networks):
        return None
    return networks


def client_address(request: web.Request) -> str:
    """The nearest address in X-Forwarded-For that is not a trusted proxy, when the request
    came through one; the peer's address otherwise."""
    peer = request.remote or "unknown"
    networks = _from_proxy(request)
    if networks is None:
        return peer
    forwarded = [item.strip() for item in request.headers.get("X-Forwarded-For", "").split(",")]
    for address in reversed([item for item in forwarded if item]):
        if not _trusted(address, networks):
            return address
    return peer


def client_scheme(request: web.Request) -> str:
    """https when the connection is TLS, or a trusted proxy says the client's was: the last
    value, the one our proxy appended (the client may have sent one of its own before it)."""
    if _from_proxy(request) is not None:
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            return proto
    return "https" if request.secure else "http"
