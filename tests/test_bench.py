"""The benchmark's own parts (bench/): every request it sends gets the answer it is meant to measure,
its reading of wrk's output, its CPU readings. Not speed: that is `make bench`."""

import os
import time

import pytest

from bench import loads
from bench import run as bench_run

WRK_OUTPUT = """Running 15s test @ http://127.0.0.1:5077/healthz
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.95ms    2.01ms  28.41ms   80.12%
    Req/Sec     4.37k   310.22     5.01k    71.00%
  Latency Distribution
     50%  850.00us
     75%    4.80ms
     90%    6.20ms
     99%    1.20s
  130485 requests in 15.01s, 27.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:   8693.12
Transfer/sec:      1.81MB
"""


def test_wrk_output_is_read():
    assert bench_run.parse_wrk(WRK_OUTPUT) == {
        "rps": 8693.12, "p50_ms": 0.85, "p99_ms": 1200.0, "requests": 130485, "errors": 3, "non_2xx": 5}
    clean = bench_run.parse_wrk(WRK_OUTPUT.replace("  Socket errors: connect 0, read 2, write 0, timeout 1\n", "")
                                .replace("  Non-2xx or 3xx responses: 5\n", ""))
    assert clean["errors"] == 0 and clean["non_2xx"] == 0


def test_cpu_readings_follow_the_work_done():
    mine, busy = bench_run.cpu_seconds(pid=os.getpid()), bench_run.busy_seconds()
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    assert bench_run.cpu_seconds(pid=os.getpid()) - mine >= 0.2
    assert bench_run.busy_seconds() - busy >= 0.2
    # A whole session counts this process and the others in it.
    assert bench_run.cpu_seconds(session_id=os.getsid(0)) >= bench_run.cpu_seconds(pid=os.getpid())


EXPECTED = {
    "bare": (200, None),
    "check official": (200, '"verdict":"official"'),
    "check unknown": (200, '"verdict"'),
    "check spread": (200, '"verdict":"unknown"'),
    "verify genuine": (200, '"verdict":"genuine"'),
    "verify not_verified": (200, '"verdict":"not_verified"'),
    "sms inbound": (200, "核验通过"),
    "report write": (201, '"id":"R'),
    "home page": (200, "<html"),
}


@pytest.fixture
def bench_app(make_app, redis_server):
    # The bench's own secrets and limits, so that what it seeds and signs is accepted.
    app = make_app(VERIFY_HMAC_KEY=loads.HMAC_KEY, TWILIO_AUTH_TOKEN=loads.TWILIO_TOKEN,
                   VERIFY_PUBLIC_URL=loads.PUBLIC_URL, VERIFY_SMS_RATE_LIMIT=10**6,
                   VERIFY_RATE_REPORT="10000000 per minute", VERIFY_SMS_LANGUAGE="zh")
    seeded = loads.seed(redis_server, sessions=20, reports_count=10)
    return app, seeded


@pytest.mark.parametrize("run", [0, 2, 11])
def test_every_request_the_bench_sends_is_answered_as_intended(bench_app, tmp_path, run):
    app, seeded = bench_app
    client = app.test_client()
    endpoints = (loads.endpoints(tmp_path, seeded, run) + loads.scale_endpoints(tmp_path, seeded, run)
                 + loads.cluster_endpoints(tmp_path, seeded))
    for endpoint in endpoints:
        status, marker = next(v for k, v in EXPECTED.items() if endpoint.name.startswith(k))
        for method, path, headers, body in loads.requests_of(endpoint, 3):
            answer = client.open(path, method=method, headers=headers, data=body)
            text = answer.get_data(as_text=True)
            assert answer.status_code == status, (endpoint.name, text[:300])
            assert marker is None or marker in text.replace(": ", ":"), (endpoint.name, text[:300])


def test_the_spread_check_load_never_repeats_a_number(bench_app, tmp_path):
    _app, seeded = bench_app
    spread = next(e for e in loads.cluster_endpoints(tmp_path, seeded) if e.name == "check spread")
    paths = [path for _m, path, _h, _b in loads.requests_of(spread)]
    # Each number once per pass (20,000): no process's copy of the number facts can answer it.
    assert len(paths) == len(set(paths)) == 20000


