"""The public pages through Flask's test client: every verdict page, forms, CSRF, limits, escaping,
headers, languages and error pages."""

import re
import time
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.conftest import registry_of
from tests.redis_process import RedisProcess

ROOT = Path(__file__).resolve().parent.parent


def csrf(client, path="/"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def page(response):
    return response.get_data(as_text=True)


def text(response):
    """The page without its tags (numbers sit in their own no-wrap spans)."""
    return re.sub(r"<[^>]+>", "", page(response))


def verdict_of(response):
    match = re.search(r'data-verdict="([a-z_]+)"', page(response))
    return match and match.group(1)


# --- home and languages -------------------------------------------------------------------------------
def test_home_is_chinese_by_default_with_the_rules(client):
    response = client.get("/")
    html = page(response)
    assert response.status_code == 200 and '<html lang="zh-CN">' in html
    assert "真的是OK钱包给您打电话吗？" in html
    assert "10690009518" in html and "400-000-9518" in html
    for rule in ("短信验证码", "安全账户", "屏幕共享", "威胁"):
        assert rule in html
    assert 'inputmode="tel"' in html and 'inputmode="numeric"' in html


def test_english_by_switch_is_remembered(client):
    html = page(client.get("/?lang=en"))
    assert '<html lang="en">' in html and "Is OK Wallet really calling you?" in html
    assert "Is OK Wallet really calling you?" in page(client.get("/"))  # the cookie remembers
    assert "真的是OK钱包" in page(client.get("/?lang=zh"))


def test_english_by_accept_language(client):
    assert "Is OK Wallet" in page(client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}))
    assert "真的是OK钱包" in page(client.get("/", headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"}))
    assert "真的是OK钱包" in page(client.get("/", headers={"Accept-Language": "fr-FR"}))


def test_switch_keeps_the_page(client):
    html = page(client.get("/check?number=4000009518"))
    assert 'href="/check?number=4000009518&amp;lang=en"' in html


def test_compiled_catalogs_are_current():
    for po in (ROOT / "verify" / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as handle:
            catalog = read_po(handle)
        fresh = __import__("io").BytesIO()
        write_mo(fresh, catalog)
        assert po.with_suffix(".mo").read_bytes() == fresh.getvalue(), f"run `make translations`: {po} changed"


def test_every_page_text_is_translated():
    with (ROOT / "verify/translations/zh/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert untranslated == []


# --- number verdict pages ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "number, verdict, words",
    [
        ("021-6080-0000", "official", ["来电显示可以伪造", "10690009518", "400-000-9518"]),
        ("400-000-9518", "inbound_only", ["我们从不用这个号码外呼"]),
        ("021-6080-1111", "retired", ["已停用"]),
        ("13912345678", "unknown", ["不是我们的号码", "400-000-9518"]),
    ],
)
def test_number_pages(client, number, verdict, words):
    response = client.get("/check", query_string={"number": number})
    assert response.status_code == 200 and verdict_of(response) == verdict
    for word in words:
        assert word in page(response)
    assert "/report?number=" in page(response)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_our_line_typed_without_its_area_code_is_that_line_shown_in_full(client, lang):
    response = client.get("/check", query_string={"number": "6080 0000", "lang": lang})
    assert response.status_code == 200 and verdict_of(response) == "official"
    shown = text(response)
    assert "021 6080 0000" in shown and "6080 0000" in shown.replace("021 6080 0000", "")
    assert "不是我们的号码" not in shown and "Not our number" not in shown


def test_a_number_is_shown_as_typed_not_reparsed(client):
    response = client.get("/check", query_string={"number": "1021-6080-0000", "lang": "en"})
    assert verdict_of(response) == "lookalike"
    assert "1021 6080 0000" in text(response) and "010 216 080 0000" not in text(response)
    assert "/report?number=1021+6080+0000" in page(response)


@pytest.mark.parametrize("typed", ["0755-6080-0000", "010 6080 0000"])
def test_another_citys_line_ending_in_our_local_digits_is_a_lookalike(client, typed):
    response = client.get("/check", query_string={"number": typed, "lang": "en"})
    assert verdict_of(response) == "lookalike" and "Our real number is 021 6080 0000." in text(response)


@pytest.mark.parametrize("lang, words", [("zh", "请加上区号"), ("en", "please add the area code")])
def test_local_digits_of_two_of_our_lines_ask_for_the_area_code(client, key, lang, words):
    client.post("/api/v1/numbers", headers=key("registry"), json={
        "number": "010-6080-0000", "labels": {"zh": "北京回访", "en": "Beijing callback"}, "purpose": "callback",
        "direction": "outbound"})
    response = client.get("/check", query_string={"number": "6080 0000", "lang": lang})
    assert response.status_code == 400 and verdict_of(response) is None
    shown = text(response)
    assert words in shown and "010 6080 0000" in shown and "021 6080 0000" in shown


def test_lookalike_names_the_official_number(client, key):
    client.post("/api/v1/numbers", headers=key("registry"), json={
        "number": "95188", "labels": {"zh": "客服", "en": "Service"}, "purpose": "hotline", "direction": "both"})
    response = client.get("/check?number=0095188&lang=en")
    assert verdict_of(response) == "lookalike"
    assert "Our real number is 95188." in text(response)


def test_reported_and_known_scam_pages(app, client):
    svc = app.extensions["verify"]
    for reporter in "abc":
        svc.store.redis.zadd(registry_of(app).reporters_key("+8613911111111"), {reporter: time.time()})
    svc.store.redis.sadd(registry_of(app).known_scam_key(), "+8613922222222")
    assert verdict_of(client.get("/check?number=13911111111")) == "reported"
    assert verdict_of(client.get("/check?number=13922222222")) == "known_scam"


def test_bad_number_is_shown_next_to_the_field_keeping_what_was_typed(client):
    response = client.get("/check", query_string={"number": "call me"})
    assert response.status_code == 400
    html = page(response)
    assert "电话号码只有数字，没有字母。" in html and 'value="call me"' in html and 'aria-invalid="true"' in html


# --- call verification -------------------------------------------------------------------------------------
def _verify(client, phone, code, token=None):
    return client.post("/verify", data={"phone": phone, "code": code, "csrf_token": token or csrf(client)})


def test_genuine_shows_masked_agent_and_details(client, open_session):
    created = open_session()
    response = _verify(client, "138 0013 8000", created["code"])
    html = page(response)
    assert response.status_code == 200 and verdict_of(response) == "genuine"
    for word in ("王**", "A17", "021 6080 0000", "贷后回访"):
        assert word in html
    assert created["code"] not in html and "王小明" not in html


def test_wrong_code_and_no_session_look_the_same(client, open_session):
    created = open_session()
    wrong = f"{(int(created['code']) + 1) % 1000000:06d}"
    token = csrf(client)
    a = _verify(client, "13800138000", wrong, token)
    b = _verify(client, "13900000000", "123456", token)
    assert a.status_code == b.status_code == 200
    assert verdict_of(a) == verdict_of(b) == "not_verified"
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731
    assert strip(page(a)) == strip(page(b))


def test_locked_page(client):
    token = csrf(client)
    for _ in range(5):
        _verify(client, "13700000000", "111111", token)
    response = _verify(client, "13700000000", "111111", token)
    assert response.status_code == 429 and verdict_of(response) == "locked"
    assert "400-000-9518" in page(response) and int(response.headers["Retry-After"]) > 0


def test_verify_form_errors_keep_what_was_typed(client):
    response = _verify(client, "021-60800000", "12ab")
    html = page(response)
    assert response.status_code == 400
    assert "请输入手机号码。" in html and "核验码是来电客服告诉您的6位数字。" in html
    assert 'value="021-60800000"' in html and 'value="12ab"' in html


def test_verify_without_csrf_token_is_refused(client):
    response = client.post("/verify", data={"phone": "13800138000", "code": "123456"})
    assert response.status_code == 400
    assert "<html" in page(response) and "Traceback" not in page(response)


def test_api_and_sms_stay_exempt_from_csrf(client):
    assert client.post("/api/v1/verify", json={"phone": "13800138000", "code": "123456"}).status_code == 200
    assert client.post("/sms/inbound", data={"Body": "x"}).status_code == 403  # signature, not CSRF


# --- reports -------------------------------------------------------------------------------------------------
def test_report_is_filed_and_confirmed_with_a_reference(app, client):
    token = csrf(client, "/report")
    response = client.post("/report", data={
        "csrf_token": token, "number": "021-9999-8888", "channel": "call", "categories": ["sms_code", "transfer"],
        "text": "自称客服，要我报验证码", "amount_lost": "5000", "reporter_phone": "13800138000",
        "occurred_at": "2026-11-29T14:05",
    })
    assert response.status_code == 303
    done = client.get(response.headers["Location"])
    reference = re.search(r'class="reference">([^<]+)<', page(done)).group(1)
    stored = registry_of(app).reports.get(reference)
    assert stored["source"] == "web" and stored["number"] == "+862199998888"
    assert stored["categories"] == "sms_code,transfer" and stored["amount_lost"] == "5000.00"
    assert stored["contact_masked"] == "138****8000" and "13800138000" not in str(stored)
    assert stored["occurred_at"] == "2026-11-29T06:05:00Z"  # typed in Asia/Shanghai (VERIFY_TIMEZONE), stored as UTC


def test_a_report_form_sent_twice_files_one_report(app, client):
    """A double click, or the browser sending the page again: one report, both answers lead to it.
    Sent again with other answers (back, edit, send), the form says so and files nothing."""
    form = page(client.get("/report"))
    fields = {"csrf_token": csrf(client, "/report"), "once": re.search(r'name="once" type="hidden" value="([^"]+)"', form).group(1),
              "number": "021-9999-8888", "channel": "call", "text": "自称客服"}
    first, again = client.post("/report", data=fields), client.post("/report", data=fields)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    store = app.extensions["verify"].store
    assert store.redis.zcard(store.key("reports", "by-time")) == 1
    edited = client.post("/report", data={**fields, "text": "自称客服，要验证码"})
    assert edited.status_code == 400 and "这份表单已经提交过了" in page(edited)
    assert store.redis.zcard(store.key("reports", "by-time")) == 1


def test_report_errors_are_next_to_their_fields_keeping_what_was_typed(client):
    token = csrf(client, "/report")
    response = client.post("/report", data={"csrf_token": token, "number": "not a number", "text": "x" * 2001,
                                            "amount_lost": "-3", "categories": ["sms_code"]})
    html = page(response)
    assert response.status_code == 400
    assert "请不要超过2000字。" in html and "请输入0或以上的金额。" in html
    assert 'value="not a number"' in html
    assert re.search(r'<input checked id="categories-0" name="categories" type="checkbox" value="sms_code">', html)


def test_report_text_with_script_comes_back_inert(client):
    token = csrf(client, "/report")
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = client.post("/report", data={"csrf_token": token, "number": "abc", "text": evil})
    html = page(response)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_report_prefills_the_number(client):
    assert 'value="021 9999 8888"' in page(client.get("/report?number=021 9999 8888"))


def test_report_without_csrf_is_refused(client):
    assert client.post("/report", data={"number": "021-9999-8888"}).status_code == 400


# --- official numbers -----------------------------------------------------------------------------------------
def test_numbers_page(client):
    html = page(client.get("/numbers"))
    assert "021 6080 0000" in html and "021 6080 0099" in html
    assert "400 000 9518" in html and "我们从不用这个号码外呼" in html
    assert "021 6080 1111" in html and "2025-06-30" in html


# --- safety --------------------------------------------------------------------------------------------------
def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_no_inline_script_and_no_external_assets(client, open_session):
    for path in ("/", "/report", "/numbers", "/check?number=95188"):
        html = page(client.get(path))
        assert "<script" not in html and " style=" not in html and "on" + "click=" not in html
        assert not re.search(r'(src|href)="(https?:)?//', html), path


def test_typed_number_is_escaped(client):
    response = client.get("/check", query_string={"number": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page(response)


def test_rate_limit_page(make_app):
    app = make_app(VERIFY_RATE_CHECK="2 per minute")
    client = app.test_client()
    assert client.get("/check?number=95188").status_code == 200
    assert client.get("/check?number=95188").status_code == 200
    response = client.get("/check?number=95188")
    assert response.status_code == 429 and "操作太频繁" in page(response)
    assert int(response.headers["Retry-After"]) > 0
    other = client.get("/check?number=95188", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 200  # per client IP


def test_rate_limits_live_in_redis_not_in_memory(make_app, redis_server):
    """Counted in Redis (every worker counts together), under a keyed HMAC of the client IP."""
    app = make_app(VERIFY_RATE_CHECK="1 per minute")
    app.test_client().get("/check?number=95188", environ_base={"REMOTE_ADDR": "198.51.100.23"})
    keys = redis_server.keys("verify:*:l:*")
    assert len(keys) == 1 and keys[0].endswith(":l:check:60")  # the address's counter alone
    assert not any("198.51.100" in k for k in keys)
    assert all(0 < redis_server.client().ttl(k) <= 60 for k in keys)
    other = make_app(VERIFY_RATE_CHECK="1 per minute")  # another worker process, the same store
    assert other.test_client().get("/check?number=95188", environ_base={"REMOTE_ADDR": "198.51.100.23"}).status_code == 429


@pytest.mark.parametrize("path, status, words", [("/nothing", 404, "找不到页面"), ("/report/done/x", 404, "找不到页面")])
def test_error_pages(client, path, status, words):
    response = client.get(path)
    assert response.status_code == status and words in page(response) and "400-000-9518" in page(response)


def test_405_and_413_pages(client):
    assert "不能这样使用本页" in page(client.put("/"))
    big = client.post("/report", data={"text": "x" * 20000})
    assert big.status_code == 413 and "内容太长" in page(big)


def test_redis_down_gives_503_pages(make_app, tmp_path):
    private = RedisProcess(tmp_path / "web-redis").start()
    app = make_app(REDIS_URL=private.url)
    client = app.test_client()
    token = csrf(client)
    private.stop()
    response = client.get("/check?number=95188")
    assert response.status_code == 503 and "400-000-9518" in page(response)
    response = _verify(client, "13800138000", "123456", token)
    assert response.status_code == 503 and "genuine" not in page(response)
    assert client.get("/").status_code == 200  # the home page needs no store


def test_500_page_is_friendly_and_in_the_page_language(make_app):
    app = make_app()

    def boom():
        raise RuntimeError("unexpected")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/v1/boom", "api-boom", boom)
    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500 and "我们这边出了问题" in page(response) and "Traceback" not in page(response)
    assert "Something went wrong on our side" in page(client.get("/boom?lang=en"))
    assert client.get("/api/v1/boom").content_type == "application/problem+json"


def test_home_page_is_rendered_once_but_every_visitor_gets_their_own_token(app, open_session):
    created = open_session()
    first, second = app.test_client(), app.test_client()
    token_a, token_b = csrf(first), csrf(second)
    assert token_a != token_b
    assert "真的是OK钱包" in page(first.get("/")) and "Is OK Wallet" in page(second.get("/?lang=en"))
    assert _verify(second, "13800138000", created["code"], token_b).status_code == 200
    assert _verify(first, "13800138000", created["code"], token_b).status_code == 400  # not first's token


def test_rate_limit_headers_only_on_limited_pages(client):
    assert "X-RateLimit-Limit" in client.get("/check?number=95188").headers
    assert "X-RateLimit-Limit" not in client.get("/healthz").headers
    assert "X-RateLimit-Limit" not in client.get("/api/v1/check?number=95188").headers


@pytest.mark.parametrize("path", ["/?endpoint=x", "/check?number=95188&endpoint=x", "/numbers?endpoint=x",
                                  "/report?_method=POST", "/?_method=POST", "/report/done/R261130-ABCDEF?reference=x",
                                  "/nothing?_external=1"])
def test_odd_query_arguments_do_not_break_the_language_switch(app, path):
    """Every page links to itself in the other language with its query: arguments url_for reads itself
    (endpoint, _method) or that name the page's own arguments must not turn the page into a 500."""
    app.testing = False  # errors answered as in production
    response = app.test_client().get(path)
    assert response.status_code in (200, 400, 404) and "lang=en" in page(response)


# --- issue 15: headlines that say what to do, the hotline button, numbers on one line, error summary -------
def _h1(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", re.search(r'<h1 id="verdict-title">(.*?)</h1>', page(response), re.S).group(1))).strip()


def _file_reports(app, e164, count):
    for reporter in "abcdefgh"[:count]:
        app.extensions["verify"].store.redis.zadd(registry_of(app).reporters_key(e164), {reporter: time.time()})


@pytest.mark.parametrize(
    "number, verdict, zh, en",
    [
        ("021-6080-0000", "official", "这是官方号码，但来电显示可以伪造 — 请对方报出核验码再继续",
         "Official number, but caller ID can be faked — ask for the code before you go on"),
        ("400-000-9518", "inbound_only", "假冒来电：我们从不用这个号码外呼 — 请挂断", "Fake call: we never call from this number — hang up"),
        ("021-6080-1111", "retired", "这个号码我们已停用 — 请挂断", "We no longer use this number — hang up"),
        ("0021-6080-0000", "lookalike", "假冒：这个号码在模仿我们的号码 — 请挂断", "Fake: this number imitates one of ours — hang up"),
        ("13922222222", "known_scam", "已确认的诈骗号码 — 请挂断，不要转账", "Confirmed scam number — hang up, send no money"),
        ("13911111111", "reported", "已被多人举报 — 请挂断", "Reported by several people — hang up"),
        ("13912345678", "unknown", "不是我们的号码 — 请挂断", "Not our number — hang up"),
    ],
)
def test_every_number_headline_says_what_to_do_and_offers_the_hotline(app, client, number, verdict, zh, en):
    _file_reports(app, "+8613911111111", 3)
    app.extensions["verify"].store.redis.sadd(registry_of(app).known_scam_key(), "+8613922222222")
    for lang, words in (("zh", zh), ("en", en)):
        response = client.get("/check", query_string={"number": number, "lang": lang})
        assert verdict_of(response) == verdict and _h1(response) == words
        assert re.search(r'<a class="button call-button" href="tel:4000009518">[^<]+<span class="tel">400-000-9518</span></a>',
                         page(response))
        assert re.search(r'<p class="number tel">', page(response))  # the number that called, on one line


def test_an_impersonated_official_number_says_so_in_its_headline(app, client):
    _file_reports(app, "+862160800000", 2)
    response = client.get("/check?number=021-6080-0000&lang=en")
    assert verdict_of(response) == "official"
    assert _h1(response) == "Warning: scammers have been faking this official number — ask for the code or hang up"
    assert 'class="verdict tone-caution"' in page(response)  # not red: it is our number
    zh = client.get("/check?number=021-6080-0000&lang=zh")
    assert _h1(zh) == "注意：近期有骗子冒充这个官方号码 — 请对方报出核验码，否则挂断"
    assert '<p class="impersonated" role="note">' in page(zh)


def test_call_headlines_say_what_to_do(client, open_session):
    created = open_session()
    genuine = _verify(client, "13800138000", created["code"])
    assert _h1(genuine) == "核验通过：这通电话确实是我们打的 — 可以继续通话，但不要透露验证码"
    wrong = _verify(client, "13900000000", "123456")
    assert _h1(wrong) == "未通过核验 — 请挂断"
    for response in (genuine, wrong):
        assert 'class="button call-button" href="tel:4000009518"' in page(response)
    assert '<span class="tel">400-000-9518</span>' in re.search(r'<p class="advice">.*?</p>', page(wrong), re.S).group(0)


def test_the_locked_page_says_until_when(app, client):
    token = csrf(client)
    for _ in range(5):
        _verify(client, "13700000000", "111111", token)
    before = time.time()
    response = _verify(client, "13700000000", "111111", token)
    assert verdict_of(response) == "locked" and _h1(response) == "核验码错误次数过多 — 请挂断"
    from verify import times

    zone = times.zone(app.extensions["verify"].settings.timezone)
    until = {times.local(before + int(response.headers["Retry-After"]) + s, zone) for s in (0, 1, 2)}
    assert any(f"这里的核验暂停到 {when}。" in page(response) for when in until)
    assert 'href="tel:4000009518"' in page(response)


def test_the_english_genuine_page_labels_a_chinese_purpose(client, open_session):
    created = open_session()
    html = page(_verify(client, "13800138000", created["code"], csrf(client, "/?lang=en")))
    assert "Purpose, in the lender's own words (Chinese)</dt><dd lang=\"zh-CN\">贷后回访</dd>" in html
    english = open_session(borrower="13800138001", purpose="Loan follow-up")
    html = page(_verify(client, "13800138001", english["code"], csrf(client, "/?lang=en")))
    assert "<dt>Purpose</dt><dd>Loan follow-up</dd>" in html


def _summary(html):
    main = html[html.index('<main id="main">') + len('<main id="main">'):]
    assert main.lstrip().startswith('<div class="error-summary" id="error-summary" role="alert" tabindex="-1" autofocus')
    return main[:main.index("</div>")]


def test_form_errors_are_summed_up_first_in_the_page_linking_to_their_fields(client):
    check = page(client.get("/check", query_string={"number": "call me"}))
    assert '<a href="#number">给您来电的号码：电话号码只有数字，没有字母。</a>' in _summary(check)
    assert 'aria-invalid="true"' in check and 'aria-describedby="number-error"' in check
    verify = _summary(page(_verify(client, "021-60800000", "12ab")))
    assert 'href="#phone"' in verify and 'href="#code"' in verify
    token = csrf(client, "/report")
    report = page(client.post("/report", data={"csrf_token": token, "number": "1", "amount_lost": "-3"}))
    assert 'href="#amount_lost"' in _summary(report) and 'aria-describedby="amount_lost-error"' in report
    report = page(client.post("/report", data={"csrf_token": token, "number": "not a number"}))
    assert '<a href="#number">' in _summary(report) and 'aria-describedby="number-error"' in report
    english = page(client.get("/check", query_string={"number": "call me", "lang": "en"}))
    assert "Phone number: A phone number has digits only" in _summary(english) or ": A phone number" in _summary(english)
