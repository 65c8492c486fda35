"""No input gives a 500: every error is a problem document a person can read."""

import json

import pytest

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_malformed_json(client):
    body = assert_problem(client.post("/api/v1/verify", data="{nope", content_type="application/json"), 400)
    assert "JSON" in body["detail"]


@pytest.mark.parametrize("payload", ["[]", "42", '"text"', "null"])
def test_json_that_is_not_an_object(client, payload):
    assert_problem(client.post("/api/v1/verify", data=payload, content_type="application/json"), 400)


def test_wrong_content_type(client):
    body = assert_problem(client.post("/api/v1/verify", data="phone=1&code=2", content_type="application/x-www-form-urlencoded"), 415)
    assert "application/json" in body["detail"]


def test_body_over_the_limit(client):
    big = json.dumps({"phone": "13800138000", "code": "123456", "caller": "1" * 20000})
    assert_problem(client.post("/api/v1/verify", data=big, content_type="application/json"), 413)


def test_unknown_path_and_method(client):
    assert_problem(client.get("/api/v1/nothing"), 404)
    body = assert_problem(client.put("/api/v1/verify", json={}), 405)
    assert body["detail"]
    assert "POST" in client.put("/api/v1/verify", json={}).headers["Allow"]


ODD = [
    "\u0000", "\ud800", "😀" * 10, "١٣٨٠٠١٣٨٠٠٠", "\u202e13800138000", "+" * 30, "0" * 40, "13800138000\n",
    "1e10", "-1", "${jndi:x}", "<script>", "%00", " " * 39 + "1", "٠", "１３８", "+86 ", "++8613800138000",
]


def post_json(client, url, body, headers=None):
    # json.dumps escapes lone surrogates (\ud800), which a str body could not carry.
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers or {})


@pytest.mark.parametrize("value", [item for item in ODD if item != "\ud800"] + ["%ED%A0%80", "%FF", "%C0%AF"])
def test_odd_unicode_never_breaks_check(client, value):
    response = client.get("/api/v1/check?number=" + value if value.startswith("%") else "/api/v1/check",
                          query_string=None if value.startswith("%") else {"number": value})
    assert response.status_code in (200, 422), response.get_data(as_text=True)


@pytest.mark.parametrize("value", ODD + [1, 1.5, True, None, [], {}, 10**40])
def test_odd_values_never_break_verify_or_sessions(client, key, value):
    headers = key("sessions")
    for field in ("phone", "code", "caller"):
        response = post_json(client, "/api/v1/verify", {"phone": "13800138000", "code": "123456", field: value})
        assert response.status_code in (200, 400, 422), response.get_data(as_text=True)
    for field in ("borrower", "caller", "agent_id", "agent_name", "purpose", "loan_ref", "ttl_seconds"):
        body = {"borrower": "13800138000", "caller": "021-60800000", "agent_id": "a", "agent_name": "b",
                "purpose": "c", field: value}
        response = post_json(client, "/api/v1/sessions", body, headers)
        assert response.status_code in (201, 400, 422), response.get_data(as_text=True)


def test_lone_surrogates_are_a_clear_400(client):
    body = assert_problem(post_json(client, "/api/v1/verify", {"phone": "\ud800", "code": "123456"}), 400)
    assert "not valid text" in body["detail"]


def test_invalid_utf8_body(client):
    response = client.post("/api/v1/verify", data=b'{"phone": "\xff\xfe"}', content_type="application/json")
    assert_problem(response, 400)


def test_registry_odd_bodies(client, key):
    headers = key("registry")
    for value in ODD + [1, None, [], {}]:
        body = {"number": value, "labels": {"zh": value, "en": "x"}, "purpose": "other", "direction": "both",
                "variants": [value], "notes": value}
        response = post_json(client, "/api/v1/numbers", body, headers)
        assert response.status_code in (201, 400, 409, 422), response.get_data(as_text=True)
