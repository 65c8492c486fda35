"""Callback requests (issue 17 items 1-3): a borrower texts 回电 / CALLBACK or presses 3 on the hotline
(signed with twilio's RequestValidator), always for their own number; one open request per number,
per-number and per-day limits; the agent console works them (show number, call back: a session and
the request closed); the call-centre API lists and closes them; expiry; the number sealed in Redis;
and what a scammer with a laptop would try."""

import re
import time
import unicodedata

import pytest

from tests.test_abuse import _everything_stored
from tests.test_dashboard import CSRF, accounts, login, token  # noqa: F401 (accounts: a fixture)
from tests.test_sms import text
from tests.test_voice import TOKEN, Call, ends_the_call, the_gather, words
from verify.services import demo
from verify.services.texts import parse

BORROWER = "+8613800138000"
OTHER = "+8613912345678"
LINE_DISPLAY = "021 6080 0000"  # the demo's callback line


@pytest.fixture
def sms_app(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN)
    demo.seed(app.extensions["verify"], logins=False)
    return app


def listed(client, key, **query):
    response = client.get("/api/v1/callbacks", query_string=query, headers=key("sessions"))
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def open_session(client, key, borrower=BORROWER):
    body = {"borrower": borrower, "caller": "021-6080-0000", "agent_id": "A17", "agent_name": "王小明", "purpose": "回电"}
    response = client.post("/api/v1/sessions", json=body, headers=key("sessions"))
    assert response.status_code == 201
    return response.get_json()["id"]


# --- reading the text ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, lang, rest", [
    ("回电", "zh", ""), ("回电 今晚7点", "zh", "今晚7点"), ("回电今晚7点", "zh", "今晚7点"), ("  回电  ", "zh", ""),
    ("CALLBACK", "en", ""), ("callback 7pm", "en", "7pm"), ("ＣＡＬＬＢＡＣＫ 7pm", "en", "7pm"),
])
def test_callback_texts_are_read(body, lang, rest):
    command = parse(body)
    assert (command.kind, command.lang, command.text, command.number) == ("callback", lang, rest, "")


@pytest.mark.parametrize("body", ["CALLBACKS", "CALL", "CALL BACK ME 13800138000"])
def test_other_words_are_not_callback_requests(body):
    assert parse(body).kind != "callback"


# --- SMS ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, reply, preferred", [
    ("回电", "已收到回电申请。OK钱包将在24小时内用021 6080 0000给您回电，客服会报6位核验码，请发到本号核实。", None),
    ("回电 今晚7点", "已收到回电申请。OK钱包会尽量按您说的时间，24小时内用021 6080 0000回电，客服会报核验码，请发到本号。", "今晚7点"),
    ("CALLBACK 7pm", "Request received. OK Wallet will call you from 021 6080 0000 within 24 h, at your time if we can. "
     "The agent will give a 6-digit code: text it here.", "7pm"),
])
def test_a_text_asks_for_a_callback_to_the_senders_own_number(sms_app, key, body, reply, preferred):
    client = sms_app.test_client()
    status, said, _ = text(client, body)
    assert status == 200 and said == reply
    assert len(said) <= (70 if preferred != "7pm" else 160)
    (request,) = listed(client, key)["callbacks"]
    assert request["number"] == BORROWER and request["preferred_time"] == preferred and request["channel"] == "sms"
    assert request["expires_at"] > request["created_at"]
    entries = sms_app.extensions["verify"].audit.entries(action="callback_request")[0]
    assert [e["target"] for e in entries] == [request["id"]] and "13800138000" not in str(entries)


def test_a_second_text_is_told_it_asked_already(sms_app, key):
    client = sms_app.test_client()
    text(client, "回电")
    _, said, _ = text(client, "回电 明天上午")
    assert re.fullmatch(r"您已在\d\d:\d\d申请回电。OK钱包将在24小时内用021 6080 0000回电，客服会报核验码，请发到本号核实。", said)
    _, said, _ = text(client, "CALLBACK")
    assert said.startswith("You asked for a callback at ")
    assert len(listed(client, key)["callbacks"]) == 1


def test_a_texted_request_is_stored_once_for_a_retried_delivery(sms_app, key):
    client = sms_app.test_client()
    first = text(client, "回电", sid="SM" + "1" * 32)[1]
    assert text(client, "回电", sid="SM" + "1" * 32)[1] == first  # Twilio's retry: the same reply
    assert len(listed(client, key)["callbacks"]) == 1


