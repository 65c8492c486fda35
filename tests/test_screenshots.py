"""Issue 15 item 14: a screenshot of every page at 375x812 in both languages, in test-artifacts/screenshots/
as ``<page>-<lang>-375.png``, for people to look at; in Chromium, no page scrolls sideways at 375 px, and
the dashboard's pages carry headings in the language asked for (issue 15 item 6), and axe-core finds
nothing serious on the Chinese dashboard at this width.

The public verdict pages (check and verify results) are shot by tests/test_browser.py
(``verdict-<verdict>-<lang>.png``); this file adds every other page. One browser for the session
(conftest), one context and one page per role and language."""

import re

import pytest

from tests.test_browser import SHOTS, _context, _serious, _staff_login
from verify.services.actor import CLI

WIDTH, HEIGHT = 375, 812
CJK = re.compile(r"[\u4e00-\u9fff]")
# Scroll width of the page, and the elements that stick out past the right edge (to say which).
_SIDEWAYS = """() => [document.documentElement.scrollWidth,
    [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1
        ).slice(0, 5).map(e => e.outerHTML.slice(0, 80))]"""
# Fields and buttons under 44 px high: too small to tap (the public pages' rule, tests/test_browser.py).
_SMALL = """() => [...document.querySelectorAll(
    'button, .button, input:not([type=hidden]):not([type=checkbox]), select, textarea')]
    .filter(e => e.getBoundingClientRect().height < 44).map(e => e.outerHTML.slice(0, 60))"""


@pytest.fixture
def people(app, client):
    """An admin, a support member and an agent; a report with a contact number about a number that is
    not ours and one about our own line."""
    staff = app.extensions["verify"].staff
    for name, role, shown in (("ada", "admin", "陈静"), ("sam", "support", None), ("aga", "agent", "王小明")):
        staff.create(CLI, name, role, "correct horse battery", shown)
    client.post("/api/v1/reports", json={"number": "021-6080-0000", "text": "自称客服，来电显示是官方号码"})
    return client.post("/api/v1/reports", json={
        "number": "021-9999-8888", "categories": ["sms_code", "transfer"], "text": "要我报验证码，然后转账到“安全账户”",
        "reporter_phone": "13800138000", "amount_lost": "1200"}).get_json()["id"]


class Shots:
    """Visits pages in one browser page, saves each as <name>-<lang>-375.png and checks its width."""

    def __init__(self, page, live, lang):
        self.page, self.live, self.lang = page, live, lang
        self.wide, self.axe, self.small = {}, {}, {}

    def go(self, path, name, heading=None):
        self.page.goto(self.live.url + path)
        self.page.wait_for_load_state()
        return self.take(name, heading)

    def take(self, name, heading=None):
        """Save the page as it is; ``heading``: a selector whose text must be in the page's language."""
        page = self.page
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{self.lang}-{WIDTH}.png"), full_page=True)
        width, sticking_out = page.evaluate(_SIDEWAYS)
        if width > WIDTH:
            self.wide[name] = (width, sticking_out)
        if small := page.evaluate(_SMALL):
            self.small[name] = small
        # axe-core on the dashboard in Chinese at this width (test_browser.py runs it on the public
        # pages at 375 px and the English dashboard at 1200 px): once is enough, it takes a while
        if self.lang == "zh" and name.startswith("dashboard-") and (found := _serious(page)):
            self.axe[name] = found
        if heading:
            text = page.locator(heading).first.inner_text()
            assert bool(CJK.search(text)) == (self.lang == "zh"), f"{name}-{self.lang}: {heading} is {text!r}"
        return page


