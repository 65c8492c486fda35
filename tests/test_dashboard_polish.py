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
