"""The public pages in a real headless Chromium (Debian's /usr/bin/chromium through Playwright),
with and without JavaScript: the flows, the language switch, layout at 360 px, tap targets,
screenshots at 375x812, and axe-core's accessibility check on every page."""

import re
from pathlib import Path

import pytest

from tests.browser import LiveServer

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def page(request, browser):
    context = browser.new_context(viewport={"width": 375, "height": 812}, java_script_enabled=request.param,
                                  locale="zh-CN")
    page = context.new_page()
    page.js = request.param
    yield page
    context.close()


def shot(page, name):
    if page.js:  # one set is enough for people to look at
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def verdict(page):
    return page.locator("[data-verdict]").get_attribute("data-verdict")


def check_number(page, live, number):
    page.goto(live.url + "/")
    page.get_by_label("给您来电的号码").fill(number)
    page.get_by_role("button", name="查询这个号码").click()
    page.wait_for_load_state()
    return verdict(page)


@pytest.mark.parametrize(
    "number, expected, words",
    [
        ("021-6080-0000", "official", "来电显示可以伪造"),
        ("400 000 9518", "inbound_only", "我们从不用这个号码外呼"),
        ("13912345678", "unknown", "不是我们的号码"),
    ],
)
def test_check_numbers(page, live, number, expected, words):
    assert check_number(page, live, number) == expected
    assert words in page.content()
    shot(page, f"check-{expected}")


def test_check_lookalike(page, live, client, key):
    client.post("/api/v1/numbers", headers=key("registry"), json={
        "number": "95188", "labels": {"zh": "客服", "en": "Service"}, "purpose": "hotline", "direction": "both"})
    assert check_number(page, live, "0095188") == "lookalike"
    assert "我们真正的号码是 95188" in page.inner_text("main")
    shot(page, "check-lookalike")


def _verify(page, live, phone, code):
    page.goto(live.url + "/")
    page.get_by_label("您自己的手机号").fill(phone)
    page.get_by_label("来电客服告诉您的6位核验码").fill(code)
    page.get_by_role("button", name="核实来电").click()
    page.wait_for_load_state()
    return verdict(page)


def test_verify_with_the_right_code(page, live, open_session):
    created = open_session()
    assert _verify(page, live, "138 0013 8000", created["code"]) == "genuine"
    assert "王**" in page.content() and "A17" in page.content()
    shot(page, "verify-genuine")


def test_verify_with_a_wrong_code(page, live, open_session):
    created = open_session()
    wrong = f"{(int(created['code']) + 1) % 1000000:06d}"
    assert _verify(page, live, "13800138000", wrong) == "not_verified"
    assert "400-000-9518" in page.content()
    shot(page, "verify-not-verified")


def test_file_a_report(page, live, app):
    page.goto(live.url + "/report")
    page.get_by_label("给您打电话或发短信的号码").fill("021-9999-8888")
    page.get_by_label("短信验证码").check()
    page.get_by_label("转账汇款").check()
    page.get_by_label("经过（选填）").fill("<b>自称客服</b>，要我报验证码")
    page.get_by_role("button", name="提交举报").click()
    page.wait_for_load_state()
    reference = page.locator(".reference").inner_text()
    assert re.fullmatch(r"R\d{6}-[A-Z0-9]{6}", reference)
    from tests.conftest import registry_of

    assert registry_of(app).reports.get(reference)["categories"] == "sms_code,transfer"
    shot(page, "report-done")


def test_report_errors_keep_what_was_typed(page, live):
    page.goto(live.url + "/report")
    page.get_by_label("给您打电话或发短信的号码").fill("no number here")
    page.get_by_label("经过（选填）").fill("他让我转账")
    page.get_by_role("button", name="提交举报").click()
    page.wait_for_load_state()
    assert page.get_by_label("经过（选填）").input_value() == "他让我转账"
    assert "这看起来不像电话号码" in page.content() or "电话号码只有数字" in page.content()


def test_switch_language_and_it_is_remembered(page, live):
    page.goto(live.url + "/")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert "Is OK Wallet really calling you?" in page.content()
    page.goto(live.url + "/numbers")
    assert "Our official numbers" in page.content()
    shot(page, "home-en")
    page.get_by_role("link", name="中文").click()
    page.wait_for_load_state()
    assert "我们的官方号码" in page.content()


