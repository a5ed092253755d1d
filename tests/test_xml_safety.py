"""Every XML bipro-ruv reads goes through one safe parser: typed errors, no expansion."""

from __future__ import annotations

import pytest

from bipro_ruv import MalformedXmlError, UnsafeXmlError
from bipro_ruv._wire.xml import parse_xml

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<lolz>&lol4;</lolz>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<r>&x;</r>"""


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", MalformedXmlError),
        (b"   \n", MalformedXmlError),
        (b"<a><b></a>", MalformedXmlError),
        (b"not xml at all", MalformedXmlError),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", MalformedXmlError),
        (b"<html><head><title>Error</title></head></html>", MalformedXmlError),
        (XXE, UnsafeXmlError),
        (BOMB, UnsafeXmlError),
        (b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://evil.invalid/x.dtd"><r/>', UnsafeXmlError),
    ],
    ids=[
        "empty",
        "blank",
        "unbalanced",
        "text",
        "html-doctype",
        "html",
        "xxe",
        "entity-bomb",
        "external-dtd",
    ],
)
def test_bad_input_gives_typed_error(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_xml(data)


def test_xxe_never_reads_the_file() -> None:
    with pytest.raises(UnsafeXmlError) as info:
        parse_xml(XXE)
    assert "root:" not in str(info.value)


def test_well_formed_xml_parses() -> None:
    root = parse_xml(b"<a xmlns='urn:x'><b>1</b></a>")
    assert root.tag == "{urn:x}a"
