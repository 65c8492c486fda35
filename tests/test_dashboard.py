"""The dashboard: logins, roles on every route, CSRF, review, known scam, alerts, audit, agent console."""

import re

import pytest

from verify.errors import Invalid
from verify.services.actor import CLI

PASSWORD = "correct horse battery"
CSRF = r'name="csrf_token"(?: type="hidden")? value="([^"]+)"'


@pytest.fixture
def accounts(app):
    svc = app.extensions["verify"]
    for name, role, shown in (("ada", "admin", "陈静"), ("sam", "support", None), ("aga", "agent", "王小明")):
        svc.staff.create(CLI, name, role, PASSWORD, shown)
    return svc


def token(client, path="/dashboard/login"):
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    return re.search(CSRF, html).group(1)


def login(client, name, password=PASSWORD, lang="en"):
    client.set_cookie("lang", lang)  # the agent console speaks Chinese by default
    return client.post("/dashboard/login", data={"name": name, "password": password, "csrf_token": token(client)})


def filed(client, **extra):
    response = client.post("/api/v1/reports", json={"number": "021-9999-8888", **extra})
    return response.get_json()["id"]


ROUTES = [
    ("get", "/dashboard/overview", {"admin", "support"}),
    ("get", "/dashboard/reports", {"admin", "support"}),
    ("get", "/dashboard/reports/export.csv", {"admin", "support"}),
    ("get", "/dashboard/reports/export.json", {"admin", "support"}),
    ("post", "/dashboard/reports/{report}", {"admin", "support"}),
    ("post", "/dashboard/reports/{report}/contact", {"admin", "support"}),
    ("post", "/dashboard/numbers/%2B862199998888", {"admin", "support"}),
    ("get", "/dashboard/registry", {"admin"}),
    ("get", "/dashboard/registry/%2B862160800000", {"admin"}),
    ("post", "/dashboard/registry", {"admin"}),
    ("get", "/dashboard/keys", {"admin"}),
    ("post", "/dashboard/keys", {"admin"}),
    ("post", "/dashboard/keys/demo-registry/revoke", {"admin"}),
    ("get", "/dashboard/staff", {"admin"}),
    ("post", "/dashboard/staff/aga", {"admin"}),
    ("get", "/dashboard/agent/sessions/{session}/status", {"admin", "agent"}),
    ("post", "/dashboard/agent/sessions/{session}/replace", {"admin", "agent"}),
    ("get", "/dashboard/agent/sessions/{session}", {"admin", "agent"}),
    ("post", "/dashboard/agent/sessions/{session}/end", {"admin", "agent"}),
    ("post", "/dashboard/agent", {"admin", "agent"}),
    ("get", "/dashboard/reports/{report}", {"admin", "support"}),
    ("get", "/dashboard/numbers/%2B862199998888", {"admin", "support"}),
    ("get", "/dashboard/alerts", {"admin", "support"}),
    ("get", "/dashboard/audit", {"admin"}),
    ("get", "/dashboard/agent", {"admin", "agent"}),
]


@pytest.mark.parametrize("method, path, allowed", ROUTES)
@pytest.mark.parametrize("role, name", [("admin", "ada"), ("support", "sam"), ("agent", "aga"), (None, None)])
def test_role_matrix(app, accounts, open_session, method, path, allowed, role, name):
    client = app.test_client()
    path = path.format(report=filed(client), session=open_session()["id"])
    data = {}
    if name:
        assert login(client, name).status_code == 302
        data = {"csrf_token": token(client, "/dashboard/")} if method == "post" else {}
    response = getattr(client, method)(path, data=data) if method == "post" else client.get(path)
    if role is None:
        # Anonymous: the login page (a POST without a CSRF token is refused before that).
        assert response.status_code in ((302,) if method == "get" else (302, 400)), (path, response.status_code)
        if response.status_code == 302:
            assert "/dashboard/login" in response.headers["Location"]
    elif role in allowed:
        assert response.status_code in ((200,) if method == "get" else (200, 303)), (role, path, response.status_code)
        assert response.headers["Cache-Control"] == "no-store"
    else:
        assert response.status_code == 403, (role, path)


@pytest.mark.parametrize("key_scope, status", [(None, 401), ("sessions", 403), ("registry", 403), ("reports", 200)])
def test_staff_api_matrix(client, key, key_scope, status):
    headers = key(key_scope) if key_scope else {}
    assert client.get("/api/v1/reports", headers=headers).status_code == status


def test_login_logout_and_a_copied_cookie_stops_working(app, accounts):
    client = app.test_client()
    assert login(client, "sam").status_code == 302
    cookie = client.get_cookie("session")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/dashboard/reports").status_code == 200  # the copied cookie works while logged in
    client.post("/dashboard/logout", data={"csrf_token": token(client, "/dashboard/reports")})
    assert client.get("/dashboard/reports").status_code == 302
    assert thief.get("/dashboard/reports").status_code == 302  # and not after logout: the server forgot it


