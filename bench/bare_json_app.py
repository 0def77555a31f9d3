"""The reference for `GET /api/v1/dashboard/me` in bench/dashboard_live.py: a bare FastAPI JSON endpoint
(no token, no database), served behind the same Traefik chain."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/ref/json")
async def bare_json() -> dict[str, object]:
    return {"ok": True, "version": 1, "items": [1, 2, 3]}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
