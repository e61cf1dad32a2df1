"""HTTP for notifications and pushes (httpx): one deadline for the whole exchange, no redirects
followed, TLS verified, Basic auth from `user:password@`, and at most MAX_RESPONSE bytes read back."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from mlmon.notify.deliver import Permanent, Retryable, _clean, redact

MAX_RESPONSE = 64 << 10
"""Most bytes of an answer read (64 KiB): a notification needs only the status; an endpoint that
answers with gigabytes is cut there."""


class Expired(Permanent):
    """The whole exchange (connect, request, headers and body) passed its deadline. Not tried
    again in this run: a slow endpoint would hold the run (and the --state lock) once per attempt."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    """The first MAX_RESPONSE bytes of the body at most."""
    cut: bool
    """True when the body was longer and the rest was not read."""

    def text(self, limit: int = 200) -> str:
        return self.body[:limit].decode("utf-8", "replace")


async def _exchange(
    method: str, url: str, timeout: float, content: bytes | None, headers: dict[str, str]
) -> Answer:
    import httpx

    async with (
        httpx.AsyncClient(follow_redirects=False, timeout=httpx.Timeout(timeout)) as client,
        client.stream(method, url, content=content, headers=headers) as r,
    ):
        body = bytearray()
        cut = False
        async for chunk in r.aiter_raw():
            room = MAX_RESPONSE - len(body)
            body += chunk[:room]
            if len(chunk) > room:
                cut = True
                break
        return Answer(r.status_code, bytes(body), cut)


def request(
    method: str,
    url: str,
    *,
    timeout: float,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One HTTP exchange that ends within `timeout` seconds in all (a server that trickles one
    byte a second cannot hold it), reading at most MAX_RESPONSE bytes of the answer. A user and
    password in the URL are sent as Basic auth. Raises Retryable (refused, reset, DNS), Expired
    (the deadline) or Permanent (an unusable URL); messages never hold the URL's secrets."""
    import httpx

    where = redact(url)
    try:
        return asyncio.run(
            asyncio.wait_for(_exchange(method, url, timeout, content, headers or {}), timeout)
        )
    except (TimeoutError, httpx.TimeoutException):
        raise Expired(f"{where}: no complete answer within {timeout:g} s") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise Permanent(f"{where}: not a usable http(s) URL: {_clean(str(exc), url)}") from None
    except httpx.HTTPError as exc:
        raise Retryable(f"{where}: {type(exc).__name__}: {_clean(str(exc), url)}") from None
    except (ValueError, UnicodeError) as exc:  # a URL httpx cannot even split
        raise Permanent(f"{where}: not a usable http(s) URL: {_clean(str(exc), url)}") from None


def post_json(url: str, body: Any, *, timeout: float, headers: dict[str, str] | None = None) -> Answer:
    """POST a JSON body (see `request`)."""
    import json

    data = json.dumps(body, ensure_ascii=True, allow_nan=False).encode("ascii")
    return request("POST", url, timeout=timeout, content=data,
                   headers={"Content-Type": "application/json", **(headers or {})})