def test_a_number_may_ask_three_times_a_day(sms_app, key):
    client = sms_app.test_client()
    for _ in range(3):
        text(client, "回电")
        (request,) = listed(client, key)["callbacks"]
        closed = client.post(f"/api/v1/callbacks/{request['id']}/done", json={"session_id": open_session(client, key)},
                             headers=key("sessions"))
        assert closed.status_code == 200
    _, said, _ = text(client, "回电")
    assert said == "暂时无法受理更多回电申请。请自己拨打400-000-9518。我们不会索要验证码或让您转账。"
    assert listed(client, key)["callbacks"] == []


def test_flooding_from_many_numbers_stops_at_the_days_limit(make_app, key):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_CALLBACK_DAILY_LIMIT=5)
    demo.seed(app.extensions["verify"], logins=False)
    client = app.test_client()
    replies = [text(client, "CALLBACK", sender=f"+86139000000{n:02d}")[1] for n in range(12)]
    assert sum(r.startswith("Callback request received") for r in replies) == 5
    assert replies[5:] == ["We cannot take more callback requests now. Call 400-000-9518 yourself. We never ask for "
                           "codes or money."] * 7
    assert len(listed(client, key)["callbacks"]) == 5


def test_a_flood_of_spoofed_calls_leaves_texts_their_share_of_the_day(make_app, key):
    # Pressing 3 from 1,000 spoofed caller IDs costs a SIP account nothing; it used up the day's
    # VERIFY_CALLBACK_DAILY_LIMIT, and every borrower texting 回电 from their own phone was refused.
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_CALLBACK_DAILY_LIMIT=6)
    demo.seed(app.extensions["verify"], logins=False)
    client = app.test_client()
    for n in range(8):
        Call(client, sender=f"+86137000000{n:02d}").press("3")
    assert len(listed(client, key)["callbacks"]) == 3  # the hotline's half
    replies = [text(client, "回电", sender=f"+86139000000{n:02d}")[1] for n in range(5)]
    assert sum(r.startswith("已收到回电申请") for r in replies) == 3  # the rest of the day, texts only
    assert len(listed(client, key)["callbacks"]) == 6


def test_someone_elses_number_in_the_text_is_never_called(sms_app, key):
    client = sms_app.test_client()
    for body in ("回电 13912345678", "回电 139-1234-5678 今晚", "CALLBACK +86 139 1234 5678", "回电 １３９１２３４５６７８"):
        text(client, body)
    (request,) = listed(client, key)["callbacks"]
    assert request["number"] == BORROWER and request["preferred_time"] is None
    stored = _everything_stored(sms_app.extensions["verify"].store)
    assert "13912345678" not in stored and "1234" not in stored.replace(request["id"], "")


@pytest.mark.parametrize("written, kept", [
    ("今晚7点", "今晚7点"), ("19:00-21:00", "19:00-21:00"), ("12月2日 下午3点", "12月2日 下午3点"), ("7pm", "7pm"),
    ("晚上七点到九点", "晚上七点到九点"), ("7.30pm", "7.30pm"), ("明天 19:00-21:00", "明天 19:00-21:00"),
    ("12月2日 19:00-21:00", "12月2日 19:00-21:00"),
    ("95188", ""), ("call 1391234 at 7", ""), ("明天 (021) 6080", ""), ("１３９１２３４５６７８", ""), ("٣٩١٢٣٤٥", ""),
])
def test_a_time_is_kept_a_number_never(written, kept):
    from verify.services.callback_requests import preferred_time

    assert preferred_time(written) == kept


@pytest.mark.parametrize("written", [
    "139.1234.5678", "139/1234/5678", "139_1234_5678", "139。1234。5678", "139·1234·5678", "139，1234，5678",
    "一三九一二三四五六七八", "幺三九 一二三四 五六七八", "139一二三四5678", "139x1234x5678", "tel 139 1234 56 78",
    "6080.0000", "〇二一 六〇八〇", "139:1234:5678", "1:39:1234:5678",
])
def test_a_number_written_with_dots_slashes_or_chinese_numerals_is_dropped_too(written):
    # The agent reads this "time" beside the request: a stranger texting 回电 139.1234.5678 from their
    # own SIM got another person's number onto the agent's screen (the runs of digits between the dots
    # were all shorter than five).
    from verify.services.callback_requests import preferred_time

    assert preferred_time(written) == ""