def test_no_horizontal_scrolling_at_360_px_and_big_tap_targets(browser, live, open_session):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        for path in ("/", "/report", "/numbers", "/check?number=021-6080-0000", "/check?number=4000009518&lang=en"):
            page.goto(live.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{path} scrolls sideways: {width}px"
            small = page.evaluate("""() => [...document.querySelectorAll(
                'button, .button, input:not([type=hidden]):not([type=checkbox]), select, textarea, header a, footer a, .checks li')]
                .map(e => [e.outerHTML.slice(0, 60), e.getBoundingClientRect().height])
                .filter(([_, h]) => h < 44)""")
            assert small == [], f"{path}: tap targets under 44 px: {small}"
    finally:
        context.close()


def test_home_screenshot(page, live):
    page.goto(live.url + "/")
    assert "真的是OK钱包给您打电话吗？" in page.content()
    shot(page, "home")


AXE = None


def _axe_source():
    global AXE
    if AXE is None:
        import axe_playwright_python

        AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
    return AXE


def test_accessibility_of_every_page(browser, live, open_session, client, key):
    client.post("/api/v1/numbers", headers=key("registry"), json={
        "number": "95188", "labels": {"zh": "客服", "en": "Service"}, "purpose": "hotline", "direction": "both"})
    created = open_session()
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    pages = [
        "/", "/?lang=en", "/report", "/numbers", "/check?number=021-6080-0000", "/check?number=4000009518",
        "/check?number=0095188", "/check?number=13912345678", "/check?number=021-6080-1111", "/nowhere",
        "/check?number=letters",
    ]
    try:
        found = {}
        for path in pages:
            page.goto(live.url + path)
            found[path] = _serious(page)
        # result pages that come from a form post
        for code in (created["code"], "000000" if created["code"] != "000000" else "000001"):
            page.goto(live.url + "/")
            page.fill("#phone", "13800138000")
            page.fill("#code", code)
            page.click("form[action='/verify'] button")
            page.wait_for_load_state()
            found[f"verify {verdict(page)}"] = _serious(page)
        page.goto(live.url + "/report")
        page.click("form[action='/report'] button")  # empty: the error state
        page.wait_for_load_state()
        found["report errors"] = _serious(page)
        assert {path: v for path, v in found.items() if v} == {}
    finally:
        context.close()


def _serious(page):
    # Evaluated over the DevTools protocol, so the page's CSP (no inline script) does not block it.
    page.evaluate(_axe_source())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], len(v["nodes"])) for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_screenshots_of_the_other_result_pages(browser, live, app):
    """retired, reported, known_scam and locked, for people to look at."""
    import time

    from tests.conftest import registry_of

    svc = app.extensions["verify"]
    for reporter in "abc":
        svc.store.redis.zadd(registry_of(app).reporters_key("+8613911111111"), {reporter: time.time()})
    svc.store.redis.sadd(registry_of(app).known_scam_key(), "+8613922222222")
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN")
    page = context.new_page()
    page.js = True
    try:
        for number, expected in (("021-6080-1111", "retired"), ("13911111111", "reported"), ("13922222222", "known_scam")):
            assert check_number(page, live, number) == expected
            shot(page, f"check-{expected}")
        for _ in range(6):
            _verify(page, live, "13700000000", "111111")
        assert verdict(page) == "locked"
        shot(page, "verify-locked")
    finally:
        context.close()


