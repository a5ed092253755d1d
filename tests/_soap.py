"""Hand-written SOAP for the sandbox tests that drive the server on the wire (no client code)."""

from __future__ import annotations

from lxml import etree

from bipro_ruv.sandbox.services.soap import NS  # the sandbox's table; the client's XML code stays apart

__all__ = ["XMLNS", "envelope", "parse", "sct_header", "username_header"]

XMLNS = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items())


def envelope(body: str, header: str = "") -> bytes:
    head = f"<soapenv:Envelope {XMLNS}><soapenv:Header>{header}</soapenv:Header>"
    return f"{head}<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>".encode()


def username_header(user: str, password: str) -> str:
    return (
        "<wsse:Security><wsse:UsernameToken>"
        f"<wsse:Username>{user}</wsse:Username>"
        '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0'
        f'#PasswordText">{password}</wsse:Password>'
        "</wsse:UsernameToken></wsse:Security>"
    )


def sct_header(token: str) -> str:
    return (
        "<wsse:Security><wsc:SecurityContextToken>"
        f"<wsc:Identifier>{token}</wsc:Identifier></wsc:SecurityContextToken></wsse:Security>"
    )


def parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(data, parser=parser)