def test_session_cookie_flags(make_app):
    app = make_app(VERIFY_SECURE_COOKIES=True)
    app.extensions["verify"].staff.create(CLI, "sam", "support", PASSWORD)
    client = app.test_client()
    response = login(client, "sam")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_login_lockout_after_five_failures(app, accounts):
    client = app.test_client()
    for _ in range(5):
        assert login(client, "sam", "wrong password!").status_code == 401
    response = login(client, "sam")
    assert response.status_code == 401 and "locked" in response.get_data(as_text=True)
    logged = [e["action"] for e in accounts.audit.entries()[0]]
    assert logged.count("login_failed") == 6


def test_login_needs_csrf(app, accounts):
    response = app.test_client().post("/dashboard/login", data={"name": "sam", "password": PASSWORD})
    assert response.status_code in (400, 401)
    assert app.test_client().get("/dashboard/reports").status_code == 302


def test_no_open_redirect_after_login(app, accounts):
    client = app.test_client()
    response = client.post("/dashboard/login?next=https://evil.example/", data={
        "name": "sam", "password": PASSWORD, "csrf_token": token(client)})
    assert response.headers["Location"].endswith("/dashboard/")


def test_support_confirms_a_report_and_the_public_check_says_known_scam(app, accounts):
    client = app.test_client()
    report_id = filed(client, text="<script>alert('x')</script> asked for my code")
    login(client, "sam")
    page = client.get(f"/dashboard/reports/{report_id}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    csrf = re.search(CSRF, page).group(1)
    response = client.post(f"/dashboard/reports/{report_id}", data={
        "csrf_token": csrf, "status": "confirmed_scam", "assignee": "sam", "note": "confirmed with the borrower"})
    assert response.status_code == 303
    assert client.get("/api/v1/check?number=02199998888").get_json()["verdict"] == "known_scam"
    page = client.get(f"/dashboard/reports/{report_id}").get_data(as_text=True)
    assert "status new -&gt; confirmed_scam" in page and "confirmed with the borrower" in page
    actions = {e["action"] for e in accounts.audit.entries(who="sam")[0]}
    assert {"login", "report_status", "report_assign", "report_note"} <= actions


def test_review_without_csrf_is_refused(app, accounts):
    client = app.test_client()
    report_id = filed(client)
    login(client, "sam")
    response = client.post(f"/dashboard/reports/{report_id}", data={"status": "confirmed_scam"})
    assert response.status_code == 400
    assert client.get("/api/v1/check?number=02199998888").get_json()["verdict"] == "unknown"


def test_mark_and_clear_known_scam_from_the_number_view(app, accounts):
    client = app.test_client()
    filed(client)
    login(client, "sam")
    page = client.get("/dashboard/numbers/%2B862199998888").get_data(as_text=True)
    csrf = re.search(CSRF, page).group(1)
    client.post("/dashboard/numbers/%2B862199998888", data={"csrf_token": csrf, "action": "mark"})
    assert client.get("/api/v1/check?number=02199998888").get_json()["verdict"] == "known_scam"
    client.post("/dashboard/numbers/%2B862199998888", data={"csrf_token": csrf, "action": "clear"})
    assert client.get("/api/v1/check?number=02199998888").get_json()["verdict"] == "unknown"
    logged = accounts.audit.entries(action="number_known_scam")[0]
    assert logged and "862199998888" not in str(logged)  # masked in the audit log


def test_spoofing_alerts_list_our_reported_numbers(app, accounts):
    client = app.test_client()
    filed(client, number="021-6080-0000")
    login(client, "sam")
    page = client.get("/dashboard/alerts").get_data(as_text=True)
    assert "021 6080 0000" in page and "Callback line" in page


CODE = r'<p class="code" aria-label="code">(\d{6})</p>'
BORROWER = {"borrower": "138 0013 8000", "caller": "+862160800000", "purpose": "贷后回访"}


def start(client, **fields):
    """Press "Start session" in the agent console: the POST's answer (not followed)."""
    return client.post("/dashboard/agent", data={"csrf_token": token(client, "/dashboard/agent"), **BORROWER, **fields})


def verify(app, code, phone="13800138000", ip="127.0.0.1"):
    return app.test_client().post("/api/v1/verify", json={"phone": phone, "code": code},
                                  environ_base={"REMOTE_ADDR": ip}).get_json()


def test_agent_starts_a_session_whose_code_verifies_through_the_api(app, accounts):
    client = app.test_client()
    login(client, "aga")
    answer = start(client)
    assert answer.status_code == 303  # post/redirect/get: the session has a page of its own
    session_url = answer.headers["Location"]
    assert re.fullmatch(r"/dashboard/agent/sessions/[0-9a-f]{24}-[0-9a-f]+", session_url)
    page = client.get(session_url).get_data(as_text=True)
    code = re.search(CODE, page).group(1)
    assert "10690009518" in page and "<strong>active</strong>" in page
    verdict = verify(app, code)
    assert verdict["verdict"] == "genuine"
    page = client.get(session_url).get_data(as_text=True)
    assert "<strong>confirmed</strong>" in page
    client.post(session_url + "/end", data={"csrf_token": re.search(CSRF, page).group(1)})
    assert "<strong>ended</strong>" in client.get(session_url).get_data(as_text=True)
    actions = [e["action"] for e in accounts.audit.entries(who="aga")[0]]
    assert "session_start" in actions and "session_end" in actions
    assert "13800138000" not in str(accounts.audit.entries()[0])


def test_borrowers_see_the_agents_display_name_masked_and_a_real_agent_id(app, accounts):
    client = app.test_client()
    login(client, "aga")
    agent_id = accounts.staff.get("aga")["agent_id"]
    assert re.fullmatch(r"A\d{4,}", agent_id)
    page = client.get(start(client).headers["Location"]).get_data(as_text=True)
    code = re.search(CODE, page).group(1)
    assert f"agent 王**, agent id {agent_id}" in page  # what the agent is told borrowers see
    session = verify(app, code)["session"]
    assert session["agent_name"] == "王**" and session["agent_id"] == agent_id  # not "a**" and "aga"
    web = app.test_client()
    csrf = re.search(CSRF, web.get("/?lang=en").get_data(as_text=True)).group(1)
    shown = web.post("/verify?lang=en", data={"csrf_token": csrf, "phone": "13800138000", "code": code}).get_data(as_text=True)
    assert "王**" in shown and agent_id in shown and "aga" not in shown
    start_entry = next(e for e in accounts.audit.entries(action="session_start")[0])
    assert start_entry["who"] == "aga" and f"agent {agent_id}" in start_entry["detail"]


def test_the_agent_console_is_chinese_by_default(app, accounts):
    client = app.test_client()
    login(client, "aga", lang="zh")
    page = client.get("/dashboard/agent").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "发起会话" in page and "借款人手机号" in page
    page = client.get(start(client).headers["Location"]).get_data(as_text=True)
    assert "请把这个核验码读给借款人" in page and "等待借款人核验" in page and "生成新核验码：旧核验码立即失效" in page
    status = client.get(re.search(r'data-url="([^"]+)"', page).group(1)).get_json()
    assert status["label"] == "等待借款人核验"


def test_a_reload_of_the_session_page_opens_nothing(app, accounts):
    client = app.test_client()
    login(client, "aga")
    session_url = start(client).headers["Location"]
    first = re.search(CODE, client.get(session_url).get_data(as_text=True)).group(1)
    for _ in range(3):  # a reload is a GET of the session's own page
        assert re.search(CODE, client.get(session_url).get_data(as_text=True)).group(1) == first
    assert verify(app, first)["verdict"] == "genuine"
    assert len(accounts.audit.entries(action="session_start")[0]) == 1


def test_start_for_a_borrower_with_a_live_session_shows_that_session(app, accounts):
    client = app.test_client()
    login(client, "aga")
    session_url = start(client).headers["Location"]
    code = re.search(CODE, client.get(session_url).get_data(as_text=True)).group(1)
    again = start(client, borrower="+86 138-0013-8000", purpose="another purpose")
    assert again.status_code == 303 and again.headers["Location"] == session_url + "?already=1"
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert re.search(CODE, page).group(1) == code and "This borrower already has a live session" in page
    assert "the old code stops working" in page  # replacing is a separate action that says so
    assert verify(app, code)["verdict"] == "genuine"  # the code read out still works
    assert len(accounts.audit.entries(action="session_start")[0]) == 1


def test_replacing_is_explicit_and_the_old_code_stops_working(app, accounts):
    client = app.test_client()
    login(client, "aga")
    old_url = start(client).headers["Location"]
    page = client.get(old_url).get_data(as_text=True)
    old_code = re.search(CODE, page).group(1)
    replaced = client.post(old_url + "/replace", data={"csrf_token": re.search(CSRF, page).group(1)})
    assert replaced.status_code == 303 and replaced.headers["Location"].endswith("?replaced=1")
    new_url = replaced.headers["Location"].split("?")[0]
    assert new_url != old_url
    page = client.get(replaced.headers["Location"]).get_data(as_text=True)
    new_code = re.search(CODE, page).group(1)
    assert "the previous code no longer works" in page
    assert verify(app, old_code)["verdict"] == "not_verified"
    assert verify(app, new_code)["verdict"] == "genuine"
    # Replacing the old session again is refused in favour of the live one: nothing is killed twice.
    again = client.post(old_url + "/replace", data={"csrf_token": re.search(CSRF, page).group(1)})
    assert again.headers["Location"] == new_url + "?already=1"
    entry, = accounts.audit.entries(action="session_replace")[0]
    assert entry["who"] == "aga" and entry["target"] == new_url.rsplit("/", 1)[1]
    assert entry["detail"].startswith(f"replaces {old_url.rsplit('/', 1)[1]} agent A")


def test_replace_needs_csrf(app, accounts):
    client = app.test_client()
    login(client, "aga")
    session_url = start(client).headers["Location"]
    assert client.post(session_url + "/replace").status_code == 400


def test_the_code_is_shown_only_to_the_agent_who_opened_the_session(app, accounts):
    accounts.staff.create(CLI, "agb", "agent", PASSWORD, "李四")
    mine, theirs = app.test_client(), app.test_client()
    login(mine, "aga")
    login(theirs, "agb")
    session_url = start(mine).headers["Location"]
    code = re.search(CODE, mine.get(session_url).get_data(as_text=True)).group(1)
    answer = start(theirs)
    assert answer.headers["Location"] == session_url + "?already=1"  # no new code over a live call
    page = theirs.get(answer.headers["Location"]).get_data(as_text=True)
    assert code not in page and "Another staff member opened this session" in page
    assert code not in theirs.get(session_url + "/status").get_data(as_text=True)
    assert verify(app, code)["verdict"] == "genuine"


def test_a_session_opened_through_the_api_is_shown_not_replaced(app, accounts, open_session):
    opened = open_session()
    client = app.test_client()
    login(client, "aga")
    answer = start(client)
    assert answer.headers["Location"] == f"/dashboard/agent/sessions/{opened['id']}?already=1"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert opened["code"] not in page and "The call-centre system opened this session (agent id A17)" in page
    assert verify(app, opened["code"])["verdict"] == "genuine"


def test_the_session_page_and_its_status_are_never_cached(app, accounts):
    client = app.test_client()
    login(client, "aga")
    session_url = start(client).headers["Location"]
    for path in (session_url, session_url + "/status"):
        assert client.get(path).headers["Cache-Control"] == "no-store"


def test_the_status_endpoint_follows_the_session_without_its_code(app, accounts):
    client = app.test_client()
    login(client, "aga")
    session_url = start(client).headers["Location"]
    code = re.search(CODE, client.get(session_url).get_data(as_text=True)).group(1)
    status = client.get(session_url + "/status")
    assert status.mimetype == "application/json" and status.get_json()["status"] == "active"
    assert code not in status.get_data(as_text=True)
    verify(app, code)
    assert client.get(session_url + "/status").get_json()["status"] == "confirmed"
    page = client.get(session_url).get_data(as_text=True)
    client.post(session_url + "/end", data={"csrf_token": re.search(CSRF, page).group(1)})
    body = client.get(session_url + "/status").get_json()
    assert body["status"] == "ended" and "no longer works" in body["label"]
    assert code not in client.get(session_url).get_data(as_text=True)  # spent: no longer shown
    assert app.test_client().get(session_url + "/status").status_code == 302  # staff only


def _selected_caller(page):
    select = re.search(r'<select[^>]*name="caller"[^>]*>(.*?)</select>', page, re.S).group(1)
    options = re.findall(r'<option([^>]*)value="([^"]*)"', select)
    return [value for attrs, value in options], [value for attrs, value in options if "selected" in attrs]


def test_the_default_calling_number_is_an_active_outbound_callback_line(app, accounts):
    client = app.test_client()
    login(client, "aga")
    offered, selected = _selected_caller(client.get("/dashboard/agent").get_data(as_text=True))
    assert selected == ["+862160800000"]  # the callback line, not the SMS number +8610690009518
    assert "+8610690009518" not in offered and "+864000009518" not in offered  # SMS, inbound-only hotline
    assert start(client, caller="+8610690009518").status_code == 200  # refused: not a line to call from


def test_without_a_callback_line_the_agent_must_choose(app, accounts):
    accounts.numbers.retire(CLI, "021-6080-0000")
    client = app.test_client()
    login(client, "aga")
    page = client.get("/dashboard/agent").get_data(as_text=True)
    offered, selected = _selected_caller(page)
    assert offered == [""] and selected == [""] and "no active callback line" in page
    assert start(client, caller="").status_code == 200


def test_an_agent_without_a_display_name_cannot_start_a_session(app, accounts):
    accounts.staff.create(CLI, "agc", "agent", PASSWORD)
    client = app.test_client()
    login(client, "agc")
    assert "has no display name" in client.get("/dashboard/agent").get_data(as_text=True)
    answer = start(client)
    assert answer.status_code == 200 and "has no display name" in answer.get_data(as_text=True)
    assert accounts.audit.entries(action="session_start")[0] == []


def test_an_admin_changes_a_display_name_on_the_staff_page(app, accounts):
    admin, agent = app.test_client(), app.test_client()
    login(admin, "ada")
    login(agent, "aga")
    page = admin.get("/dashboard/staff").get_data(as_text=True)
    assert "王小明" in page and accounts.staff.get("aga")["agent_id"] in page
    saved = admin.post("/dashboard/staff/aga", data={"csrf_token": re.search(CSRF, page).group(1), "display_name": " 赵  六 "})
    assert saved.status_code == 303 and accounts.staff.get("aga")["display_name"] == "赵 六"
    assert "Saved the display name of aga" in admin.get(saved.headers["Location"]).get_data(as_text=True)
    code = re.search(CODE, agent.get(start(agent).headers["Location"]).get_data(as_text=True)).group(1)
    assert verify(app, code)["session"]["agent_name"] == "赵**"
    entry, = accounts.audit.entries(action="staff_update")[0]
    assert entry["who"] == "ada" and entry["target"] == "aga"
    assert agent.post("/dashboard/staff/aga", data={"csrf_token": token(agent, "/dashboard/agent"),
                                                    "display_name": "x"}).status_code == 403
    refused = admin.post("/dashboard/staff/aga", data={"csrf_token": token(admin, "/dashboard/staff"), "display_name": "x" * 40})
    assert refused.status_code == 200 and accounts.staff.get("aga")["display_name"] == "赵 六"


def test_the_agent_console_says_which_channel_is_locked(app, accounts):
    client = app.test_client()
    login(client, "aga")
    session_url = start(client, borrower="13800138000").headers["Location"]
    code = re.search(CODE, client.get(session_url).get_data(as_text=True)).group(1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for attempt in range(5):
        verify(app, wrong, ip=f"203.0.113.{attempt}")
    page = client.get(session_url).get_data(as_text=True)
    assert "On the web, the API and the hotline" in page and "text the code from their own phone to 10690009518" in page
    assert "By SMS" not in page and "<strong>locked</strong>" not in page and "<strong>active</strong>" in page
    assert re.search(CODE, page).group(1) == code  # still live: still shown to its agent


def test_audit_log_filters(app, accounts):
    client = app.test_client()
    login(client, "sam", "nope nope nope")
    login(client, "ada")
    page = client.get("/dashboard/audit?action=login_failed").get_data(as_text=True)
    rows = re.findall(r'<tr><td><strong>[^<]*</strong></td><td[^>]*>([^<]*)</td><td[^>]*data-action="([^"]*)"', page)
    assert rows and all(action == "login_failed" for _who, action in rows) and ("sam", "login_failed") in rows


def test_staff_cli(runner, app):
    result = runner.invoke(args=["staff", "create", "lin", "--role", "support", "--generate"])
    assert result.exit_code == 0 and "shown once" in result.output
    password = result.output.rsplit(": ", 1)[1].strip()
    assert app.extensions["verify"].staff.log_in(CLI, "lin", password)[1]["role"] == "support"
    assert runner.invoke(args=["staff", "create", "lin", "--role", "support", "--generate"]).exit_code != 0
    assert runner.invoke(args=["staff", "create", "x", "--role", "boss", "--generate"]).exit_code != 0
    assert "lin" in runner.invoke(args=["staff", "list"]).output
    assert runner.invoke(args=["staff", "disable", "lin"]).exit_code == 0
    with pytest.raises(Invalid):
        app.extensions["verify"].staff.log_in(CLI, "lin", password)


def test_staff_cli_display_name_and_agent_id(runner, app):
    svc = app.extensions["verify"]
    result = runner.invoke(args=["staff", "create", "lin", "--role", "agent", "--display-name", "林小红", "--generate"])
    assert result.exit_code == 0, result.output
    account = svc.staff.get("lin")
    assert account["display_name"] == "林小红" and re.fullmatch(r"A\d{4,}", account["agent_id"])
    assert f"agent id {account['agent_id']}" in result.output
    other = runner.invoke(args=["staff", "create", "lee", "--role", "agent", "--display-name", "Lee", "--generate"])
    assert other.exit_code == 0 and svc.staff.get("lee")["agent_id"] != account["agent_id"]
    listed = runner.invoke(args=["staff", "list"]).output
    assert "林小红" in listed and account["agent_id"] in listed
    assert runner.invoke(args=["staff", "update", "lin", "--display-name", "林红"]).exit_code == 0
    assert svc.staff.get("lin")["display_name"] == "林红" and svc.staff.get("lin")["agent_id"] == account["agent_id"]
    assert runner.invoke(args=["staff", "update", "lin", "--display-name", "x" * 40]).exit_code != 0
    assert runner.invoke(args=["staff", "update", "nobody", "--display-name", "X"]).exit_code != 0
    bad = runner.invoke(args=["staff", "create", "bad", "--role", "agent", "--display-name", "a\x07b", "--generate"])
    assert bad.exit_code != 0
    entry, = svc.audit.entries(action="staff_update")[0]
    assert entry["target"] == "lin" and "林红" in entry["detail"]


def test_disabled_account_loses_its_open_session(app, accounts):
    client = app.test_client()
    login(client, "sam")
    assert client.get("/dashboard/reports").status_code == 200
    accounts.staff.disable(CLI, "sam")
    assert client.get("/dashboard/reports").status_code == 302


def test_overview_draws_svg_from_running_totals(app, accounts):
    client = app.test_client()
    for number, cats in (("021-9999-8888", ["transfer"]), ("021-9999-8888", ["sms_code", "transfer"]), ("95188", [])):
        client.post("/api/v1/reports", json={"number": number, "categories": cats})
    login(client, "sam")
    page = client.get("/dashboard/overview").get_data(as_text=True)
    assert page.count("<rect") >= 30 + 2 + 8 and ">021 9999 8888</a>: 2" in page
    assert "<script" not in page
    data = accounts.review.overview()
    assert data["days"][-1]["count"] == 3 and data["categories"]["transfer"] == 2
    assert data["top_numbers"][0] == {"number": "+862199998888", "display": "021 9999 8888", "count": 2, "ours": False}


def test_overview_marks_our_own_numbers_as_spoofed_not_as_scams(app, accounts):
    client = app.test_client()
    for number in ("021-6080-0000", "021-6080-0000", "021-6080-0000", "021-9999-8888"):
        client.post("/api/v1/reports", json={"number": number})
    login(client, "sam")
    page = client.get("/dashboard/overview").get_data(as_text=True)
    ours = page.split('>021 6080 0000</a>: 3')[1].split("</li>")[0]
    assert "ours — being spoofed" in ours
    assert "ours" not in page.split('>021 9999 8888</a>: 1')[1].split("</li>")[0]
    bars = re.findall(r'<rect [^>]*fill="(#[0-9a-f]+)"><title>([^<]*)</title>', page)
    assert ("#0b4fa8", "021 6080 0000: ours — being spoofed") in bars  # not the scam red
    assert ("#b3261e", "021 9999 8888") in bars
    assert [n["ours"] for n in accounts.review.overview()["top_numbers"]] == [True, False]


def test_our_own_number_cannot_be_marked_known_scam_from_the_number_view(app, accounts):
    client = app.test_client()
    filed(client, number="021-6080-0000")
    login(client, "sam")
    page = client.get("/dashboard/numbers/%2B862160800000").get_data(as_text=True)
    assert "Ours — being spoofed" in page and 'value="mark"' not in page
    csrf = re.search(CSRF, page).group(1)
    response = client.post("/dashboard/numbers/%2B862160800000", data={"csrf_token": csrf, "action": "mark"})
    assert response.status_code == 409
    answer = response.get_data(as_text=True)
    assert "one of our official numbers" in answer and "cannot be marked as a known scam" in answer
    assert 'class="brand" href="/dashboard/"' in answer  # inside the dashboard
    assert not accounts.store.redis.sismember(accounts.store.key("reports", "known-scam"), "+862160800000")
    assert accounts.audit.entries(action="number_known_scam")[0] == []
    assert client.get("/api/v1/check?number=021-6080-0000").get_json()["verdict"] == "official"


def test_export_csv_and_json(app, accounts):
    client = app.test_client()
    client.post("/api/v1/reports", json={"number": "021-9999-8888", "text": "=HYPERLINK(\"http://x\")", "categories": ["transfer"]})
    client.post("/api/v1/reports", json={"number": "13912345678", "reporter_phone": "13800138000"})
    login(client, "sam")
    csv_text = client.get("/dashboard/reports/export.csv?number=021-99998888").get_data(as_text=True)
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0] == ",".join(("id", "number", "number_raw", "occurred_at", "received_at", "channel", "categories",
                                 "text", "amount_lost", "contact_masked", "source", "status", "assignee"))
    assert len(lines) == 2 and "'=HYPERLINK" in lines[1] and "transfer" in lines[1]
    rows = client.get("/dashboard/reports/export.json").get_json()
    assert len(rows) == 2 and {r["contact_masked"] for r in rows} == {"", "138****8000"}
    assert "13800138000" not in str(rows) and "fingerprint" not in rows[0]
    assert client.get("/dashboard/reports/export.xml").status_code == 404


def test_registry_management_and_api_keys_are_admin_only(app, accounts):
    client = app.test_client()
    login(client, "sam")
    assert client.get("/dashboard/registry").status_code == 403
    assert client.get("/dashboard/keys").status_code == 403
    admin = app.test_client()
    login(admin, "ada")
    page = admin.get("/dashboard/registry").get_data(as_text=True)
    csrf = re.search(CSRF, page).group(1)
    response = admin.post("/dashboard/registry", data={
        "csrf_token": csrf, "number": "021-6080-7777", "label_zh": "催收", "label_en": "Collections",
        "purpose": "collections", "direction": "outbound", "status": "active", "variants": "", "notes": ""})
    assert response.status_code == 303
    assert admin.get("/api/v1/check?number=02160807777").get_json()["verdict"] == "official"
    page = admin.get("/dashboard/registry/%2B862160807777").get_data(as_text=True)
    csrf = re.search(CSRF, page).group(1)
    admin.post("/dashboard/registry/%2B862160807777", data={
        "csrf_token": csrf, "number": "+862160807777", "label_zh": "催收", "label_en": "Collections",
        "purpose": "collections", "direction": "outbound", "status": "retired", "retired_on": "2026-11-01"})
    assert admin.get("/api/v1/check?number=02160807777").get_json()["verdict"] == "retired"
    page = admin.get("/dashboard/keys").get_data(as_text=True)
    csrf = re.search(CSRF, page).group(1)
    page = admin.post("/dashboard/keys", data={"csrf_token": csrf, "name": "crm", "scope": "sessions"}).get_data(as_text=True)
    key = re.search(r"<code>(vk_sessions_[^<]+)</code>", page).group(1)
    assert key not in admin.get("/dashboard/keys").get_data(as_text=True)  # shown once
    headers = {"Authorization": f"Bearer {key}"}
    assert admin.get("/api/v1/sessions/" + "0" * 24 + "-00", headers=headers).status_code == 404
    admin.post("/dashboard/keys/crm/revoke", data={"csrf_token": csrf})
    assert admin.get("/api/v1/sessions/" + "0" * 24 + "-00", headers=headers).status_code == 401
    actions = {e["action"] for e in accounts.audit.entries(who="ada")[0]}
    assert {"registry_add", "registry_update", "key_create", "key_revoke"} <= actions


def test_an_admin_makes_an_app_key_for_call_status(app, accounts):
    admin = app.test_client()
    login(admin, "ada")
    csrf = re.search(CSRF, admin.get("/dashboard/keys").get_data(as_text=True)).group(1)
    page = admin.post("/dashboard/keys", data={"csrf_token": csrf, "name": "lender-app", "scope": "app"}).get_data(as_text=True)
    headers = {"Authorization": "Bearer " + re.search(r"<code>(vk_app_[^<]+)</code>", page).group(1)}
    assert admin.get("/api/v1/call-status?borrower=13800138000", headers=headers).get_json()["state"] == "not_calling"


def test_api_and_cli_registry_changes_are_audited(app, client, key, runner, accounts):
    client.post("/api/v1/numbers", headers=key("registry", name="crm-sync"), json={
        "number": "95188", "labels": {"zh": "客服", "en": "Service"}, "purpose": "hotline", "direction": "both"})
    runner.invoke(args=["numbers", "retire", "95188"])
    runner.invoke(args=["keys", "create", "--scope", "reports", "--name", "police-export", "--quiet"])
    entries = accounts.audit.entries()[0]
    assert ("key:crm-sync", "registry_add") in {(e["who"], e["action"]) for e in entries}
    assert ("cli", "registry_update") in {(e["who"], e["action"]) for e in entries}
    assert ("cli", "key_create") in {(e["who"], e["action"]) for e in entries}


def test_a_report_naming_our_number_is_logged_as_a_spoofing_signal(app, client, caplog):
    import logging

    client.get("/api/v1/check?number=95188")  # this process has read the registry once
    with caplog.at_level(logging.WARNING, logger="verify.reporting"):
        client.post("/api/v1/reports", json={"number": "021-6080-0000"})
        client.post("/api/v1/reports", json={"number": "021-9999-8888"})
    assert caplog.text.count("spoofing signal") == 1 and "+862160800000" in caplog.text


def test_spoofing_metric(seeded):
    app = seeded(VERIFY_METRICS_TOKEN="scrape-token-for-tests")
    client = app.test_client()
    client.post("/api/v1/reports", json={"number": "021-6080-0000"})
    client.post("/api/v1/reports", json={"number": "021-6080-0000"}, environ_base={"REMOTE_ADDR": "10.2.2.2"})
    client.post("/api/v1/reports", json={"number": "021-9999-8888"})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "scrape-token-for-tests"}):
        assert client.get("/metrics", headers=headers).status_code == 404
    assert seeded().test_client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404  # unset
    text = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-for-tests"}).get_data(as_text=True)
    assert 'verify_spoofing_reports_total{number="+862160800000"} 2.0' in text
    assert "+862199998888" not in text  # not ours: no spoofing signal
    assert 'verify_reports{status="new"} 3.0' in text


