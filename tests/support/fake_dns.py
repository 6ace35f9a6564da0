"""A DNS server on 127.0.0.1 (UDP) answering what a test sets up: records, NXDOMAIN, SERVFAIL,
or silence (a timeout). Domains nobody set up answer `default`: an MX record unless a test
breaks the whole server."""

import asyncio

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

NXDOMAIN = "nxdomain"
SERVFAIL = "servfail"
SILENT = "silent"
HAS_MX = {"MX": ["10 mx.example.net."]}

Zone = dict[str, list[str]] | str


class FakeDns(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.zones: dict[str, Zone] = {}
        self.default: Zone = HAS_MX
        self.queries: list[tuple[str, str]] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.address = ""

    async def start(self) -> None:
        """Start listening; `address` is then "127.0.0.1:port" for [verify] nameserver."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", 0)
        )
        port = transport.get_extra_info("sockname")[1]
        self.address = f"127.0.0.1:{port}"

    def stop(self) -> None:
        if self.transport:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        zone = self.zones.get(name, self.default)
        if zone == SILENT:
            return
        response = dns.message.make_response(query)
        if zone == NXDOMAIN:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif zone == SERVFAIL:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif isinstance(zone, dict) and zone.get(rdtype):
            response.answer.append(
                dns.rrset.from_text_list(question.name, 300, "IN", rdtype, zone[rdtype])
            )
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)
