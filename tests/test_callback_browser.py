"""Callback requests in the agent console in a real headless Chromium (issue 17 item 2), at 1280x800
and 375x812: the list, "Show number", "Call back" to the session's code, which the borrower's check
finds genuine; the page fits a phone and passes axe-core; and the hint on the public pages."""

import pytest

from tests.test_browser import SHOTS, _serious, _staff_login, staff_accounts  # noqa: F401 (a fixture; browser, live: conftest)
from verify import phones
from verify.services.actor import Actor


def _ask(app, number, preferred=""):
    app.extensions["verify"].callback_requests.ask(Actor("sms"), phones.parse(number), preferred, "sms")


@pytest.mark.parametrize("width, height", [(1280, 800), (375, 812)])
def test_an_agent_calls_a_borrower_back_from_the_console(browser, live, app, client, key, staff_accounts,  # noqa: F811
                                                         width, height):
    _ask(app, "13800138000", "今晚7点<b>x</b>")
    _ask(app, "13912345678")
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        _staff_login(page, live, "aga")
        requests = page.locator(".requests .request")
        assert requests.count() == 2
        first = requests.nth(0)
        assert "138****8000" in first.inner_text() and "今晚7点<b>x</b>" in first.inner_text()  # as text, inert
        assert "139****5678" in requests.nth(1).inner_text()
        assert "13800138000" not in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        for button in (first.get_by_role("button", name="Call back"), first.get_by_role("button", name="Show number")):
            box = button.bounding_box()
            assert box["height"] >= 44 and box["x"] + box["width"] <= width
        first.get_by_role("button", name="Show number").click()
        page.wait_for_load_state()
        link = page.locator('.requests a[href="tel:+8613800138000"]')
        assert link.inner_text() == "138 0013 8000"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"agent-callback-requests-{width}.png"), full_page=True)
        page.locator('.request[data-request]').nth(0).get_by_role("button", name="Call back").click()
        page.wait_for_load_state()
        assert "/dashboard/agent/sessions/" in page.url
        code = page.locator(".code").inner_text()
        body = client.post("/api/v1/verify", json={"phone": "13800138000", "code": code}).get_json()
        assert body["verdict"] == "genuine"
        page.goto(live.url + "/dashboard/agent")
        assert page.locator(".requests .request").count() == 1
        assert "139****5678" in page.locator(".requests .request").inner_text()
        assert client.get("/api/v1/callbacks", headers=key("sessions")).get_json()["callbacks"][0]["number"] == "+8613912345678"
    finally:
        context.close()


def test_the_console_with_requests_passes_axe(browser, live, app, staff_accounts):  # noqa: F811
    _ask(app, "13800138000", "今晚7点")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        _staff_login(page, live, "aga")
        assert _serious(page) == []
        page.get_by_role("button", name="Show number").click()
        page.wait_for_load_state()
        assert _serious(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("width, height", [(1280, 800), (375, 812)])
def test_a_wrong_code_page_says_how_to_ask_for_a_callback(browser, live, width, height):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(live.url + "/check?number=13912345678")
        hint = page.locator("#callback-hint")
        assert "回电" in hint.inner_text() and "10690009518" in hint.inner_text()
        assert hint.is_visible() and page.evaluate("document.documentElement.scrollWidth") <= width
        assert _serious(page) == []
    finally:
        context.close()