def test_idle_and_absolute_timeouts(app, accounts, redis_server):
    import time as clock

    client = app.test_client()
    login(client, "sam")
    keys = [k for k in redis_server.keys("*") if "{staff}:s:" in k]
    assert len(keys) == 1 and 0 < accounts.store.redis.ttl(keys[0]) <= 30 * 60
    accounts.store.redis.hset(keys[0], "created", int(clock.time()) - 13 * 3600)  # older than 12 hours
    assert client.get("/dashboard/reports").status_code == 302
    login(client, "sam")
    key = [k for k in redis_server.keys("*") if "{staff}:s:" in k][0]
    accounts.store.redis.expire(key, 1)  # the idle timeout, shortened
    clock.sleep(1.2)
    assert client.get("/dashboard/reports").status_code == 302


def test_session_cookie_signer_is_built_once_and_follows_key_rotation(app, accounts):
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first  # not rebuilt per request
    client = app.test_client()
    assert login(client, "ada").status_code == 302
    assert client.get("/dashboard/overview").status_code == 200
    # Rotating the key: the old key becomes a fallback, so a logged-in cookie keeps working ...
    app.config["SECRET_KEY_FALLBACKS"] = [app.secret_key]
    app.secret_key = "a-new-secret-key"
    assert interface.get_signing_serializer(app) is not first
    assert client.get("/dashboard/overview").status_code == 200
    # ... and once the fallback is dropped, the cookie signed with the old key no longer is.
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/dashboard/overview").status_code == 302


