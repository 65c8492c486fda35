"""The dashboard's own forms sum up their errors at the top of <main> as the public forms do (issue 15
must-show 4): the staff login, the agent console's start form, the staff, keys and registry forms. In
Chromium at 375x812, in both languages, with and without JavaScript: after a bad submit the summary is
main's first element, in view, focused and announced (role=alert), linking to each field in error."""

import time

import pytest

from tests.browser import LiveServer
from tests.test_browser import SHOTS, _context, _staff_login
from verify.services.actor import CLI

WIDTH, HEIGHT = 375, 812
TITLE = {"zh": "请修改以下内容：", "en": "Please correct this:"}


@pytest.fixture
def live(app):
    app.extensions["verify"].staff.create(CLI, "ada", "admin", "correct horse battery", "陈静")
    server = LiveServer(app)
    yield server
    server.stop()


def _submit(page, button):
    page.click(button)
    page.wait_for_load_state()


def _summed_up(page, lang, fields, words):
    # test_browser's check, polled from here: the dashboard's CSP (no 'unsafe-eval') refuses
    # Playwright's wait_for_function.
    deadline = time.monotonic() + 5
    while page.evaluate("document.activeElement && document.activeElement.id") != "error-summary":
        assert time.monotonic() < deadline, page.evaluate("document.activeElement && document.activeElement.outerHTML")
        time.sleep(0.05)
    assert page.evaluate("document.querySelector('main').firstElementChild.id") == "error-summary"
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    box = summary.bounding_box()
    assert box["y"] >= 0 and box["y"] + 40 < HEIGHT  # in view without scrolling
    links = summary.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert sorted(links) == sorted(f"#{f}" for f in fields)
    for name in fields:
        field = page.locator(f"#{name}")
        assert field.get_attribute("aria-invalid") == "true"
        assert f"{name}-error" in field.get_attribute("aria-describedby")
    summary = summary.inner_text()
    assert TITLE[lang] in summary and words[0 if lang == "zh" else 1] in summary, summary


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dashboard_form_errors_are_summed_up_at_the_top_focused_and_announced(browser, live, lang, js):
    context, page = _context(browser, WIDTH, HEIGHT, js)
    try:
        page.goto(live.url + f"/dashboard/login?lang={lang}")
        _submit(page, "main form button[type=submit]")  # nothing typed
        _summed_up(page, lang, ["name", "password"], ("请输入用户名", "Enter your name"))
        page.fill("#name", "ada")
        page.fill("#password", "not the password")
        _submit(page, "main form button[type=submit]")
        _summed_up(page, lang, [], ("用户名或密码错误", "Wrong name or password"))  # no one field to blame
        _staff_login(page, live, "ada")

        page.goto(live.url + "/dashboard/agent")
        page.fill("#borrower", "021 6080 0000")  # a fixed line cannot receive the code's SMS
        _submit(page, "form:has(#borrower) button[type=submit]")
        _summed_up(page, lang, ["borrower"], ("借款人手机号", "Borrower's mobile number"))
        if js:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"dashboard-console-errors-{lang}-375.png"), full_page=True)

        page.goto(live.url + "/dashboard/staff")
        page.fill("form[action='/dashboard/staff/ada'] input[name=display_name]", "")
        _submit(page, "form[action='/dashboard/staff/ada'] button[type=submit]")
        _summed_up(page, lang, ["display_name"], ("请输入借款人看到的姓名", "Enter the name borrowers should see"))

        page.goto(live.url + "/dashboard/keys")
        page.fill("#name", "a b")
        _submit(page, "form:has(#scope) button[type=submit]")
        _summed_up(page, lang, ["name"], ("请用 1–64 个字母", "1-64"))

        page.goto(live.url + "/dashboard/registry")
        page.fill("#number", "021-6080-2222")
        page.fill("#label_zh", "回访")
        page.fill("#label_en", "Callback")
        page.select_option("#status", "retired")
        page.fill("#retired_on", "soon")
        _submit(page, "form:has(#retired_on) button[type=submit]")
        _summed_up(page, lang, ["retired_on"], ("请填写日期", "must be a date like 2025-06-30"))
        if js:
            page.screenshot(path=str(SHOTS / f"dashboard-registry-errors-{lang}-375.png"), full_page=True)
    finally:
        context.close()
