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
    for number in ("021-6080-0000", "021-6080-0000", "+852 2160 8000", "021-9999-8888"):
        client.post("/api/v1/reports", json={"number": number})
    login(client, "sam", lang="zh")
    page = client.get("/dashboard/overview").get_data(as_text=True)
    listed = re.findall(r'<li><a class="tel" href="/dashboard/numbers/([^"]+)">([^<]+)</a>: (\d+)(.*?)</li>', page)
    assert listed[0] == ("+862160800000", "021 6080 0000", "2", ' <span class="tag-ours">我方号码 — 正被冒用</span>')
    assert {row[:3] for row in listed[1:]} == {("+85221608000", "+852 2160 8000", "1"),
                                               ("+862199998888", "021 9999 8888", "1")}
    assert "+862199998888<" not in page and ">+862160800000" not in page  # E.164 only in the links
    labels = re.findall(r'<text x="0" [^>]*>([^<]+)</text>', page)
    assert "021 6080 0000" in labels and "+852 2160 8000" in labels