def test_odd_query_arguments_do_not_break_the_report_queue(app, accounts):
    app.testing = False
    client = app.test_client()
    assert login(client, "sam").status_code == 302
    response = client.get("/dashboard/reports?fmt=json&endpoint=x&_method=POST&status=new")
    assert response.status_code == 200 and "export.csv?status=new" in response.get_data(as_text=True)


@pytest.mark.parametrize("cursor", ["0-0", "99999999999999999999-0", "x", "1-"])
def test_an_impossible_audit_cursor_is_a_bad_request_not_a_store_failure(app, accounts, cursor):
    client = app.test_client()
    assert login(client, "ada").status_code == 302
    assert client.get(f"/dashboard/audit?cursor={cursor}").status_code == 400


def test_staff_accounts_stored_before_the_list_of_names_are_still_listed(app, runner, monkeypatch):
    """`staff list` (the CLI) finds them with SCAN and adds them to the set of names; the dashboard's
    listing reads the set alone (no SCAN on a request: it walks every key, every primary of a cluster)."""
    store = app.extensions["verify"].store
    # An account as stored before {staff}:names existed: the account hash alone.
    store.redis.hset(store.key("staff", "u:olda"), mapping={
        "name": "olda", "role": "admin", "hash": "x", "created": "2026-01-01T00:00:00Z", "disabled": ""})
    assert "olda" not in [row["name"] for row in app.extensions["verify"].staff.all()]
    assert "olda" in runner.invoke(args=["staff", "list"]).output
    monkeypatch.setattr(type(store.redis), "scan_iter", lambda *args, **kwargs: pytest.fail("SCAN on a request path"))
    assert "olda" in [row["name"] for row in app.extensions["verify"].staff.all()]