def test_missing_chromium_fails_in_ci(monkeypatch):
    from tests import browser as helpers

    monkeypatch.setattr(helpers, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Chromium not found"):
        helpers.chromium_or_skip()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        helpers.chromium_or_skip()


# --- dashboard ---------------------------------------------------------------------------------------------
def _staff_login(page, live, name):
    # By the fields' ids: the login page is in Chinese or English, as the browser asks.
    page.goto(live.url + "/dashboard/login")
    page.fill("#name", name)
    page.fill("#password", "correct horse battery")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def staff_accounts(app):
    from verify.services.actor import CLI

    accounts = app.extensions["verify"].staff
    accounts.create(CLI, "sam", "support", "correct horse battery")
    accounts.create(CLI, "aga", "agent", "correct horse battery", "王小明")


def test_support_confirms_a_report_and_the_public_check_says_known_scam(browser, live, client, staff_accounts):
    evil = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>要验证码'
    report_id = client.post("/api/v1/reports", json={"number": "021-9999-8888", "text": evil}).get_json()["id"]
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        _staff_login(page, live, "sam")
        page.goto(live.url + f"/dashboard/reports/{report_id}")
        assert page.title() != "pwned" and dialogs == []
        assert page.locator(".reported-text").inner_text().startswith("<img src=x")  # shown as text, inert
        assert page.locator(".reported-text img").count() == 0
        page.get_by_label("Status").select_option("confirmed_scam")
        page.get_by_label("Add a note").fill("borrower confirmed: fake callback")
        page.get_by_role("button", name="Save").click()
        page.wait_for_load_state()
        assert "status new -> confirmed_scam" in page.content().replace("&gt;", ">")
        page.goto(live.url + "/check?number=021-9999-8888&lang=en")
        assert verdict(page) == "known_scam"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.goto(live.url + "/dashboard/overview")
        page.screenshot(path=str(SHOTS / "dashboard-overview.png"), full_page=True)
    finally:
        context.close()


def _start_in_console(page, live, borrower="138 0013 8000"):
    page.goto(live.url + "/dashboard/agent")
    page.get_by_label("Borrower's mobile number").fill(borrower)
    page.get_by_role("button", name="Start session").click()
    page.wait_for_load_state()
    return page.locator(".code").inner_text()


def _status(page):
    return page.locator("#status").get_attribute("data-status")


@pytest.mark.parametrize("width, height", [(1280, 800), (375, 812)])
def test_the_agent_console_never_kills_a_live_code(browser, live, client, staff_accounts, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        _staff_login(page, live, "aga")
        assert "/dashboard/agent" in page.url
        assert page.get_by_label("You will call from").input_value() == "+862160800000"  # a callback line
        code = _start_in_console(page, live)
        assert re.fullmatch(r"\d{6}", code)
        session_url = page.url
        assert re.search(r"/dashboard/agent/sessions/[0-9a-f-]+$", session_url)  # the session's own GET page
        assert "left" in page.locator(".countdown").inner_text()  # the countdown script runs (CSP allows 'self')
        page.reload()  # post/redirect/get: nothing is posted again
        assert page.url == session_url and page.locator(".code").inner_text() == code
        # Start again for the same borrower: the live session is shown, its code unchanged.
        assert _start_in_console(page, live, "+86 138 0013 8000") == code
        assert page.url == session_url + "?already=1"
        assert page.get_by_text("This borrower already has a live session").is_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"agent-console-{width}.png"), full_page=True)
        assert _status(page) == "active"
        body = client.post("/api/v1/verify", json={"phone": "13800138000", "code": code}).get_json()
        assert body["verdict"] == "genuine" and body["session"]["agent_name"] == "王**"
        # No reload: the page's script sees the borrower verify.
        page.wait_for_selector('#status[data-status="confirmed"]', timeout=10_000)
        assert "the borrower verified this call" in page.locator("#status").inner_text()
        assert page.url == session_url + "?already=1"
    finally:
        context.close()


