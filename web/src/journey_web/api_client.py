"""The public APIs, called through the gateway with the signed-in student's bearer token. The
web app reads nothing else: no schema, no service package, only what any client could."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from journey_web.problems import ApiProblem


def segment(value: str) -> str:
    """A form or address value as one segment of an API path: `/`, `?`, `#` and control
    characters escaped (httpx refuses the latter), and never a `..` that would climb the path."""
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


class Api:
    """One student's view of the APIs for one request (`/api/v1/<path>`)."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        files: Any = None,
        data: Any = None,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        """The response when it is a success (or a status in `ok`); ApiProblem otherwise."""
        response = await self.http.request(
            method,
            f"/api/v1/{path.lstrip('/')}",
            json=json,
            params={k: v for k, v in (params or {}).items() if v not in (None, "")},
            headers={**self.headers, **(headers or {})},
            files=files,
            data=data,
        )
        if response.status_code >= 400 and response.status_code not in ok:
            raise ApiProblem.from_response(response)
        return response

    async def get(self, path: str, **kwargs: Any) -> Any:
        return (await self.request("GET", path, **kwargs)).json()

    async def post(self, path: str, **kwargs: Any) -> Any:
        response = await self.request("POST", path, **kwargs)
        return response.json() if response.content else None

    async def put(self, path: str, **kwargs: Any) -> Any:
        response = await self.request("PUT", path, **kwargs)
        return response.json() if response.content else None

    async def patch(self, path: str, **kwargs: Any) -> Any:
        response = await self.request("PATCH", path, **kwargs)
        return response.json() if response.content else None

    async def delete(self, path: str, **kwargs: Any) -> Any:
        response = await self.request("DELETE", path, **kwargs)
        return response.json() if response.content else None
