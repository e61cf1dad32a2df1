"""Metrics to a Prometheus Pushgateway: prometheus_client builds the request, mlmon's transport
sends it (one deadline, a bounded answer, no redirects, `user:password@` as Basic auth)."""

from __future__ import annotations

from typing import Any

from mlmon.notify.deliver import Permanent, Retryable, _clean, redact


def push(
    url: str, job: str, registry: Any, *, timeout: float, grouping_key: dict[str, str] | None = None
) -> None:
    """PUT the registry's metrics under `job` (and the grouping key's labels, e.g. the run's
    identity); raise Retryable, Permanent or Expired."""
    from prometheus_client import push_to_gateway

    from mlmon.notify import transport

    where = redact(url)

    def handler(
        url: str, method: str, timeout: float | None, headers: list[tuple[str, str]], data: bytes
    ) -> Any:
        def send() -> None:
            r = transport.request(method, url, timeout=limit, content=data, headers=dict(headers))
            if r.status >= 500 or r.status == 429:
                raise Retryable(f"{where}: HTTP {r.status}")
            if r.status >= 300:  # a refusal, or a redirect (not followed: the push was not stored)
                raise Permanent(f"{where}: HTTP {r.status}: {_clean(r.text(200), url)}")

        return send

    limit = timeout
    try:
        push_to_gateway(
            url, job=job, registry=registry, timeout=timeout, handler=handler, grouping_key=grouping_key
        )
    except (Retryable, Permanent):
        raise
    except ValueError as exc:  # the job name or URL cannot be put in a push URL
        raise Permanent(f"{where}: {_clean(str(exc), url)}") from None
