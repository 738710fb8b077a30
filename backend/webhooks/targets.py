"""Where a webhook may send: checked when it is saved and again before every attempt (a name that
resolved to a public address yesterday may resolve to 127.0.0.1 today: DNS rebinding). The attempt
then connects to the address that was checked, never to a second resolution of the name."""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The target may not be sent to; the message says why (kept in the delivery log)."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    address: IpAddress  # the checked address the attempt connects to


def refused_address(address: IpAddress) -> bool:
    """Loopback, private, link-local (cloud metadata at 169.254.169.254), shared, reserved,
    multicast and unspecified addresses: anything not routable on the public internet."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def check_url(url: str, *, https_only: bool) -> tuple[str, str, int]:
    """The URL's scheme, host and port, or Refused."""
    parts = urlsplit(url)
    allowed = ("https",) if https_only else ("https", "http")
    if parts.scheme not in allowed:
        raise Refused(f"the scheme must be {' or '.join(allowed)}")
    if not parts.hostname:
        raise Refused("the URL has no host")
    if parts.username or parts.password:
        raise Refused("the URL may not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused("the port is invalid") from exc
    return parts.scheme, parts.hostname, port


async def resolve(url: str, *, https_only: bool, allow_private: bool) -> Target:
    """The URL with the address to connect to, every address of its host checked; or Refused."""
    scheme, host, port = check_url(url, https_only=https_only)
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise Refused(f"the host does not resolve ({exc})") from exc
        addresses = [ipaddress.ip_address(info[4][0]) for info in found]
        if not addresses:
            raise Refused("the host does not resolve")
    if not allow_private:
        # Every address: a name with one public and one private address could be steered to the latter.
        bad = [a for a in addresses if refused_address(a)]
        if bad:
            raise Refused(f"the host resolves to a non-public address ({bad[0]})")
    return Target(url, scheme, host, port, addresses[0])