def test_retiring_on_the_dashboard_audits_what_changed(app, accounts):
    client = app.test_client()
    assert login(client, "ada").status_code == 302
    entry = accounts.numbers.get("+862160800000")  # the form as the page fills it in, with status retired
    form = {"csrf_token": token(client, "/dashboard/registry/%2B862160800000"), "number": entry["number"],
            "label_zh": entry["labels"]["zh"], "label_en": entry["labels"]["en"], "purpose": entry["purpose"],
            "direction": entry["direction"], "status": "retired", "retired_on": "",
            "variants": " ".join(entry["variants"]), "notes": entry["notes"]}
    assert client.post("/dashboard/registry/%2B862160800000", data=form).status_code == 303
    logged = accounts.audit.entries(action="registry_update")[0][0]
    assert logged["detail"] == "retired_on,status" and logged["who"] == "ada"


@pytest.mark.parametrize("name, path, allowed", [("aga", "/dashboard/overview", "admin and support"),
                                                 ("sam", "/dashboard/registry", "admin"),
                                                 ("sam", "/dashboard/agent", "admin and agent")])
def test_a_page_the_role_cannot_use_is_a_403_inside_the_dashboard(app, accounts, name, path, allowed):
    """Not the borrower's error page (Chinese by default, "hang up and call the hotline"): the dashboard's
    layout and menu, who is logged in, which roles the page is for, and the way back."""
    client = app.test_client()
    login(client, name)
    response = client.get(path)
    assert response.status_code == 403 and response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert 'class="brand" href="/dashboard/"' in page and 'aria-label="Dashboard"' in page and "Log out " + name in page
    assert "Not for your role" in page and f"this page is for {allowed} only" in page and f"logged in as {name}" in page
    assert "Back to the dashboard" in page
    assert "400-000-9518" not in page and "挂断" not in page and "hang up" not in page.lower()


