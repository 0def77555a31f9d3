from __future__ import annotations

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


async def next_attempt(db: AsyncSession) -> int:
    """A number per checkout that passed its checks; later checkouts get larger ones."""
    return int((await db.exec(text("SELECT nextval('checkout_attempts')"))).scalar_one())  # type: ignore[call-overload]
