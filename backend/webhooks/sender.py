"""One delivery attempt over HTTP: to the address that was checked (never a second resolution), no
redirects, one deadline for the whole exchange, and no more of the answer read than is kept."""

import asyncio
import ipaddress
import time
from dataclasses import dataclass

import httpx

from backend.webhooks.targets import Target

USER_AGENT = "Tasklane-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: no answer (refused, timed out, connection failed)
    body: str | None
    latency_ms: int
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _pinned_url(target: Target) -> str:
    """The URL with its host replaced by the checked address (TLS still checks the name, by SNI)."""
    parts = httpx.URL(target.url)
    host = str(target.address)
    if isinstance(target.address, ipaddress.IPv6Address):
        host = f"[{host}]"
    return str(parts.copy_with(host=host.strip("[]"), port=target.port))


async def send(
    client: httpx.AsyncClient,
    target: Target,
    headers: dict[str, str],
    body: str,
    *,
    timeout: float,
    max_bytes: int,
) -> Outcome:
    started = time.perf_counter()
    request_headers = {
        **headers,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}",
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        async with asyncio.timeout(timeout):
            async with client.stream(
                "POST",
                _pinned_url(target),
                content=body.encode(),
                headers=request_headers,
                extensions=extensions,
                follow_redirects=False,
            ) as response:
                kept = bytearray()
                async for chunk in response.aiter_raw():
                    kept += chunk
                    if len(kept) >= max_bytes:
                        break  # the rest is never read: a huge answer costs no more than the cap
                status = response.status_code
    except TimeoutError:
        return Outcome(None, None, _since(started), f"timed out after {timeout:g} s")
    except httpx.HTTPError as exc:
        return Outcome(None, None, _since(started), f"{type(exc).__name__}: {exc}"[:500])
    text = bytes(kept[:max_bytes]).decode("utf-8", errors="replace")
    return Outcome(status, text, _since(started), None)


def _since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
