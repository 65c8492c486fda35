"""Issue 15 item 6: the dashboard in Chinese by default, English on the same switch as the public pages;
form errors, service messages, names of roles, statuses and categories, and staff error pages in the
page's language, error pages inside the dashboard's layout."""

import re

import pytest

from tests.test_dashboard import PASSWORD, accounts, filed, login, token  # noqa: F401 (accounts: a fixture)

CJK = re.compile(r"[\u4e00-\u9fff]")
# Each page (as admin) with its heading in both languages.
PAGES = [
    ("/dashboard/overview", "概览", "Overview"),
    ("/dashboard/alerts", "冒用警报", "Spoofing alerts"),
    ("/dashboard/registry", "官方号码", "Official numbers"),
    ("/dashboard/keys", "API 密钥", "API keys"),
    ("/dashboard/audit", "审计日志", "Audit log"),
    ("/dashboard/staff", "员工", "Staff"),
    ("/dashboard/agent", "坐席工作台", "Agent console"),
]


def h1(page):
    return re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", page, re.DOTALL).group(1)).strip()


def test_the_login_page_is_chinese_by_default_and_english_on_the_switch(client):
    page = client.get("/dashboard/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and h1(page) == "员工登录" and ">用户名</label>" in page
    assert '<a class="switch" href="/dashboard/login?lang=en"' in page
    english = client.get("/dashboard/login?lang=en")
    assert any(c.startswith("lang=en;") for c in english.headers.getlist("Set-Cookie"))  # remembered
    assert h1(english.get_data(as_text=True)) == "Staff log in"
    assert h1(client.get("/dashboard/login").get_data(as_text=True)) == "Staff log in"
    assert h1(client.get("/dashboard/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)) == "Staff log in"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_dashboard_page_speaks_the_chosen_language(app, accounts, lang):
    client = app.test_client()
    login(client, "ada", lang=lang)
    for path, zh, en in PAGES:
        page = client.get(path).get_data(as_text=True)
        assert h1(page) == (zh if lang == "zh" else en), path
        menu = re.search(r'<nav aria-label="[^"]+">(.*?)</nav>', page, re.DOTALL).group(1)
        if lang == "zh":
            assert "概览" in menu and "退出 ada" in menu and "Overview" not in menu, path
        else:
            assert "Overview" in menu and "Log out ada" in menu and not CJK.search(menu.replace("中文", "")), path
    registry = client.get("/dashboard/registry").get_data(as_text=True)
    if lang == "zh":  # stored values named in Chinese, the stored value itself still sent by the form
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", registry)
        assert cells[cells.index("回访"):][:3] == ["回访", "外呼", "有效"] and "仅呼入" in cells
        assert '<option value="inbound_only">仅呼入</option>' in registry
        assert "角色" in client.get("/dashboard/staff").get_data(as_text=True)
        assert ">管理员</td>" in client.get("/dashboard/staff").get_data(as_text=True)
    else:
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", registry)
        assert cells[cells.index("callback"):][:3] == ["callback", "calls out", "active"]


def test_login_errors_and_the_lockout_in_chinese(client, accounts):
    client.get("/dashboard/login")
    form = {"name": "sam", "password": "wrong wrong wrong", "csrf_token": token(client)}
    page = client.post("/dashboard/login", data=form).get_data(as_text=True)
    assert "用户名或密码错误。" in page and "Wrong name" not in page
    for _ in range(5):
        page = client.post("/dashboard/login", data=form).get_data(as_text=True)
    assert "登录失败次数过多" in page


def test_a_page_for_another_role_is_refused_in_chinese_inside_the_dashboard(app, accounts):
    client = app.test_client()
    login(client, "aga", lang="zh")
    response = client.get("/dashboard/overview")
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and 'class="brand" href="/dashboard/"' in page and "退出 aga" in page
    assert h1(page) == "您的角色无权访问" and "您以 aga（坐席）身份登录；此页面仅供管理员和客服使用。" in page
    assert "返回后台" in page and "挂断" not in page


@pytest.mark.parametrize("lang, words", [("zh", "找不到"), ("en", "Not found")])
def test_a_mistyped_dashboard_address_stays_in_the_dashboard(app, accounts, lang, words):
    client = app.test_client()
    login(client, "sam", lang=lang)
    response = client.get("/dashboard/no-such-page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and 'class="brand" href="/dashboard/"' in page and h1(page) == words
    assert "400-000-9518" not in page  # not the borrower's page with the hotline


def test_service_messages_on_forms_are_translated_and_under_their_field(app, accounts):
    client = app.test_client()
    login(client, "ada", lang="zh")
    form = {"csrf_token": token(client, "/dashboard/registry"), "number": "021-6080-2222", "label_zh": "回访",
            "label_en": "Callback", "purpose": "callback", "direction": "outbound", "status": "retired",
            "retired_on": "soon"}
    page = client.post("/dashboard/registry", data=form).get_data(as_text=True)
    field = re.search(r'<input [^>]*id="retired_on".*?</div>', page, re.DOTALL).group(0)
    assert "请填写日期，例如 2025-06-30" in field
    form.update(number="+862160800000", status="active", retired_on="")  # a conflict: its values kept apart
    page = client.post("/dashboard/registry", data=form).get_data(as_text=True)
    assert "+862160800000 已在号码库中" in page and "already registered" not in page
    keys = client.post("/dashboard/keys", data={"csrf_token": token(client, "/dashboard/keys"), "name": "a b",
                                                "scope": "app"}).get_data(as_text=True)
    assert "请用 1–64 个字母、数字、点、横线或下划线" in keys
    refused = client.post("/dashboard/numbers/%2B862160800000", data={
        "csrf_token": token(client, "/dashboard/numbers/%2B862160800000"), "action": "mark"})
    assert refused.status_code == 409 and "这是我们的官方号码" in refused.get_data(as_text=True)


def test_the_console_without_a_display_name_says_so_in_chinese(app, accounts):
    from verify.services.actor import CLI

    accounts.staff.create(CLI, "nod", "agent", PASSWORD)
    client = app.test_client()
    login(client, "nod", lang="zh")
    page = client.post("/dashboard/agent", data={"csrf_token": token(client, "/dashboard/agent"),
                                                 "borrower": "13800138000", "caller": "+862160800000",
                                                 "purpose": "贷后回访"}).get_data(as_text=True)
    assert "您的账号还没有显示名称" in page and "Your account has no display name" not in page


def test_the_switch_on_a_page_that_answered_a_post_goes_to_the_dashboard(app, client, accounts):
    report = filed(client, reporter_phone="13800138000")
    login(client, "sam", lang="zh")
    shown = client.post(f"/dashboard/reports/{report}/contact",
                        data={"csrf_token": token(client, f"/dashboard/reports/{report}")}).get_data(as_text=True)
    assert '<a class="switch" href="/dashboard/?lang=en"' in shown
    assert "举报人希望我们联系他" in shown


def test_the_session_page_and_its_status_updates_name_the_status_in_chinese(app, accounts):
    client = app.test_client()
    login(client, "aga", lang="zh")
    started = client.post("/dashboard/agent", data={"csrf_token": token(client, "/dashboard/agent"),
                                                    "borrower": "13800138000", "caller": "+862160800000",
                                                    "purpose": "贷后回访"})
    session_page = started.headers["Location"]
    assert "<strong>有效</strong>" in client.get(session_page).get_data(as_text=True)
    state = client.get(session_page.split("?")[0] + "/status").get_json()
    assert state["status"] == "active" and state["name"] == "有效" and CJK.search(state["label"])
