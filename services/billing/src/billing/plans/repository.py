from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from billing.models import Plan


async def all_plans(db: AsyncSession) -> list[Plan]:
    return list((await db.exec(select(Plan).order_by(col(Plan.position)))).all())


async def by_id(db: AsyncSession, plan_id: str) -> Plan | None:
    return await db.get(Plan, plan_id)


async def by_price(db: AsyncSession, price_id: str) -> Plan | None:
    return (await db.exec(select(Plan).where(Plan.stripe_price_id == price_id))).first()