def test_a_huge_or_control_character_time_is_cut_and_cleaned(sms_app, key):
    client = sms_app.test_client()
    status, said, _ = text(client, "回电 今晚\u202e7点\x07<script>" + "很" * 1500)  # Twilio: at most 1,600
    assert status == 200 and said.startswith("已收到回电申请")
    (request,) = listed(client, key)["callbacks"]
    preferred = request["preferred_time"]
    assert len(preferred) <= 20 and preferred.startswith("今晚 7点 <script>")
    assert not any(ch in preferred for ch in "\u202e\x07")


@pytest.mark.parametrize("written", ["\u0301" * 30, "a" + "\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308" * 3,
                                     "今" + "\u0489" * 19, "7" + "\u20dd" * 19])
def test_a_time_cannot_stack_marks_over_the_agents_list(written):
    # 20 combining marks on one letter draw a tower over the rows above it on the agent's screen (and
    # over their buttons). A time needs at most one mark on a letter (NFKC composes most of them).
    from verify.services.callback_requests import preferred_time

    marks = "".join("M" if unicodedata.category(ch)[0] == "M" else "." for ch in preferred_time(written))
    assert "MM" not in marks and not marks.startswith("M")


@pytest.mark.parametrize("sender", ["+862155556666", "+447911123456", "+85291234567", "+8821612345678"])
def test_a_landline_or_a_foreign_number_cannot_ask(sms_app, key, sender):
    # A foreign mobile (or a satellite phone) asking by text or on the hotline had an agent dial abroad:
    # a number that pays its owner per minute called back 3 times a day (toll fraud). Borrowers' own
    # phones are of the home region.
    client = sms_app.test_client()
    _, said, _ = text(client, "回电", sender=sender)
    assert said.startswith("请用您本人的手机发“回电”")
    assert "无法申请回电" in words(Call(client, sender=sender).press("3"))
    assert listed(client, key)["callbacks"] == []


def test_unsigned_requests_ask_for_nothing(sms_app, key):
    client = sms_app.test_client()
    form = {"MessageSid": "SM" + "2" * 32, "From": BORROWER, "Body": "回电"}
    assert client.post("/sms/inbound", data=form, headers={"X-Twilio-Signature": "forged"}).status_code == 403
    assert listed(client, key)["callbacks"] == []


def test_the_number_is_stored_sealed_never_in_plaintext(sms_app, key):
    client = sms_app.test_client()
    text(client, "回电 今晚7点")
    Call(client).press("3")  # and by voice, from another number
    stored = _everything_stored(sms_app.extensions["verify"].store)
    assert "今晚7点" in stored  # the scan reads the requests
    for written in ("13800138000", "138 0013 8000", "138-0013-8000"):
        assert written not in stored
    assert "138****8000" in stored
    assert {r["number"] for r in listed(client, key)["callbacks"]} == {BORROWER}


def test_no_callback_line_in_the_registry_never_names_the_hotline(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN)  # an empty registry
    _, said, _ = text(app.test_client(), "回电")
    assert "官方号码" in said and "400-000-9518" not in said


# --- voice --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang, said", [
    ("zh", "已收到您的回电申请。OK钱包将在24小时内用零 二 幺，六 零 八 零，零 零 零 零给您回电。"),
    ("en", "We have your request. OK Wallet will call you back within 24 hours from 0 2 1, 6 0 8 0, 0 0 0 0."),
])
def test_3_on_the_hotline_asks_for_a_callback_to_the_number_calling(sms_app, key, lang, said):
    client = sms_app.test_client()
    root = Call(client, lang=lang).press("3")
    assert said in words(root)
    ends_the_call(root)
    (request,) = listed(client, key)["callbacks"]
    assert request["number"] == BORROWER and request["channel"] == "voice"
    again = Call(client, lang=lang).press("3")
    assert words(again) == words(root)  # the same words: see the test below
    assert len(listed(client, key)["callbacks"]) == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_spoofed_caller_id_never_learns_that_or_when_a_borrower_asked(sms_app, key, lang):
    # Caller ID is a claim on the hotline. Spoofing a borrower's number and pressing 3 said "you asked
    # for a call back at 14:05": that this person is a borrower waiting for our call, and since when,
    # which is all a scammer needs to call them first "returning your 14:05 request". The hotline
    # answers an open request exactly as a new one; only a text (from the phone itself) is told.
    client = sms_app.test_client()
    assert text(client, "回电 今晚7点")[0] == 200  # the borrower's own request
    spoofed = words(Call(client, sender=BORROWER, lang=lang).press("3"))
    fresh = words(Call(client, sender=OTHER, lang=lang).press("3"))
    assert spoofed == fresh
    assert not re.search(r"\d{1,2}[点:]\d{2}", spoofed)


