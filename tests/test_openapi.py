"""The OpenAPI document describes the API: real answers of every endpoint are checked against it."""

import time

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import registry_of


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _validate(spec, method, path, response):
    operation = spec["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method.upper()} {path} answered {status}, not in the document"
    described = operation["responses"][status]
    if "$ref" in described:
        described = spec["components"]["responses"][described["$ref"].rsplit("/", 1)[1]]
    content = described.get("content")
    if content is None:
        assert response.get_data() == b""
        return
    media = response.content_type.split(";")[0]
    assert media in content, f"{method.upper()} {path} {status} sent {media}"
    schema = {"components": spec["components"], **content[media]["schema"]}
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema).validate(response.get_json())


def test_document_is_openapi_31(spec):
    assert spec["openapi"].startswith("3.1")
    for path in spec["paths"].values():
        for operation in path.values():
            if isinstance(operation, dict) and "responses" in operation:
                assert operation["responses"]


def test_every_api_route_is_described(app, spec):
    described = {(path, method.upper()) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/healthz", "/readyz")):
            path = rule.rule.replace("<session_id>", "{id}").replace("<report_id>", "{id}").replace("<number>", "{number}").replace(
                "<request_id>", "{id}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method) in described, f"{method} {path} is not in openapi.json"


def test_real_answers_match_the_document(app, client, key, spec):
    sessions, registry = key("sessions"), key("registry")
    svc = app.extensions["verify"]
    svc.store.redis.sadd(registry_of(app).known_scam_key(), "+8613911111111")
    seen = set()

    def call(method, path, url, status, **kwargs):
        response = getattr(client, method)(url, **kwargs)
        assert response.status_code == status, (url, response.get_data(as_text=True))
        _validate(spec, method, path, response)
        seen.add((method, path))
        return response

    for number in ("021-6080-0000", "400-000-9518", "021-6080-1111", "13911111111", "13800138000", "+852 2160800000"):
        call("get", "/api/v1/check", f"/api/v1/check?number={number}", 200)
    call("get", "/api/v1/check", "/api/v1/check?number=abc", 422)

    session = {"borrower": "13800138000", "caller": "021-6080-0000", "agent_id": "A1", "agent_name": "王小明",
               "purpose": "回访", "loan_ref": "L1", "ttl_seconds": 600}
    created = call("post", "/api/v1/sessions", "/api/v1/sessions", 201, json=session, headers=sessions).get_json()
    call("post", "/api/v1/sessions", "/api/v1/sessions", 401, json=session)
    call("post", "/api/v1/sessions", "/api/v1/sessions", 403, json=session, headers=registry)
    call("post", "/api/v1/sessions", "/api/v1/sessions", 422, json={}, headers=sessions)
    call("post", "/api/v1/sessions", "/api/v1/sessions", 400, data="{", content_type="application/json", headers=sessions)
    call("post", "/api/v1/sessions", "/api/v1/sessions", 415, data="x", headers=sessions)

    sid = created["id"]
    call("get", "/api/v1/sessions/{id}", f"/api/v1/sessions/{sid}", 200, headers=sessions)
    call("post", "/api/v1/verify", "/api/v1/verify", 200, json={"phone": "13800138000", "code": created["code"]})
    call("post", "/api/v1/verify", "/api/v1/verify", 200, json={"phone": "13800138000", "code": "000000" if created["code"] != "000000" else "000001"})
    call("post", "/api/v1/verify", "/api/v1/verify", 422, json={"phone": "x"})
    call("post", "/api/v1/verify", "/api/v1/verify", 400, data="[", content_type="application/json")
    call("post", "/api/v1/verify", "/api/v1/verify", 415, data="x")
    call("post", "/api/v1/verify", "/api/v1/verify", 413, data="{" + " " * 20000 + "}", content_type="application/json")
    for _ in range(5):
        client.post("/api/v1/verify", json={"phone": "13700000000", "code": "111111"})
    call("post", "/api/v1/verify", "/api/v1/verify", 429, json={"phone": "13700000000", "code": "111111"})
    call("get", "/api/v1/sessions/{id}", f"/api/v1/sessions/{sid}", 200, headers=sessions)
    call("delete", "/api/v1/sessions/{id}", f"/api/v1/sessions/{sid}", 204, headers=sessions)
    call("get", "/api/v1/sessions/{id}", f"/api/v1/sessions/{sid}", 200, headers=sessions)
    call("get", "/api/v1/sessions/{id}", "/api/v1/sessions/missing", 404, headers=sessions)
    call("delete", "/api/v1/sessions/{id}", "/api/v1/sessions/missing", 404, headers=sessions)
    call("get", "/api/v1/sessions/{id}", f"/api/v1/sessions/{sid}", 401)
    call("delete", "/api/v1/sessions/{id}", f"/api/v1/sessions/{sid}", 403, headers=registry)

    lender_app = key("app")
    client.post("/api/v1/sessions", json={**session, "borrower": "13900000000"}, headers=sessions)
    for query, status in (("borrower=13900000000", 200), ("borrower=13900000000&caller=021-6080-0099", 200),
                          ("borrower=13900000000&caller=13911111111", 200), ("borrower=13800138000", 200),
                          ("borrower=x", 422)):
        call("get", "/api/v1/call-status", f"/api/v1/call-status?{query}", status, headers=lender_app)
    call("get", "/api/v1/call-status", "/api/v1/call-status?borrower=13900000000", 401)
    call("get", "/api/v1/call-status", "/api/v1/call-status?borrower=13900000000", 403, headers=sessions)
    etag = call("get", "/api/v1/numbers/inbound-only", "/api/v1/numbers/inbound-only", 200).headers["ETag"]
    call("get", "/api/v1/numbers/inbound-only", "/api/v1/numbers/inbound-only", 304, headers={"If-None-Match": etag})

    call("get", "/api/v1/numbers", "/api/v1/numbers", 200, headers=registry)
    call("get", "/api/v1/numbers", "/api/v1/numbers", 401)
    call("get", "/api/v1/numbers", "/api/v1/numbers", 403, headers=sessions)
    entry = {"number": "021-6080-7777", "labels": {"zh": "甲", "en": "A"}, "purpose": "other", "direction": "both"}
    call("post", "/api/v1/numbers", "/api/v1/numbers", 201, json=entry, headers=registry)
    call("post", "/api/v1/numbers", "/api/v1/numbers", 409, json=entry, headers=registry)
    call("post", "/api/v1/numbers", "/api/v1/numbers", 422, json={"number": "x"}, headers=registry)
    call("get", "/api/v1/numbers/{number}", "/api/v1/numbers/+862160807777", 200, headers=registry)
    call("get", "/api/v1/numbers/{number}", "/api/v1/numbers/+862199990000", 404, headers=registry)
    call("patch", "/api/v1/numbers/{number}", "/api/v1/numbers/+862160807777", 200, json={"status": "retired"}, headers=registry)
    call("patch", "/api/v1/numbers/{number}", "/api/v1/numbers/+862160807777", 422, json={"status": "x"}, headers=registry)
    call("patch", "/api/v1/numbers/{number}", "/api/v1/numbers/+862199990000", 404, json={}, headers=registry)
    report = {"number": "021-9999-8888", "categories": ["transfer"], "text": "wanted money", "amount_lost": 100}
    call("post", "/api/v1/reports", "/api/v1/reports", 201, json=report)
    call("post", "/api/v1/reports", "/api/v1/reports", 422, json={"number": "x"})
    call("post", "/api/v1/reports", "/api/v1/reports", 400, data="{", content_type="application/json")
    call("post", "/api/v1/reports", "/api/v1/reports", 415, data="x")
    staff = key("reports")
    filed = client.post("/api/v1/reports", json=report).get_json()["id"]
    call("get", "/api/v1/reports", "/api/v1/reports?status=new&limit=2", 200, headers=staff)
    call("get", "/api/v1/reports", "/api/v1/reports", 401)
    call("get", "/api/v1/reports", "/api/v1/reports", 403, headers=sessions)
    call("get", "/api/v1/reports", "/api/v1/reports?status=bogus", 422, headers=staff)
    call("get", "/api/v1/reports/{id}", f"/api/v1/reports/{filed}", 200, headers=staff)
    call("get", "/api/v1/reports/{id}", "/api/v1/reports/R000000-XXXXXX", 404, headers=staff)
    call("get", "/api/v1/reports/{id}", f"/api/v1/reports/{filed}", 401)
    call("get", "/api/v1/reports/{id}", f"/api/v1/reports/{filed}", 403, headers=registry)
    call("patch", "/api/v1/reports/{id}", f"/api/v1/reports/{filed}", 200, json={"status": "reviewing", "note": "x"}, headers=staff)
    call("patch", "/api/v1/reports/{id}", f"/api/v1/reports/{filed}", 422, json={"status": "x"}, headers=staff)
    call("patch", "/api/v1/reports/{id}", "/api/v1/reports/R000000-XXXXXX", 404, json={}, headers=staff)
    call("patch", "/api/v1/reports/{id}", f"/api/v1/reports/{filed}", 400, data="{", content_type="application/json", headers=staff)
    call("patch", "/api/v1/reports/{id}", f"/api/v1/reports/{filed}", 415, data="x", headers=staff)
    call("patch", "/api/v1/reports/{id}", f"/api/v1/reports/{filed}", 401, json={})
    call("patch", "/api/v1/reports/{id}", f"/api/v1/reports/{filed}", 403, json={}, headers=sessions)
    _callback_requests(app, call, sessions, registry)
    call("get", "/api/v1/openapi.json", "/api/v1/openapi.json", 200)
    call("get", "/healthz", "/healthz", 200)
    call("get", "/readyz", "/readyz", 200)

    operations = {(m, p) for p, item in spec["paths"].items() for m in item if m != "parameters"}
    assert operations <= seen, f"not exercised: {operations - seen}"


def _callback_requests(app, call, sessions, registry):
    from verify import phones
    from verify.services.actor import Actor

    svc = app.extensions["verify"]
    svc.callback_requests.ask(Actor("sms"), phones.parse("13600136000"), "今晚7点", "sms")
    svc.callback_requests.ask(Actor("voice"), phones.parse("13600136001"), "", "voice")
    listed = call("get", "/api/v1/callbacks", "/api/v1/callbacks?limit=1", 200, headers=sessions).get_json()
    call("get", "/api/v1/callbacks", f"/api/v1/callbacks?cursor={listed['next_cursor']}", 200, headers=sessions)
    call("get", "/api/v1/callbacks", "/api/v1/callbacks", 401)
    call("get", "/api/v1/callbacks", "/api/v1/callbacks", 403, headers=registry)
    call("get", "/api/v1/callbacks", "/api/v1/callbacks?cursor=x", 422, headers=sessions)
    request_id, path = listed["callbacks"][0]["id"], "/api/v1/callbacks/{id}/done"
    session = {"borrower": "13600136000", "caller": "021-6080-0000", "agent_id": "A1", "agent_name": "王小明", "purpose": "回电"}
    first = call("post", "/api/v1/sessions", "/api/v1/sessions", 201, json=session, headers=sessions).get_json()["id"]
    url = f"/api/v1/callbacks/{request_id}/done"
    call("post", path, url, 422, json={"session_id": "nope"}, headers=sessions)
    call("post", path, url, 200, json={"session_id": first}, headers=sessions)
    second = call("post", "/api/v1/sessions", "/api/v1/sessions", 201, json=session, headers=sessions).get_json()["id"]
    call("post", path, url, 409, json={"session_id": second}, headers=sessions)
    call("post", path, "/api/v1/callbacks/000000000000/done", 404, json={"session_id": first}, headers=sessions)
    call("post", path, url, 400, data="{", content_type="application/json", headers=sessions)
    call("post", path, url, 415, data="x", headers=sessions)
    call("post", path, url, 401, json={"session_id": first})
    call("post", path, url, 403, json={"session_id": first}, headers=registry)


def test_unavailable_answers_match_the_document(app, spec, redis_server, tmp_path):
    from tests.conftest import TEST_SETTINGS
    from tests.redis_process import RedisProcess
    from verify import create_app

    private = RedisProcess(tmp_path / "p").start()
    app = create_app({**TEST_SETTINGS, "REDIS_URL": private.url, "VERIFY_INSTANCE_PATH": str(tmp_path / "i")})
    private.stop()
    client = app.test_client()
    _validate(spec, "get", "/api/v1/check", client.get("/api/v1/check?number=95188"))
    _validate(spec, "post", "/api/v1/verify", client.post("/api/v1/verify", json={"phone": "13800138000", "code": "123456"}))
    response = client.get("/readyz")
    assert response.status_code == 503
    _validate(spec, "get", "/readyz", response)
    time.sleep(0)