def test_the_sms_load_never_repeats_a_message(bench_app, tmp_path):
    _app, seeded = bench_app
    sms = next(e for e in loads.endpoints(tmp_path, seeded) if e.name.startswith("sms"))
    sids = [body.split("MessageSid=")[1].split("&")[0] for _m, _p, _h, body in loads.requests_of(sms)]
    # A repeated MessageSid is answered from its claim: the load would measure the cheap path.
    assert len(sids) == len(set(sids)) >= 100 * 20
    script = sms.script.read_text(encoding="utf-8")
    assert "i = i + step" in script and "tonumber(args[1])" in script  # threads take turns from a given start


def test_without_wrk_the_bench_stops_with_how_to_install_it(tmp_path):
    import subprocess
    import sys

    answer = subprocess.run([sys.executable, str(loads.__file__).replace("loads.py", "run.py"), "--no-scale"],
                            env={"PATH": str(tmp_path)}, capture_output=True, text=True, timeout=60)
    assert answer.returncode != 0 and "wrk is not installed" in answer.stderr and "apt-get install wrk" in answer.stderr


def test_the_bench_redis_is_configured_as_in_production(redis_server):
    from verify.registry.store import durability_problems

    with redis_server.client() as client:
        assert durability_problems(client) == []
        assert client.config_get("appendfsync")["appendfsync"] == "everysec"


def test_every_request_of_the_floor_run_is_answered_as_intended(bench_app, tmp_path):
    from bench import floors

    app, seeded = bench_app
    floors.add_views(app)
    client = app.test_client()
    expected = {"floor: JSON": (200, '"phone":"+86138'), "floor of verify": (200, '"verdict":"genuine"'),
                "floor of report": (201, '"id":"F')}
    for endpoint in loads.floor_endpoints(tmp_path, seeded):
        status, marker = next((v for k, v in {**expected, **EXPECTED}.items() if endpoint.name.startswith(k)))
        for method, path, headers, body in loads.requests_of(endpoint, 3):
            answer = client.open(path, method=method, headers=headers, data=body)
            text = answer.get_data(as_text=True)
            assert answer.status_code == status, (endpoint.name, text[:300])
            assert marker is None or marker in text.replace(": ", ":"), (endpoint.name, text[:300])


def test_the_capacity_run_turns_cpu_per_primary_into_cores_and_primaries():
    row = {"server_cpu_us": 300, "primary_cpu_us": {7001: 10.0, 7002: 40.0, 7003: 10.0}}
    found = bench_run.capacity(row, peak=50_000, utilisation=0.5)
    # 60 µs of Redis a request over the primaries: a primary core does 1e6/60 requests/s, an app core
    # 1e6/300, so one primary keeps 5 app cores busy; 50,000/s is 3 Redis cores, 6 primaries at 50%.
    assert found == {"redis_us": 60.0, "busiest_us": 40.0, "app_cores_per_primary": 5.0,
                     "primaries_for_peak": 6, "busiest_ceiling_rps": 12500}
    assert bench_run.capacity(row, peak=50_001)["primaries_for_peak"] == 7  # rounded up, never down
    idle = {"server_cpu_us": 300, "primary_cpu_us": {7001: 0.0}}
    assert bench_run.capacity(idle, peak=50_000)["primaries_for_peak"] == 1


def test_the_cluster_flag_is_offered_and_the_default_run_stays_without_it():
    import subprocess
    import sys

    answer = subprocess.run([sys.executable, str(loads.__file__).replace("loads.py", "run.py"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0 and "--cluster" in answer.stdout and "--peak" in answer.stdout
    assert "--cluster" not in bench_run.SERVERS["granian"]


if os.environ.get("TEST_REDIS") == "cluster":
    # The capacity run's readings on a real cluster (collected with TEST_REDIS=cluster).

    def test_each_primarys_cpu_reading_follows_the_work_sent_to_its_slots(redis_server):
        owners = bench_run.slot_owners(redis_server)
        primaries = redis_server.primaries()
        assert owners["{reports}"] in {node.port for node in primaries}
        before = bench_run.node_readings(primaries)
        with redis_server.client() as client:
            for _ in range(3000):
                client.incr("bench-test:{reports}:n")
            client.delete("bench-test:{reports}:n")
        after = bench_run.node_readings(primaries)
        grown = {port: after[port][0] - before[port][0] for port in after}
        counted = {port: after[port][1] - before[port][1] for port in after}
        assert counted[owners["{reports}"]] >= 3000
        assert max(grown, key=grown.get) == owners["{reports}"]
        assert all(counted[port] < 100 for port in counted if port != owners["{reports}"])
