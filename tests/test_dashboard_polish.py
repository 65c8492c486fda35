"""Issue 15 follow-ups on the dashboard: audit actions and key scopes named in the page's language
(the code kept for support), phone numbers grouped on the overview, the dashboard's forms summing up
their errors at the top, messages from the number reader translated."""

import re

import pytest

from tests.test_dashboard import PASSWORD, accounts, login, token  # noqa: F401 (accounts: a fixture)
from verify.routes.labels import NAMES
from verify.services.audit import ACTIONS
from verify.services.keys import SCOPES


def test_every_audit_action_and_key_scope_has_a_name():
    assert set(NAMES["action"]) == set(ACTIONS) and set(NAMES["scope"]) == set(SCOPES)


@pytest.mark.parametrize("lang, failed, created, scope", [
    ("zh", "登录失败", "创建 API 密钥", "回访会话"),
    ("en", "failed login", "created an API key", "callback sessions"),
])
def test_audit_actions_and_key_scopes_are_named_with_their_code_kept(app, accounts, lang, failed, created, scope):
    client = app.test_client()
    login(client, "sam", "nope nope nope")
    login(client, "ada", lang=lang)
    client.post("/dashboard/keys", data={"csrf_token": token(client, "/dashboard/keys"), "name": "cc", "scope": "sessions"})
    page = client.get("/dashboard/audit").get_data(as_text=True)
    cells = re.findall(r'<td data-label="[^"]+" data-action="([^"]+)">([^<]*) <small class="raw" lang="en">([^<]*)</small>', page)
    assert ("login_failed", failed, "login_failed") in cells and ("key_create", created, "key_create") in cells
    assert f'<option value="login_failed">{failed} (login_failed)</option>' in page
    keys = client.get("/dashboard/keys").get_data(as_text=True)
    assert re.search(rf'<td data-label="[^"]+">{scope} <small class="raw" lang="en">sessions</small></td>', keys)
    assert f'<option value="sessions">{scope}</option>' in keys


def test_the_overview_shows_most_reported_numbers_as_people_read_them(app, accounts):
    client = app.test_client()
    for number in ("021-6080-0000", "021-6080-0000", "+852 2160 8000", "021-9999-8888", "0086 1794 487843057061 4 432"):
        client.post("/api/v1/reports", json={"number": number})
    login(client, "sam", lang="zh")
    page = client.get("/dashboard/overview").get_data(as_text=True)
    listed = re.findall(r'<li><a class="tel" href="/dashboard/numbers/([^"]+)">([^<]+)</a>: (\d+)(.*?)</li>', page)
    assert listed[0] == ("+862160800000", "021 6080 0000", "2", ' <span class="tag-ours">我方号码 — 正被冒用</span>')
    assert {row[:3] for row in listed[1:]} == {("+85221608000", "+852 2160 8000", "1"),
                                               ("+862199998888", "021 9999 8888", "1"),
                                               # no number at all: its stored digits, not a national reading
                                               ("+86878430570614432", "+86 878 4305 7061 4432", "1")}
    assert "+862199998888<" not in page and ">+862160800000" not in page  # E.164 only in the links
    labels = re.findall(r'<text x="0" [^>]*>([^<]+)</text>', page)
    assert "021 6080 0000" in labels and "+852 2160 8000" in labels
    opened = client.get("/dashboard/numbers/+86878430570614432").get_data(as_text=True)  # its link
    assert '<h1 class="tel">+86 878 4305 7061 4432</h1>' in opened


# --- messages that reach a page: in its language (issue 15 follow-up 2) ---------------------------------
def _summary(page):
    found = re.search(r'<div class="error-summary".*?</div>', page, re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))) if found else ""


def test_every_message_of_the_number_reader_is_in_the_chinese_catalog():
    from pathlib import Path

    from babel.support import Translations

    import verify.phones

    written = set(re.findall(r'InvalidNumber\("\w+", "([^"]+)"\)', Path(verify.phones.__file__).read_text()))
    zh = Translations.load(str(Path(verify.phones.__file__).parent / "translations"), ["zh"])
    assert "That is not a mobile phone number." in written
    assert {m for m in written if zh.gettext(m) == m} == set()


def test_the_console_says_a_fixed_line_is_no_mobile_number_in_chinese(app, accounts):
    client = app.test_client()
    login(client, "aga", lang="zh")
    page = client.post("/dashboard/agent", data={"csrf_token": token(client, "/dashboard/agent"), "purpose": "贷后回访",
                                                 "borrower": "021 6080 0000", "caller": "+862160800000"}).get_data(as_text=True)
    assert "借款人手机号：这不是手机号码。" in _summary(page) and "mobile" not in page


def test_calling_back_a_request_another_agent_answered_says_so_in_chinese(app, accounts):
    from verify import phones
    from verify.services.actor import Actor

    accounts.callback_requests.ask(Actor("sms"), phones.parse("13600136000"), "", "sms")
    request_id = accounts.callback_requests.waiting({})[0][0]["id"]
    clients = []
    for name in ("aga", "ada"):  # both open the console; aga calls back first
        client = app.test_client()
        login(client, name, lang="zh")
        clients.append((client, token(client, "/dashboard/agent")))
    (first, first_token), (second, second_token) = clients
    assert first.post(f"/dashboard/agent/callbacks/{request_id}/call", data={"csrf_token": first_token}).status_code == 303
    late = second.post(f"/dashboard/agent/callbacks/{request_id}/call", data={"csrf_token": second_token})
    page = late.get_data(as_text=True)
    assert late.status_code == 409 and "这条回电申请已由会话" in page and "answered already" not in page


def test_registry_and_staff_form_errors_with_values_in_chinese(app, accounts):
    client = app.test_client()
    login(client, "ada", lang="zh")
    form = {"csrf_token": token(client, "/dashboard/registry"), "number": "021-6080-2222", "label_zh": "回访",
            "label_en": "Callback", "purpose": "callback", "direction": "outbound", "status": "active"}
    page = client.post("/dashboard/registry", data={**form, "notes": "a\x01b"}).get_data(as_text=True)
    assert "最多 500 个字符，且不能包含控制字符" in _summary(page) and "without control" not in page
    many = " ".join(f"021-6080-22{n:02d}" for n in range(21))
    page = client.post("/dashboard/registry", data={**form, "variants": many}).get_data(as_text=True)
    assert "最多 20 个号码" in _summary(page) and "at most 20" not in page
    page = client.post("/dashboard/registry", data={**form, "variants": "abc"}).get_data(as_text=True)
    assert '<p class="error" id="variants-error">电话号码只有数字，没有字母。</p>' in page  # under its own field
    page = client.post("/dashboard/staff/aga", data={"csrf_token": token(client, "/dashboard/staff"),
                                                     "display_name": "王\x01明"}).get_data(as_text=True)
    assert "最多 32 个可显示字符" in _summary(page) and "printable" not in page


def test_the_public_report_form_says_service_errors_in_chinese(client):
    client.set_cookie("lang", "zh")
    form = client.get("/report").get_data(as_text=True)
    data = dict(re.findall(r'name="(csrf_token|once)" type="hidden" value="([^"]+)"', form))
    data.update(number="021 9999 8888", channel="call")
    page = client.post("/report", data={**data, "text": "他说\x01转账"}).get_data(as_text=True)
    assert "最多 2000 个字符，且不能包含控制字符" in _summary(page) and "without control" not in page
    page = client.post("/report", data={**data, "occurred_at": "1999-01-01T10:00"}).get_data(as_text=True)
    assert "请填写2000年1月1日以后的时间。" in _summary(page) and "不能晚于现在" not in page  # was: "not in the future"
