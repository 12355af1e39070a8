"""URI checks per RFC 3986, as the vendors' validators apply them to webhook URLs.

Written from the RFC's ABNF (section 3 and appendix A), ASCII only and matched whole:
`urllib.parse` accepts spaces, raw non-ASCII and broken brackets, and raises on
some of them (`https://[::1`), which a server must answer with a validation error.
"""

from __future__ import annotations

import ipaddress
import re

_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"

_SCHEME = r"(?P<scheme>[A-Za-z][A-Za-z0-9+\-.]*)"
_USERINFO = rf"(?P<userinfo>(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*)"
_IP_LITERAL = r"\[(?P<ip_literal>[^\[\]/?#@]*)\]"
_REG_NAME = rf"(?P<reg_name>(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)"
_AUTHORITY = rf"(?:{_USERINFO}@)?(?:{_IP_LITERAL}|{_REG_NAME})(?::(?P<port>[0-9]*))?"
_PATH_ABEMPTY = rf"(?:/{_PCHAR}*)*"
_QUERY = rf"(?:{_PCHAR}|[/?])*"

# Only the hierarchical form with an authority: an https URI has a host (RFC 9110 4.2.2).
_AUTHORITY_URI = re.compile(
    rf"{_SCHEME}://{_AUTHORITY}(?P<path>{_PATH_ABEMPTY})(?:\?{_QUERY})?(?:#{_QUERY})?",
    re.ASCII,
)
_IPV_FUTURE = re.compile(rf"[vV][0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+", re.ASCII)
_IPV6_CHARS = re.compile(r"[0-9A-Fa-f:.]+", re.ASCII)


def _valid_ip_literal(text: str) -> bool:
    if _IPV_FUTURE.fullmatch(text):
        return True
    # ipaddress also takes "%zone" suffixes, which RFC 3986 does not allow inside brackets.
    if not _IPV6_CHARS.fullmatch(text):
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def https_url_problem(value: str) -> str | None:
    """None for an https URI with a host, else why not: "not a URI" or "not https"."""
    match = _AUTHORITY_URI.fullmatch(value)
    if match is None:
        return "not a URI"
    literal = match.group("ip_literal")
    if literal is not None and not _valid_ip_literal(literal):
        return "not a URI"
    if match.group("scheme").lower() != "https":
        return "not https"
    if literal is None and not match.group("reg_name"):
        return "not a URI"
    return None