@pytest.mark.parametrize("width, height", [(1280, 800), (375, 812)])
def test_replacing_a_code_is_explicit_and_kills_the_old_one(browser, live, client, staff_accounts, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        _staff_login(page, live, "aga")
        old = _start_in_console(page, live)
        replace = page.get_by_role("button", name="Issue a new code: the old code stops working")
        assert not replace.is_visible()  # behind its own disclosure, which says what happens
        page.get_by_text("Replace with a new code").click()
        assert page.get_by_text(f"The code {old} stops working at once").is_visible()
        replace.click()
        page.wait_for_load_state()
        new = page.locator(".code").inner_text()
        assert new != old and page.url.endswith("?replaced=1")
        assert client.post("/api/v1/verify", json={"phone": "13800138000", "code": old}).get_json()["verdict"] == "not_verified"
        assert client.post("/api/v1/verify", json={"phone": "13800138000", "code": new}).get_json()["verdict"] == "genuine"
        page.wait_for_selector('#status[data-status="confirmed"]', timeout=10_000)
    finally:
        context.close()


def test_the_session_page_works_without_javascript(browser, live, client, staff_accounts):
    context = browser.new_context(viewport={"width": 375, "height": 812}, java_script_enabled=False)
    page = context.new_page()
    try:
        _staff_login(page, live, "aga")
        code = _start_in_console(page, live)
        assert _status(page) == "active"
        assert client.post("/api/v1/verify", json={"phone": "13800138000", "code": code}).get_json()["verdict"] == "genuine"
        page.get_by_role("link", name="Refresh").click()
        page.wait_for_load_state()
        assert _status(page) == "confirmed" and page.locator(".code").inner_text() == code
        page.get_by_role("button", name="End the session (after the call)").click()
        page.wait_for_load_state()
        assert _status(page) == "ended" and page.locator(".code").count() == 0
    finally:
        context.close()


def test_accessibility_of_the_dashboard(browser, live, client, staff_accounts, app):
    from verify.services.actor import CLI

    app.extensions["verify"].staff.create(CLI, "ada", "admin", "correct horse battery", "陈静")
    report_id = client.post("/api/v1/reports", json={"number": "021-6080-0000", "text": "x"}).get_json()["id"]
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    try:
        page.goto(live.url + "/dashboard/login")
        found = {"login": _serious(page)}
        _staff_login(page, live, "ada")
        for path in ("/dashboard/overview", "/dashboard/reports", f"/dashboard/reports/{report_id}",
                     "/dashboard/numbers/%2B862160800000", "/dashboard/alerts", "/dashboard/registry",
                     "/dashboard/registry/%2B862160800000", "/dashboard/keys", "/dashboard/audit", "/dashboard/agent",
                     "/dashboard/staff"):
            page.goto(live.url + path)
            found[path] = _serious(page)
        _start_in_console(page, live)
        page.get_by_text("Replace with a new code").click()
        found["agent session"] = _serious(page)
        assert {path: v for path, v in found.items() if v} == {}
    finally:
        context.close()


# --- issue 15: headlines that say what to do, the hotline button, numbers on one line, error summary -------
VIEWPORTS = [(375, 812), (1280, 800)]
HEADLINES = {
    "official": ("这是官方号码，但来电显示可以伪造 — 请对方报出核验码再继续",
                 "Official number, but caller ID can be faked — ask for the code before you go on"),
    "inbound_only": ("假冒来电：我们从不用这个号码外呼 — 请挂断", "Fake call: we never call from this number — hang up"),
    "retired": ("这个号码我们已停用 — 请挂断", "We no longer use this number — hang up"),
    "lookalike": ("假冒：这个号码在模仿我们的号码 — 请挂断", "Fake: this number imitates one of ours — hang up"),
    "known_scam": ("已确认的诈骗号码 — 请挂断，不要转账", "Confirmed scam number — hang up, send no money"),
    "reported": ("已被多人举报 — 请挂断", "Reported by several people — hang up"),
    "unknown": ("不是我们的号码 — 请挂断", "Not our number — hang up"),
    "unavailable": ("暂时无法核实 — 请挂断，自己拨打官方热线", "We cannot check right now — hang up and call our hotline yourself"),
    "genuine": ("核验通过：这通电话确实是我们打的 — 可以继续通话，但不要透露验证码",
                "Verified: this call is really from us — go on, but never share codes"),
    "not_verified": ("未通过核验 — 请挂断", "Not verified — hang up"),
    "locked": ("核验码错误次数过多 — 请挂断", "Too many wrong codes — hang up"),
}
NUMBERS = [("021-6080-0000", "official"), ("400 000 9518", "inbound_only"), ("021-6080-1111", "retired"),
           ("0021-6080-0000", "lookalike"), ("13922222222", "known_scam"), ("13911111111", "reported"),
           ("13912345678", "unknown")]
# Every .tel on the page: its text, how many lines its text takes (distinct line tops of its text's boxes)
# and its text's height against its font size.
_TEL_LINES = """() => [...document.querySelectorAll('.tel')].map(e => {
    const range = document.createRange();
    range.selectNodeContents(e);
    const rects = [...range.getClientRects()].filter(r => r.width > 0);
    const box = range.getBoundingClientRect();
    return [e.textContent.trim(), new Set(rects.map(r => Math.round(r.top))).size,
            box.height / parseFloat(getComputedStyle(e).fontSize)];
})"""


def _context(browser, width, height, js=True):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", java_script_enabled=js)
    page = context.new_page()
    page.js = js
    return context, page


def _assert_verdict_page(page, expected, lang, width, name):
    assert verdict(page) == expected
    headline = " ".join(page.locator("#verdict-title").inner_text().split())
    assert headline == HEADLINES[expected][0 if lang == "zh" else 1]
    button = page.locator("a.call-button[href='tel:4000009518']")
    assert button.count() == 1 and button.is_visible()
    assert button.bounding_box()["height"] >= 44
    assert "400-000-9518" in button.inner_text()
    tels = page.evaluate(_TEL_LINES)
    assert any(text == "400-000-9518" for text, _n, _h in tels)
    wrapped = [(text, n, round(h, 2)) for text, n, h in tels if n != 1 or h > 1.9]  # one line: under 2 font sizes
    assert wrapped == [], f"{expected}/{lang}/{width}: numbers broken across lines: {wrapped}"
    if width == 375:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"verdict-{name}-{lang}.png"), full_page=True)


