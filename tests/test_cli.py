"""The flask CLI: seed-demo, numbers and keys."""

import json
import re

from verify.services.actor import CLI


def test_seed_demo_is_idempotent(make_app):
    app = make_app()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "+862160800000" in first.output and "vk_sessions_" in first.output
    second = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not loaded" in second.output
    assert "vk_sessions_" in second.output  # make run shows the demo keys on every start (development)
    names = [row["name"] for row in app.extensions["verify"].keys.all()]
    assert sorted(names) == ["demo-callcentre", "demo-registry", "demo-reports"]
    password = re.search(r"Demo login demo-support: (\S+)", first.output).group(1)
    assert "demo-support / " + password in second.output  # the dashboard login is shown on every start
    assert app.extensions["verify"].staff.log_in(CLI, "demo-support", password)[1]["role"] == "support"


def test_brand_and_numbers_come_from_configuration(make_app):
    app = make_app(VERIFY_BRAND="好借钱包", VERIFY_HOTLINE="400-111-2222", VERIFY_SMS_NUMBER="10690002222")
    app.test_cli_runner().invoke(args=["seed-demo"])
    out = app.test_cli_runner().invoke(args=["numbers", "list"]).output
    assert "+864001112222" in out and "+8610690002222" in out and "好借钱包" in out
    assert "OK钱包" not in out


def test_numbers_add_update_retire_list(runner):
    result = runner.invoke(
        args=["numbers", "add", "021-6080-3333", "--label-zh", "回访", "--label-en", "Callback",
              "--purpose", "callback", "--direction", "outbound", "--variant", "021-6080-3334"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["numbers", "update", "+862160803333", "--label-en", "Callback 2"])
    assert result.exit_code == 0 and "Callback 2" in result.output and "回访" in result.output
    result = runner.invoke(args=["numbers", "retire", "021-6080-3333", "--on", "2026-02-01"])
    assert "retired 2026-02-01" in result.output
    listing = runner.invoke(args=["numbers", "list"]).output
    assert "+862160803333" in listing and "+862160801111" in listing


def test_numbers_add_explains_bad_input(runner):
    result = runner.invoke(args=["numbers", "add", "nonsense", "--label-zh", "x", "--label-en", "y",
                                 "--purpose", "callback", "--direction", "outbound"])
    assert result.exit_code != 0 and "letters" in result.output
    result = runner.invoke(args=["numbers", "retire", "021-9999-9999"])
    assert result.exit_code != 0 and "not found" in result.output


def test_export_then_import_round_trip(runner, make_app, tmp_path):
    exported = runner.invoke(args=["numbers", "export"]).output
    assert exported.splitlines()[0].startswith("number,label_zh,label_en")
    path = tmp_path / "numbers.csv"
    path.write_text(exported.replace("Callback line (demo)", "Callback line"), encoding="utf-8")
    result = runner.invoke(args=["numbers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.count("updated") == 4
    as_json = json.loads(runner.invoke(args=["numbers", "export", "--format", "json"]).output)
    callback = next(e for e in as_json if e["number"] == "+862160800000")
    assert callback["labels"]["en"] == "Callback line" and callback["variants"] == ["+862160800099"]
    retired = next(e for e in as_json if e["number"] == "+862160801111")
    assert retired["retired_on"] == "2025-06-30"


def test_import_writes_nothing_when_a_row_is_bad(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "number,label_zh,label_en,purpose,direction\n021-6080-4444,甲,A,callback,outbound\nxyz,乙,B,callback,outbound\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["numbers", "import", str(path)])
    assert result.exit_code != 0 and "line 3" in result.output
    assert "+862160804444" not in runner.invoke(args=["numbers", "list"]).output


def test_keys_create_list_revoke(runner, app):
    quiet = runner.invoke(args=["keys", "create", "--scope", "sessions", "--name", "cc1", "--quiet"])
    key = quiet.output.strip()
    assert key.startswith("vk_sessions_") and "\n" not in key
    loud = runner.invoke(args=["keys", "create", "--scope", "registry", "--name", "admin1"])
    assert "cannot be shown again" in loud.output
    assert runner.invoke(args=["keys", "create", "--scope", "sessions", "--name", "cc1"]).exit_code != 0
    listing = runner.invoke(args=["keys", "list"]).output
    assert "cc1" in listing and key not in listing
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/sessions/" + "0" * 24 + "-00", headers=headers).status_code == 404
    assert runner.invoke(args=["keys", "revoke", "cc1"]).exit_code == 0
    assert client.get("/api/v1/sessions/" + "0" * 24 + "-00", headers=headers).status_code == 401
    assert "revoked" in runner.invoke(args=["keys", "list"]).output
    assert runner.invoke(args=["keys", "revoke", "nobody"]).exit_code != 0
    assert runner.invoke(args=["keys", "create", "--scope", "sessions", "--name", "bad name!"]).exit_code != 0


def test_sms_simulate_signs_and_prints_the_reply(make_app):
    app = make_app(TWILIO_AUTH_TOKEN="local")
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    result = runner.invoke(args=["sms", "simulate", "--from", "+8613800138000", "482193"])
    assert result.exit_code == 0, result.output
    assert "HTTP 200" in result.output and "<Message>" in result.output and "没有给您打电话" in result.output


def test_sms_simulate_with_a_public_url(make_app):
    app = make_app(TWILIO_AUTH_TOKEN="local", VERIFY_PUBLIC_URL="https://verify.example.com")
    result = app.test_cli_runner().invoke(args=["sms", "simulate", "--from", "+8613800138000", "HELP"])
    assert "HTTP 200" in result.output and "6-digit code" in result.output


def test_sms_simulate_needs_a_token(runner):
    result = runner.invoke(args=["sms", "simulate", "--from", "+8613800138000", "HELP"])
    assert result.exit_code != 0 and "TWILIO_AUTH_TOKEN" in result.output


def test_a_store_indexed_by_an_older_version_is_reindexed_before_serving(make_app):
    """The local digits of a fixed line (6080 0000 for 021 6080 0000) live in the index since format 2:
    a store indexed before has none of them until store-check (make serve) or seed-demo (make run)."""
    app = make_app()
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    numbers = app.extensions["verify"].numbers._numbers
    redis, index = numbers.store.redis, numbers._index
    old = [field for field in redis.hkeys(index) if field[0] in "#@" or field in ("~60800000", "~60800001")]
    redis.hdel(index, *old)
    redis.incr(numbers._version)  # as it was: every process reads that index
    client = app.test_client()
    assert client.get("/api/v1/check?number=6080 0000").get_json()["verdict"] != "official"
    first = runner.invoke(args=["store-check"])
    assert first.exit_code == 0 and "index was rebuilt" in first.output, first.output
    answer = client.get("/api/v1/check?number=6080 0000").get_json()
    assert answer["verdict"] == "official" and answer["display"] == "021 6080 0000"
    again = runner.invoke(args=["store-check"])
    assert again.exit_code == 0 and "rebuilt" not in again.output
    redis.hdel(index, "#format")
    assert "index was rebuilt" in runner.invoke(args=["seed-demo", "--if-empty"]).output
