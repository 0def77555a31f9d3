"""Plan: the tier and usage against each limit, upgrading through checkout (the local
provider's page in development, Stripe Checkout with keys) and the billing portal. Stripe
returns the student to /billing/success, /billing/canceled and /billing, as billing sets them."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from journey_web.deps import FormDep, StudentDep, redirect, render, templates
from journey_web.problems import ApiProblem

router = APIRouter()

B = "billing"


@router.get("/billing")
async def plan(request: Request, student: StudentDep) -> Response:
    subscription, plans, dashboard = await asyncio.gather(
        student.api.get(f"{B}/subscription"), student.api.get(f"{B}/plans"), student.api.get("dashboard/me")
    )
    return render(
        request,
        "plan.html",
        subscription=subscription,
        plans=plans["items"],
        usage=dashboard["plan"]["usage"],
    )


@router.post("/billing/checkout")
async def checkout(form: FormDep, student: StudentDep) -> Response:
    plan_id = str(form.get("plan_id") or "")
    key = str(form.get("idempotency_key") or "") or f"web-{plan_id}"
    try:
        started = await student.api.post(f"{B}/checkout", json={"plan_id": plan_id}, headers={"Idempotency-Key": key})
    except ApiProblem as exc:
        if exc.status not in (404, 409, 422):
            raise
        student.session.say(f"No checkout: {exc.detail}.")
        return redirect("/billing")
    return redirect(started["url"])  # the provider's page: Stripe's, or the local one in development


@router.post("/billing/portal")
async def portal(form: FormDep, student: StudentDep) -> Response:
    try:
        opened = await student.api.post(f"{B}/portal")
    except ApiProblem as exc:
        if exc.status != 404:
            raise
        student.session.say("There is nothing to manage yet: you have not bought a plan.")
        return redirect("/billing")
    return redirect(opened["url"])


@router.get("/billing/success")
async def success(request: Request, student: StudentDep) -> Response:
    subscription = await student.api.get(f"{B}/subscription")
    return render(request, "billing_success.html", subscription=subscription)


@router.get("/billing/status")
async def status(student: StudentDep) -> Response:
    subscription = await student.api.get(f"{B}/subscription")
    html = templates.get_template("_tier_status.html").render(subscription=subscription)
    return Response(html, media_type="text/html")


@router.get("/billing/canceled")
async def canceled(student: StudentDep) -> Response:
    student.session.say("Checkout canceled: nothing was charged.")
    return redirect("/billing")
