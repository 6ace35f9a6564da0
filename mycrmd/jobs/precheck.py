"""The free check before an address costs a verify credit: its syntax, then whether its domain
has a mail server at all (MX, else A/AAAA; RFC 5321 section 5.1).

Only a definite answer condemns an address: NXDOMAIN, a null MX (RFC 7505), or a domain with
none of those records. A timeout or a failing server is "unknown", and the paid API decides.
"""

import logging

import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver

from mycrmd.config import nameserver_address
from mycrmd.customers.addresses import InvalidAddress, ascii_domain, check_address

log = logging.getLogger("mycrmd.verify")

_UNKNOWN = (
    dns.exception.Timeout,
    dns.resolver.NoNameservers,
    dns.resolver.YXDOMAIN,
    dns.resolver.NoRootSOA,
    OSError,
)


def make_resolver(nameserver: str) -> dns.asyncresolver.Resolver | None:
    """The system's resolver, or `[verify] nameserver` ("host" or "host:port"); None when the
    system has no resolver configuration (then only the syntax is pre-checked)."""
    if nameserver:
        host, port = nameserver_address(nameserver)
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = port
    else:
        try:
            resolver = dns.asyncresolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            log.warning("no DNS resolver configured: pre-checking syntax only")
            return None
    resolver.timeout = 2.0
    resolver.lifetime = 5.0
    return resolver


async def why_undeliverable(
    address: str, resolver: dns.asyncresolver.Resolver | None
) -> str | None:
    """The reason no mail can reach the address, or None when it may exist."""
    try:
        check_address(address)
    except InvalidAddress as exc:
        return f"invalid address: {exc}"
    domain = ascii_domain(address)
    if domain is None or resolver is None:
        return None
    try:
        answer = await resolver.resolve(domain, "MX", search=False)
    except dns.resolver.NXDOMAIN:
        return f"domain {domain} does not exist (NXDOMAIN)"
    except dns.resolver.NoAnswer:
        return await _why_no_host(domain, resolver)
    except _UNKNOWN:
        return None
    exchanges = [record.exchange for record in answer]
    if exchanges == [dns.name.root]:
        return f"domain {domain} accepts no mail (null MX)"
    return None


async def _why_no_host(domain: str, resolver: dns.asyncresolver.Resolver) -> str | None:
    """Without MX records, an A or AAAA record is the implicit mail server."""
    for rdtype in ("A", "AAAA"):
        try:
            await resolver.resolve(domain, rdtype, search=False)
            return None
        except dns.resolver.NoAnswer:
            continue
        except dns.resolver.NXDOMAIN:
            return f"domain {domain} does not exist (NXDOMAIN)"
        except _UNKNOWN:
            return None
    return f"domain {domain} has no mail server (no MX, A or AAAA record)"
