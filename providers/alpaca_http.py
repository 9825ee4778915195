"""What alpaca-py's clients lack on the wire, set once for every client we build.

alpaca-py sets no timeout on its requests and sleeps through its own retries on 429/504.
Our callers need both back: a timeout so a hung call fails fast, and the error itself so
the broker can look an order up before retrying and a data provider can trip its breaker.
"""
from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

Timeout = float | tuple[float, float]  # total, or (connect, read)


class _TimeoutAdapter(HTTPAdapter):
    def __init__(self, timeout: Timeout) -> None:
        super().__init__()
        self._timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def prepare_client(client: Any, timeout: Timeout) -> Any:
    """Give an alpaca-py REST client a default timeout and no silent retries; returns the client."""
    adapter = _TimeoutAdapter(timeout)
    client._session.mount("http://", adapter)
    client._session.mount("https://", adapter)
    client._retry = 0
    return client