def test_other_dashboard_errors_stay_inside_the_dashboard(app, accounts):
    client = app.test_client()
    login(client, "sam")
    response = client.get("/dashboard/reports/R000000-NOPE00")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert 'class="brand" href="/dashboard/"' in page and "Not found" in page and "400-000-9518" not in page


def test_a_logged_in_page_while_the_store_is_down_is_a_503_inside_the_dashboard(make_app, tmp_path):
    """Knowing who is logged in needs the store: the error page must not ask it again (that crashed it)."""
    from tests.redis_process import RedisProcess

    private = RedisProcess(tmp_path / "dashboard-redis").start()
    try:
        app = make_app(REDIS_URL=private.url)
        app.extensions["verify"].staff.create(CLI, "sam", "support", PASSWORD)
        client = app.test_client()
        assert login(client, "sam").status_code == 302
    finally:
        private.stop()
    response = client.get("/dashboard/overview")
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and 'class="brand" href="/dashboard/"' in page and "The store is not answering" in page


def test_support_can_call_a_reporter_back_on_purpose_and_it_is_audited(app, client, accounts):
    """Issue 15 item 9: the reporter's number is stored encrypted (never in plaintext, never in the API
    or exports), masked everywhere, and shown in full to support only on "show contact", audited."""
    report = filed(client, reporter_phone="13800138000")
    store = app.extensions["verify"].store
    stored = store.redis.hgetall(store.key("reports", f"r:{report}"))
    assert stored["contact_sealed"] and not any("13800138000" in value for value in stored.values())
    assert "contact_sealed" not in client.get(f"/api/v1/reports/{report}", headers={
        "Authorization": "Bearer " + accounts.keys.create(CLI, "r", "reports")}).get_json()
    assert login(client, "sam").status_code == 302
    page = client.get(f"/dashboard/reports/{report}").get_data(as_text=True)
    assert "138****8000" in page and "138 0013 8000" not in page and "Show contact" in page
    shown = client.post(f"/dashboard/reports/{report}/contact", data={"csrf_token": token(client, f"/dashboard/reports/{report}")})
    assert shown.status_code == 200 and 'href="tel:+8613800138000"' in shown.get_data(as_text=True)
    entries = accounts.audit.entries(action="contact_show")[0]
    assert [(e["who"], e["target"]) for e in entries] == [("sam", report)]
    assert client.post(f"/dashboard/reports/{report}/contact").status_code == 400  # no CSRF token: refused
    accounts.retention.erase(CLI, report)
    erased = client.post(f"/dashboard/reports/{report}/contact", data={"csrf_token": token(client, f"/dashboard/reports/{report}")})
    assert "no contact number" in erased.get_data(as_text=True)
