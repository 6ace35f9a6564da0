"""The free check before an address costs a verify credit: its syntax, then whether its domain
has a mail server at all (MX, else A/AAAA; RFC 5321 section 5.1).

Only a definite answer condemns an address: NXDOMAIN, a null MX (RFC 7505), or a domain with
none of those records. A timeout or a failing server is "unknown", and the paid API decides.

A resolver that answers NXDOMAIN for everything (no network, a broken forwarder) would condemn
every address, so a definite answer counts only when DNS is shown to work in the same run: a
well-known mail domain (`CANARY_DOMAINS`) resolves through the same resolver. And a run may
condemn at most a bounded share of what it pre-checks (`refusal()`); past that, it condemns
none and says why.
"""

import logging

import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver

from mycrmd.config import nameserver_address
from mycrmd.customers.addresses import InvalidAddress, ascii_domain, check_address

log = logging.getLogger("mycrmd.verify")

# Mail domains that exist for as long as mail does; one answering MX shows DNS works.
CANARY_DOMAINS = ("qq.com", "gmail.com")
# A run condemns at most this many addresses, and more than `_FEW` only when that is at most
# half of those it pre-checked.
MAX_CONDEMNED = 50
_FEW = 3

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


async def why_dns_unusable(resolver: dns.asyncresolver.Resolver) -> str | None:
    """None when a canary domain has a mail server through this resolver; else why not."""
    failures = []
    for domain in CANARY_DOMAINS:
        try:
            answer = await resolver.resolve(domain, "MX", search=False)
        except dns.resolver.NXDOMAIN:
            failures.append(f"{domain}: NXDOMAIN")
            continue
        except dns.resolver.NoAnswer:
            failures.append(f"{domain}: no MX record")
            continue
        except _UNKNOWN as exc:
            return f"DNS is not working: {domain} got no answer ({type(exc).__name__})"
        if [record.exchange for record in answer] != [dns.name.root]:
            return None
        failures.append(f"{domain}: null MX")
    return f"DNS is not working: well-known mail domains do not resolve ({'; '.join(failures)})"


def refusal(condemned: int, prechecked: int) -> str | None:
    """Why a run may not condemn `condemned` of the `prechecked` addresses, or None."""
    if condemned > MAX_CONDEMNED:
        return (
            f"the pre-check would invalidate {condemned} addresses, more than {MAX_CONDEMNED} "
            "in one run: none changed"
        )
    if condemned > _FEW and condemned * 2 > prechecked:
        return (
            f"the pre-check would invalidate {condemned} of {prechecked} addresses, more than "
            "half: none changed"
        )
    return None
