"""The whole student journey in a real Chromium, through the e2e stack's gateway: sign in,
the questionnaire (a validation message next to the field, resume), the persona arriving by
itself, a habit with check-in and undo, a reflection scored, a mission with the 415 and 413
answers in words and a PNG reviewed, a free limit, the upgrade through the local checkout page,
and the dashboard changing live without a reload. axe-core checks every page on the way
(0 serious or critical violations) and no page breaks its Content-Security-Policy.

Screenshots of the main pages go to $JOURNEY_SCREENSHOTS when it is set (docs/screenshots)."""

from __future__ import annotations

import io
import os
import re
import struct
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from journey_local.stack import Stack

WAIT_MS = 30_000  # persona, review and tier changes travel through workers on a shared machine


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x80\xff"))
        + chunk(b"IEND", b"")
    )


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "hi")
    return out.getvalue()


class Checks:
    """axe-core on each page visited, CSP violations from the console, optional screenshots."""

    def __init__(self, axe_source: str) -> None:
        self.axe_source = axe_source
        self.checked: list[str] = []
        self.csp_violations: list[str] = []
        shots = os.environ.get("JOURNEY_SCREENSHOTS")
        self.shots = Path(shots) if shots else None

    def watch(self, page: Page) -> None:
        page.on(
            "console",
            lambda message: (
                self.csp_violations.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )

    def page(self, page: Page, name: str) -> None:
        page.wait_for_load_state("domcontentloaded")
        # Evaluated through the DevTools protocol, so the page's strict CSP stays on meanwhile.
        page.evaluate(self.axe_source + "\n;0")
        violations: list[dict[str, Any]] = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
                 .map(v => ({id: v.id, impact: v.impact, help: v.help,
                             nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
        )
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not serious, f"{name}: {serious}"
        self.checked.append(name)
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


def _answer_current_question(page: Page) -> None:
    textarea = page.locator("textarea#value")
    if textarea.count():
        textarea.fill("Designing robots that help farmers grow food with less water.")
    elif page.locator("input[type=checkbox][name=value]").count():
        boxes = page.locator("input[type=checkbox][name=value]")
        hint = page.locator(".hint").first.inner_text() if page.locator(".hint").count() else ""
        most = int(m.group(1)) if (m := re.search(r"up to (\d+)", hint)) else 1
        for index in range(min(2, most, boxes.count())):
            boxes.nth(index).check()
    else:
        page.locator("input[type=radio][name=value]").last.check()
    page.get_by_role("button", name=re.compile("^Save and")).click()


def test_a_new_student_does_the_whole_journey_in_the_browser(axe_source: str, browser: Any, stack: Stack) -> None:
    checks = Checks(axe_source)
    context = browser.new_context(
        base_url=stack.gateway_url, timezone_id="Europe/Berlin", viewport={"width": 1100, "height": 900}
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    checks.watch(page)
    name = f"web{time.time_ns() % 10**9}"

    # Sign in: the home page sends a stranger to the sign-in page.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    checks.page(page, "signin")
    page.get_by_label("Your name").fill("not a name!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#name-error")).to_contain_text("letters")
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Hello, {name}")).to_be_visible()
    cookie = next(c for c in context.cookies() if c["name"] == "journey_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    checks.page(page, "home-new")

    # The questionnaire: a required question left empty gets the API's message next to it.
    page.get_by_role("link", name="Persona", exact=True).click()
    page.get_by_role("link", name="Start the questionnaire").click()
    checks.page(page, "questionnaire-intro")
    page.get_by_role("button", name="Start or continue").click()
    expect(page.get_by_text("Question 1 of 15")).to_be_visible()
    checks.page(page, "question")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator("#value-error")).to_be_visible()
    checks.page(page, "question-error")
    for _ in range(3):
        _answer_current_question(page)
    expect(page.get_by_text("Question 4 of 15")).to_be_visible()
    # Resume: starting again from the intro lands on the first unanswered question.
    page.goto("/questionnaire")
    page.get_by_role("button", name="Start or continue").click()
    expect(page.get_by_text("Question 4 of 15")).to_be_visible()
    while "/finish" not in page.url:
        _answer_current_question(page)
        page.wait_for_load_state("domcontentloaded")
    checks.page(page, "questionnaire-finish")
    page.get_by_role("button", name="Finish and write my persona").click()
    # Pending, then the persona arrives without a reload.
    expect(page.locator(".persona-ready")).to_be_visible()
    checks.page(page, "persona")

    # Today: the browser's time zone, a habit, check in, undo, check in again.
    page.get_by_role("link", name="Today", exact=True).click()
    expect(page.get_by_label("Your time zone")).to_have_value("Europe/Berlin")
    page.get_by_role("button", name="Set my time zone").click()
    expect(page.get_by_text("Your days now follow Europe/Berlin.")).to_be_visible()
    page.get_by_text("New habit").click()
    page.get_by_role("button", name="Create habit").click()  # no name: the API's 422 next to the field
    expect(page.locator("#name-error")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Read")
    page.get_by_role("button", name="Create habit").click()
    expect(page.get_by_text("Habit “Read” created.")).to_be_visible()
    page.get_by_role("button", name="Check in Read").click()
    expect(page.get_by_text("Checked in. Streak 1 day, strength")).to_be_visible()
    habit = page.locator(".habit", has_text="Read")
    expect(habit.locator(".badge")).to_have_text("Done")
    checks.page(page, "today")
    page.get_by_role("button", name="Undo check-in for Read").click()
    expect(habit.locator(".badge")).to_have_text("Due today")
    page.get_by_role("button", name="Check in Read").click()
    expect(habit.locator(".badge")).to_have_text("Done")

    # A goal with a target: progress and pace; then one step of progress.
    page.get_by_text("New goal").click()
    page.get_by_label("Goal", exact=True).fill("Read 300 pages")
    page.get_by_label("Target", exact=True).fill("300")
    page.get_by_label("Unit", exact=True).fill("pages")
    page.get_by_role("button", name="Set goal").click()
    expect(page.get_by_text("Goal “Read 300 pages” set")).to_be_visible()
    page.get_by_label("Add pages").fill("30")
    page.get_by_role("button", name="Add progress to Read 300 pages").click()
    expect(page.get_by_text("“Read 300 pages”:")).to_be_visible()
    expect(page.get_by_role("progressbar", name=re.compile("Read 300 pages: 10%"))).to_be_visible()

    # A reflection: saved pending, scored by the coaching worker, shown without a reload.
    page.get_by_role("link", name="Journal", exact=True).click()
    page.get_by_label("Your reflection", exact=True).fill("I read every day this week and I am proud of it!")
    page.get_by_label("4 Good").check()
    page.get_by_role("button", name="Save reflection").click()
    expect(page.locator(".sentiment").first).to_contain_text("positive")
    checks.page(page, "journal")

    # Missions: recommendations with reasons, a mission started, refused files explained, a PNG reviewed.
    page.get_by_role("link", name="Missions", exact=True).click()
    expect(page.locator(".why").first).to_contain_text("Why:")
    checks.page(page, "missions")
    page.locator("#recs-title ~ ul a").first.click()
    checks.page(page, "mission")
    page.get_by_role("button", name="Start this mission").click()
    expect(page.get_by_text("Submit your work when it is ready")).to_be_visible()
    text = "I compared the supplier report with my own test strip; the photo shows the strip. " * 3
    page.get_by_label("What you did and found").fill(text)
    page.get_by_label("Files (optional)").set_input_files(
        [{"name": "photo.png", "mimeType": "image/png", "buffer": _zip()}]
    )
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#submit-error")).to_contain_text("“photo.png” is a ZIP archive by its contents")
    page.get_by_label("Files (optional)").set_input_files(
        [{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"notes " * 8000}]
    )
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#submit-error")).to_contain_text("“notes.txt” is too large: a file may be at most 32 KiB")
    checks.page(page, "mission-refused")
    page.get_by_label("Files (optional)").set_input_files(
        [{"name": "strip.png", "mimeType": "image/png", "buffer": _png()}]
    )
    page.get_by_role("button", name="Submit for review").click()
    expect(page).to_have_url(re.compile(r"/missions/submissions/"))
    expect(page.locator(".score")).to_be_visible()  # pending, then the review replaces it
    expect(page.locator("#review table tbody tr").first).to_be_visible()
    expect(page.locator(".next-step")).not_to_be_empty()
    checks.page(page, "review")

    # A free limit: three habits at once; the fourth is "this needs Plus" with the upgrade button.
    page.goto("/today")
    for extra in ("Stretch", "Walk", "Drink water"):
        page.get_by_text("New habit").click()
        page.get_by_label("Name", exact=True).fill(extra)
        page.get_by_role("button", name="Create habit").click()
        page.wait_for_load_state("domcontentloaded")
    expect(page.get_by_role("heading", name="This needs Plus")).to_be_visible()
    checks.page(page, "needs-plus")

    # Upgrade through the local provider's checkout page, back to the app's success page.
    page.get_by_role("button", name="Upgrade to Plus").click()
    expect(page.get_by_role("button", name="Pay (locally)")).to_be_visible()
    page.get_by_role("button", name="Pay (locally)").click()
    expect(page).to_have_url(re.compile(r"/billing/success"))
    expect(page.locator("#tier-status")).to_contain_text("You are on plus now")
    checks.page(page, "upgraded")
    page.get_by_role("link", name="Plan", exact=True).click()
    expect(page.get_by_role("heading", name="Your plan: plus")).to_be_visible()
    checks.page(page, "plan")

    # The dashboard changes live: a check-in in another tab reaches this one without a reload.
    home = context.new_page()
    checks.watch(home)
    home.goto("/")
    expect(home.locator("#live-state")).to_have_attribute("data-state", "live")
    expect(home.locator(".tier")).to_have_text("Plus")
    home.evaluate("window.__notReloaded = true")
    before = int(home.locator("#dashboard").get_attribute("data-version") or "0")
    page.goto("/today")
    page.get_by_text("New habit").click()
    page.get_by_label("Name", exact=True).fill("Drink water")
    page.get_by_role("button", name="Create habit").click()
    page.get_by_role("button", name="Check in Drink water").click()
    expect(page.get_by_text("Checked in.")).to_be_visible()
    water = home.locator(".habit", has_text="Drink water")
    expect(water.locator(".badge")).to_have_text("Done")
    assert home.evaluate("window.__notReloaded") is True
    assert int(home.locator("#dashboard").get_attribute("data-version") or "0") > before
    checks.page(home, "home-live")
    # Every link the dashboard shows leads to a page (the relay renders the same links).
    links = set(home.eval_on_selector_all("#dashboard a[href^='/']", "els => els.map(e => e.getAttribute('href'))"))
    assert any(link.startswith("/missions/") for link in links), links
    for link in sorted(links):
        assert home.request.get(link).status == 200, link

    # Usable at phone width: nothing wider than the screen, every page still passes axe.
    page.set_viewport_size({"width": 375, "height": 800})
    for path, shot in (("/", "home-phone"), ("/today", "today-phone"), ("/missions", "missions-phone")):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a phone"
        checks.page(page, shot)

    assert not checks.csp_violations, checks.csp_violations
    assert len(checks.checked) >= 15
    context.close()


def test_pages_need_a_session_and_forms_need_their_csrf_token(browser: Any, stack: Stack) -> None:
    context = browser.new_context(base_url=stack.gateway_url)
    page = context.new_page()
    for path in ("/today", "/missions", "/billing", "/journal"):
        page.goto(path)
        expect(page).to_have_url(re.compile(r"/signin\?next=" + re.escape(path) + "$"))
    # A form posted from elsewhere (no token of this session) is refused.
    response = page.request.post("/signin", form={"name": "mallory", "csrf_token": "forged"})
    assert response.status == 403
    answer = page.goto("/signin")
    assert answer is not None
    headers = answer.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    context.close()


def test_signing_in_and_checking_in_by_keyboard_alone_with_a_visible_focus(browser: Any, stack: Stack) -> None:
    context = browser.new_context(base_url=stack.gateway_url)
    page = context.new_page()
    page.goto("/signin")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => ({text: document.activeElement.textContent.trim(),"
        " outline: getComputedStyle(document.activeElement).outlineStyle})"
    )
    assert focused == {"text": "Skip to content", "outline": "solid"}
    page.keyboard.press("Enter")  # the skip link moves focus to the main content
    _tab_to(page, "document.activeElement.id === 'name'")
    page.keyboard.type(f"keys{time.time_ns() % 10**9}")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("^Hello, keys"))).to_be_visible()
    page.goto("/today")
    _tab_to(page, "document.activeElement.tagName === 'SUMMARY'")
    page.keyboard.press("Enter")  # opens the new-habit form
    page.keyboard.press("Tab")
    page.keyboard.type("Stretch")
    page.keyboard.press("Enter")  # submits it
    expect(page.get_by_text("Habit “Stretch” created.")).to_be_visible()
    _tab_to(page, "document.activeElement.textContent.includes('Check in Stretch')")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.locator(".habit", has_text="Stretch").locator(".badge")).to_have_text("Done")
    context.close()


def _tab_to(page: Page, condition: str, most: int = 40) -> None:
    """Press Tab until `condition` (JavaScript) holds for the focused element."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate(condition):
            return
    raise AssertionError(f"never reached by Tab: {condition}")