@pytest.mark.parametrize("sender", ["anonymous", "+862155556666"])
def test_3_without_a_mobile_number_explains_and_asks_for_nothing(sms_app, key, sender):
    client = sms_app.test_client()
    root = Call(client, sender=sender).press("3")
    assert "无法申请回电" in words(root)
    the_gather(root)  # back to the menu
    assert listed(client, key)["callbacks"] == []


# --- the call-centre API ------------------------------------------------------------------------------------
@pytest.mark.parametrize("scope, status", [(None, 401), ("registry", 403), ("reports", 403), ("app", 403), ("sessions", 200)])
def test_the_api_needs_a_sessions_key(sms_app, key, scope, status):
    client = sms_app.test_client()
    text(client, "回电")
    request_id = listed(client, key)["callbacks"][0]["id"]
    headers = key(scope) if scope else {}
    assert client.get("/api/v1/callbacks", headers=headers).status_code == status
    done = client.post(f"/api/v1/callbacks/{request_id}/done", json={"session_id": open_session(client, key)}, headers=headers)
    assert done.status_code == status
    assert len(listed(client, key)["callbacks"]) == (0 if status == 200 else 1)


def test_the_list_is_oldest_first_and_paged(sms_app, key):
    client = sms_app.test_client()
    senders = [f"+86139000001{n:02d}" for n in range(7)]
    for sender in senders:
        text(client, "回电", sender=sender)
    seen, cursor = [], None
    while True:
        page = listed(client, key, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [r["number"] for r in page["callbacks"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == senders


def test_done_is_refused_for_a_foreign_or_older_session(sms_app, key):
    client, headers = sms_app.test_client(), key("sessions")
    before = open_session(client, key)  # the borrower's own, but opened before they asked
    text(client, "回电")
    request_id = listed(client, key)["callbacks"][0]["id"]
    foreign = open_session(client, key, borrower=OTHER)
    url = f"/api/v1/callbacks/{request_id}/done"
    for body in ({"session_id": foreign}, {"session_id": before}, {"session_id": "0" * 24 + "-00000000"}, {},
                 {"session_id": 7}, {"session_id": open_session(client, key, borrower="+8613700137000"), "number": OTHER}):
        answer = client.post(url, json=body, headers=headers)
        assert answer.status_code == 422, body
        assert answer.mimetype == "application/problem+json"
    own = open_session(client, key)
    answer = client.post(url, json={"session_id": own}, headers=headers)
    assert answer.status_code == 200 and answer.get_json()["session_id"] == own
    assert client.post(url, json={"session_id": own}, headers=headers).status_code == 200  # a retry: the same
    replayed = client.post(url, json={"session_id": open_session(client, key)}, headers=headers)
    assert replayed.status_code == 409
    assert client.post("/api/v1/callbacks/zzz/done", json={"session_id": own}, headers=headers).status_code == 404
    assert [e["target"] for e in sms_app.extensions["verify"].audit.entries(action="callback_done")[0]] == [request_id]


# --- expiry -------------------------------------------------------------------------------------------------
def test_a_request_nobody_handled_in_time_expires_and_is_counted(make_app, key):
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, VERIFY_CALLBACK_TTL=1)
    demo.seed(app.extensions["verify"], logins=False)
    from tests.test_dashboard import PASSWORD
    from verify.services.actor import CLI

    svc = app.extensions["verify"]
    svc.staff.create(CLI, "sam", "support", PASSWORD)
    svc.staff.create(CLI, "aga", "agent", PASSWORD, "王小明")
    client = app.test_client()
    _, said, _ = text(client, "回电")
    assert "1小时内" in said
    time.sleep(1.2)
    assert listed(client, key)["callbacks"] == []
    # A cursor from before it expired (or made up) pages from where waiting requests start, never
    # earlier: an expired request is not listed as one to call.
    assert listed(client, key, cursor="0-000000000000")["callbacks"] == []
    assert svc.callback_requests.counts() == {"open": 0, "expired": 1}
    login(client, "sam")
    overview = client.get("/dashboard/overview").get_data(as_text=True)
    assert re.search(r'id="callbacks-expired"[^>]*>1<', overview)
    login(client, "aga")
    console = client.get("/dashboard/agent").get_data(as_text=True)
    assert "138****8000" in console and 'class="request expired"' in console and '/call"' not in console
    _, said, _ = text(client, "回电")  # the expired request no longer holds the number back
    assert said.startswith("已收到回电申请")


def test_the_ttl_setting_is_checked(make_app):
    from verify.settings import ConfigError

    for ttl in (0, 8 * 86400):
        with pytest.raises(ConfigError, match="VERIFY_CALLBACK_TTL"):
            make_app(VERIFY_CALLBACK_TTL=ttl)


# --- the agent console --------------------------------------------------------------------------------------
def _console(client):
    return client.get("/dashboard/agent").get_data(as_text=True)


def _post(client, path):
    return client.post(path, data={"csrf_token": token(client, "/dashboard/agent")})


def test_the_console_lists_requests_masked_and_shows_a_number_only_on_purpose(sms_app, accounts):  # noqa: F811
    client = sms_app.test_client()
    text(client, "回电 今晚7点<b>")
    text(client, "CALLBACK", sender=OTHER)
    login(client, "aga")
    page = _console(client)
    assert page.index("138****8000") < page.index("139****5678")  # oldest first
    assert "13800138000" not in page and "138 0013 8000" not in page
    assert "今晚7点&lt;b&gt;" in page and "<b>" not in page
    request_id = re.search(r'data-request="([0-9a-f]{12})"', page).group(1)
    path = f"/dashboard/agent/callbacks/{request_id}/number"
    assert client.post(path).status_code == 400  # no CSRF token
    shown = _post(client, path)
    assert shown.status_code == 200 and 'href="tel:+8613800138000"' in shown.get_data(as_text=True)
    (entry,) = accounts.audit.entries(action="callback_number_show")[0]
    assert (entry["who"], entry["target"]) == ("aga", request_id) and "13800138000" not in str(entry)


def test_call_back_opens_a_session_texts_the_notice_and_closes_the_request(sms_app, accounts, key):  # noqa: F811
    client = sms_app.test_client()
    text(client, "回电")
    login(client, "aga")
    request_id = re.search(r'data-request="([0-9a-f]{12})"', _console(client)).group(1)
    assert client.post(f"/dashboard/agent/callbacks/{request_id}/call").status_code == 400  # no CSRF token
    answer = _post(client, f"/dashboard/agent/callbacks/{request_id}/call")
    assert answer.status_code == 303
    session_id = answer.headers["Location"].rsplit("/", 1)[1]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    code = re.search(r'<p class="code" aria-label="code">(\d{6})</p>', page).group(1)
    state = client.get(f"/api/v1/sessions/{session_id}", headers=key("sessions")).get_json()
    assert state["notice"] == "logged"  # the pre-call notice (no Twilio credentials: to the log)
    assert listed(client, key)["callbacks"] == []
    _, said, _ = text(client, code)  # the borrower texts the agent's code back: it is this call
    assert said.startswith("核验通过")
    actions = [e["action"] for e in accounts.audit.entries(who="aga")[0]]
    assert "session_start" in actions and "callback_done" in actions
    again = _post(client, f"/dashboard/agent/callbacks/{request_id}/call")
    assert again.status_code == 409 and session_id in again.get_data(as_text=True)


def test_call_back_never_kills_a_live_session(sms_app, accounts, key):  # noqa: F811
    client = sms_app.test_client()
    text(client, "回电")
    live = open_session(client, key)  # another agent is on the phone with the borrower already
    login(client, "aga")
    request_id = re.search(r'data-request="([0-9a-f]{12})"', _console(client)).group(1)
    answer = _post(client, f"/dashboard/agent/callbacks/{request_id}/call")
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/{live}?already=1")
    assert client.get(f"/api/v1/sessions/{live}", headers=key("sessions")).get_json()["status"] == "active"
    assert len(listed(client, key)["callbacks"]) == 1  # still waiting: nobody called back for it


@pytest.mark.parametrize("action", ["number", "call"])
def test_support_staff_cannot_work_callback_requests(sms_app, accounts, key, action):  # noqa: F811
    client = sms_app.test_client()
    text(client, "回电")
    request_id = listed(client, key)["callbacks"][0]["id"]
    login(client, "sam")
    answer = client.post(f"/dashboard/agent/callbacks/{request_id}/{action}",
                         data={"csrf_token": token(client, "/dashboard/reports")})
    assert answer.status_code == 403


def test_an_unknown_request_is_a_404_page(sms_app, accounts):  # noqa: F811
    client = sms_app.test_client()
    login(client, "aga")
    assert _post(client, "/dashboard/agent/callbacks/000000000000/call").status_code == 404
    assert _post(client, "/dashboard/agent/callbacks/not-one/number").status_code == 404


# --- the web pages say how to ask -----------------------------------------------------------------------------
@pytest.mark.parametrize("lang, words_", [("zh", "回电"), ("en", "text CALLBACK from your own phone")])
def test_the_pages_after_doubtful_verdicts_say_how_to_ask_for_a_callback(app, lang, words_):
    client = app.test_client()
    client.set_cookie("lang", lang)
    unknown = client.get("/check?number=13912345678").get_data(as_text=True)
    official = client.get("/check?number=021-6080-0000").get_data(as_text=True)
    wrong = client.post("/verify", data={"phone": "13800138000", "code": "123456",
                                         "csrf_token": token(client, "/")}).get_data(as_text=True)
    for page in (unknown, wrong):
        assert 'id="callback-hint"' in page and words_ in page and "10690009518" in page
    assert 'id="callback-hint"' not in official


# --- failing closed, and strangers ------------------------------------------------------------------------------
def test_redis_down_asks_for_nothing_and_says_unavailable(make_app, key, tmp_path):
    from tests.redis_process import RedisProcess

    private = RedisProcess(tmp_path / "cb-redis").start()
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, REDIS_URL=private.url)
    demo.seed(app.extensions["verify"], logins=False)
    headers = key("sessions")
    call = Call(app.test_client())  # at the menu while Redis answers
    private.stop()
    client = app.test_client()
    _, said, _ = text(client, "回电")
    assert said.startswith("暂时无法核实") and "400-000-9518" in said
    root = call.press("3")
    assert "暂时无法核实" in words(root)
    ends_the_call(root)
    answer = client.get("/api/v1/callbacks", headers=headers)
    assert answer.status_code == 503 and answer.mimetype == "application/problem+json"


@pytest.mark.parametrize("action", ["number", "call"])
def test_strangers_cannot_work_callback_requests(sms_app, key, action):
    client = sms_app.test_client()
    text(client, "回电")
    request_id = listed(client, key)["callbacks"][0]["id"]
    answer = client.post(f"/dashboard/agent/callbacks/{request_id}/{action}")
    assert answer.status_code in (302, 400) and "13800138000" not in answer.get_data(as_text=True)
    assert len(listed(client, key)["callbacks"]) == 1


def test_a_request_and_its_audit_entry_are_written_together(sms_app, monkeypatch):
    """One script stores the request and its audit entry: no moment where the request is stored and a
    lost connection leaves it unaudited (and answered unavailable). On one server: one round trip for
    both, one for the callback line the reply names (three when the entry came after)."""
    from tests.conftest import CLUSTER
    from tests.test_store import RoundTrips
    from verify.phones import parse as parse_phone
    from verify.services.actor import Actor

    requests = sms_app.extensions["verify"].callback_requests
    audit = sms_app.extensions["verify"].audit
    phone = parse_phone(BORROWER, "CN")
    requests.ask(Actor("sms"), parse_phone(OTHER, "CN"), "", "sms")  # loads the scripts
    trips = RoundTrips(monkeypatch)
    asked = requests.ask(Actor("sms"), phone, "今晚", "sms")
    assert asked.outcome == "yes"
    if not CLUSTER:  # on a cluster the entry is written beside the request and relayed (registry.audit)
        assert trips.count == 2
    assert requests.ask(Actor("sms"), phone, "", "sms").outcome == "already"  # nothing stored: nothing audited
    entries = audit.entries(action="callback_request")[0]
    assert sorted(entry["detail"] for entry in entries) == ["138****8000 by sms", "139****5678 by sms"]