def _post_code(page, live, lang, phone, code):
    page.goto(live.url + f"/?lang={lang}")
    page.fill("#phone", phone)
    page.fill("#code", code)
    page.click("form[action='/verify'] button")
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["zh", "en"])  # one language per test: the web allows 10 code checks a minute
@pytest.mark.parametrize("width, height", VIEWPORTS)
def test_every_verdict_headline_says_what_to_do_with_a_big_hotline_button(browser, live, app, client, key,
                                                                          open_session, width, height, lang):
    import time

    from tests.conftest import registry_of

    svc = app.extensions["verify"]
    for reporter in "abc":
        svc.store.redis.zadd(registry_of(app).reporters_key("+8613911111111"), {reporter: time.time()})
    svc.store.redis.sadd(registry_of(app).known_scam_key(), "+8613922222222")
    context, page = _context(browser, width, height)
    try:
        for number, expected in NUMBERS:
            page.goto(live.url + f"/check?number={number}&lang={lang}")
            _assert_verdict_page(page, expected, lang, width, f"check-{expected}")
        _post_code(page, live, lang, "13800138000", open_session()["code"])
        _assert_verdict_page(page, "genuine", lang, width, "verify-genuine")
        _post_code(page, live, lang, "13900000000", "123456")
        _assert_verdict_page(page, "not_verified", lang, width, "verify-not_verified")
        for _ in range(6):
            _post_code(page, live, lang, "13700000000", "111111")
        _assert_verdict_page(page, "locked", lang, width, "verify-locked")
        until = page.locator(".until").inner_text()
        assert re.search(r"(暂停到|paused until) \d{4}-\d{2}-\d{2} \d{2}:\d{2}", until), until
    finally:
        context.close()


@pytest.mark.parametrize("width, height", VIEWPORTS)
def test_unavailable_pages_say_what_to_do_too(browser, make_app, tmp_path, width, height):
    from tests.redis_process import RedisProcess

    private = RedisProcess(tmp_path / "browser-redis").start()
    server = LiveServer(make_app(REDIS_URL=private.url))
    context, page = _context(browser, width, height)
    try:
        for lang in ("zh", "en"):
            page.goto(server.url + f"/?lang={lang}")  # the form (and its token) before the store goes away
            page.fill("#phone", "13800138000")
            page.fill("#code", "123456")
            if lang == "zh":
                private.stop()
            page.click("form[action='/verify'] button")
            page.wait_for_load_state()
            _assert_verdict_page(page, "unavailable", lang, width, "verify-unavailable")
            page.goto(server.url + f"/check?number=95188&lang={lang}")
            _assert_verdict_page(page, "unavailable", lang, width, "check-unavailable")
    finally:
        context.close()
        server.stop()
        private.stop()


def _assert_summary_first_and_focused(page, fields):
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'", timeout=5000)
    first = page.evaluate("document.querySelector('main').firstElementChild")
    assert page.evaluate("document.querySelector('main').firstElementChild.id") == "error-summary", first
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    box = summary.bounding_box()
    assert box["y"] >= 0 and box["y"] + 40 < page.viewport_size["height"]  # in view without scrolling
    links = summary.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert set(links) == {f"#{f}" for f in fields}
    for name in fields:
        field = page.locator(f"#{name}")
        assert field.get_attribute("aria-invalid") == "true"
        assert f"{name}-error" in field.get_attribute("aria-describedby")


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("width, height", VIEWPORTS)
def test_form_errors_are_summed_up_at_the_top_focused_and_announced(browser, live, width, height, js):
    context, page = _context(browser, width, height, js)
    try:
        page.goto(live.url + "/?lang=zh")
        page.fill("#number", "call me")
        page.click("form[action='/check'] button")
        page.wait_for_load_state()
        _assert_summary_first_and_focused(page, ["number"])
        if width == 375 and js:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "errors-check-zh.png"), full_page=True)
        page.goto(live.url + "/?lang=en")
        page.fill("#phone", "021-60800000")
        page.fill("#code", "12ab")
        page.click("form[action='/verify'] button")
        page.wait_for_load_state()
        _assert_summary_first_and_focused(page, ["phone", "code"])
        page.goto(live.url + "/report?lang=zh")
        page.fill("#number", "not a number")
        page.click("form[action='/report'] button")
        page.wait_for_load_state()
        _assert_summary_first_and_focused(page, ["number"])
        if width == 375 and js:
            page.screenshot(path=str(SHOTS / "errors-report-zh.png"), full_page=True)
    finally:
        context.close()