def _as(browser, live, lang, name=None):
    context, page = _context(browser, WIDTH, HEIGHT)
    page.goto(live.url + f"/dashboard/login?lang={lang}")  # the switch, remembered in a cookie
    if name:
        _staff_login(page, live, name)
    return context, Shots(page, live, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_at_375_px_in_both_languages(browser, live, people, lang):
    report = people
    contexts, wide, axe, small = [], {}, {}, {}
    try:
        context, shots = _as(browser, live, lang)
        contexts.append(context)
        _public_pages(shots)
        shots.go("/dashboard/login", "dashboard-login", "h1")
        shots.go("/dashboard/no-such-page", "dashboard-error-404", "h1")
        wide.update(shots.wide)
        axe.update(shots.axe)
        small.update(shots.small)

        context, shots = _as(browser, live, lang, "sam")
        contexts.append(context)
        _support_pages(shots, report)
        wide.update(shots.wide)
        axe.update(shots.axe)
        small.update(shots.small)

        context, shots = _as(browser, live, lang, "ada")
        contexts.append(context)
        for path, name, heading in (
            ("/dashboard/registry", "dashboard-registry", "h1"),
            ("/dashboard/registry/%2B862160800000", "dashboard-registry-entry", "main h2"),
            ("/dashboard/keys", "dashboard-keys", "h1"),
            ("/dashboard/audit", "dashboard-audit", "h1"),
            ("/dashboard/staff", "dashboard-staff", "h1"),
        ):
            shots.go(path, name, heading)
        wide.update(shots.wide)
        axe.update(shots.axe)
        small.update(shots.small)

        context, shots = _as(browser, live, lang, "aga")
        contexts.append(context)
        _agent_pages(shots)
        wide.update(shots.wide)
        axe.update(shots.axe)
        small.update(shots.small)
    finally:
        for context in contexts:
            context.close()
    assert wide == {}, f"pages that scroll sideways at {WIDTH} px: {wide}"
    assert axe == {}, f"serious accessibility problems: {axe}"
    assert small == {}, f"fields or buttons under 44 px: {small}"


def _public_pages(shots):
    page = shots.page
    shots.go("/", "home")
    shots.go("/check?number=call+me", "check-error")
    shots.go("/numbers", "numbers")
    shots.go("/nowhere", "error-404")
    shots.go("/report", "report")
    page.click("form[action='/report'] button")  # nothing filled in: the errors on top
    page.wait_for_load_state()
    shots.take("report-errors")
    page.fill("#number", "021-9999-7777")
    page.check("input[value='screen_share']")
    page.fill("#text", "让我下载会议软件共享屏幕")
    page.click("form[action='/report'] button")
    page.wait_for_load_state()
    assert page.locator(".reference").count() == 1
    shots.take("report-done")


def _support_pages(shots, report):
    page = shots.page
    shots.go("/dashboard/overview", "dashboard-overview", "h1")
    shots.go("/dashboard/reports", "dashboard-reports", "h1")
    shots.go(f"/dashboard/reports/{report}", "dashboard-report", "h1")
    shots.go("/dashboard/numbers/%2B862199998888", "dashboard-number", "caption")
    shots.go("/dashboard/numbers/%2B862160800000", "dashboard-number-ours", ".ours strong")
    shots.go("/dashboard/alerts", "dashboard-alerts", "h1")
    shots.go("/dashboard/registry", "dashboard-error-403", "h1")  # an admin's page
    page.goto(shots.live.url + f"/dashboard/reports/{report}")
    page.click(f"form[action='/dashboard/reports/{report}/contact'] button")
    page.wait_for_load_state()
    shots.take("dashboard-contact", "main p")


def _agent_pages(shots):
    page = shots.page
    assert "/dashboard/agent" in page.url  # where an agent starts
    shots.take("dashboard-agent", "h1")
    page.fill("#borrower", "138 0013 8000")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert re.fullmatch(r"\d{6}", page.locator(".code").inner_text())
    shots.take("dashboard-agent-session", "h1")
    page.goto(shots.live.url + "/dashboard/agent")
    page.fill("#borrower", "12")  # not a number: the error on the form
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    shots.take("dashboard-agent-error", "#borrower + .error")
