"""The web app reads at most MAX_UPLOAD_BYTES of a body, also when it comes chunked (no
Content-Length to refuse up front): past the cap it answers 413 in words and forwards nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

BOUNDARY = "journey-test-boundary"
MISSION_WORK = "/missions/m-1/work/00000000-0000-0000-0000-000000000003"


async def _chunked_upload(csrf_token: str, size: int) -> AsyncIterator[bytes]:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf_token}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    )
    yield head.encode()
    chunk = b"a" * 2**20
    for _ in range(size // len(chunk)):
        yield chunk
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def test_a_chunked_body_over_the_cap_is_413_in_words(browser: httpx.AsyncClient, csrf_token: str) -> None:
    answer = await browser.post(
        "/journal",
        content=_chunked_upload(csrf_token, 17 * 2**20),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413
    assert "too large to send" in answer.text
    assert "content-security-policy" in answer.headers


async def test_a_chunked_submission_over_the_cap_never_reaches_missions(
    browser: httpx.AsyncClient, gateway_calls: list[httpx.Request], csrf_token: str
) -> None:
    answer = await browser.post(
        f"{MISSION_WORK}/submit",
        content=_chunked_upload(csrf_token, 17 * 2**20),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert answer.status_code < 500
    assert not [c for c in gateway_calls if c.method == "POST" and "/submissions" in c.url.path]
