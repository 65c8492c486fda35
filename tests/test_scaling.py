"""Scaling out (README, Scaling out): REDIS_URL's forms for one server, a Redis Cluster and Sentinel,
and what must hold on every one of them."""

import pytest

from verify import create_app
from verify.registry import address
from verify.registry.store import connect
from verify.settings import ConfigError


@pytest.mark.parametrize(("url", "expected"), [
    ("redis://127.0.0.1:6379/0", {"kind": "single", "tls": False}),
    ("rediss://:pw@redis.internal:6380/0", {"kind": "single", "tls": True}),
    ("unix:///run/redis.sock", {"kind": "single"}),
    ("redis+cluster://10.0.0.1:7000,10.0.0.2:7001", {"kind": "cluster", "nodes": (("10.0.0.1", 7000), ("10.0.0.2", 7001))}),
    ("redis+cluster://10.0.0.1:7000/0", {"kind": "cluster", "nodes": (("10.0.0.1", 7000),)}),
    ("rediss+cluster://app:s%40cret@[::1]:7000,h:7001?ssl_ca_certs=/etc/ca.pem",
     {"kind": "cluster", "tls": True, "username": "app", "password": "s@cret", "nodes": (("::1", 7000), ("h", 7001)),
          "tls_options": {"ssl_ca_certs": "/etc/ca.pem"}}),
    ("redis+sentinel://s1:26379,s2:26379,s3:26379/verify",
     {"kind": "sentinel", "service": "verify", "db": 0, "nodes": (("s1", 26379), ("s2", 26379), ("s3", 26379))}),
    ("rediss+sentinel://:pw@s1:26379/verify/2?sentinel_password=spw&ssl_cert_reqs=none",
     {"kind": "sentinel", "service": "verify", "db": 2, "password": "pw", "sentinel_password": "spw", "tls": True,
          "tls_options": {"ssl_cert_reqs": "none"}}),
])
def test_redis_urls_are_read_with_their_parts(url, expected):
    found = address.parse(url)
    assert {name: getattr(found, name) for name in expected} == expected


@pytest.mark.parametrize(("url", "says"), [
    ("memcached://h:1", "must start with"),
    ("redis+cluster://h", "not host:port"),
    ("redis+cluster://h:99999", "not host:port"),
    ("redis+cluster://h:7000,:7001", "not host:port"),
    ("redis+cluster://h:7000/3", "only database 0"),
    ("redis+sentinel://h:26379", "service's name"),
    ("redis+sentinel://h:26379/verify/x", "service's name"),
    ("redis+cluster://h:7000?ssl_cert_reqs=maybe", "ssl_cert_reqs"),
    ("redis+cluster://h:7000?retries=3", "options verify does not know"),
])
def test_malformed_redis_urls_are_refused_by_name(url, says):
    with pytest.raises(ValueError, match=says):
        address.parse(url)


def test_a_malformed_url_stops_the_app_with_one_line_not_a_password(tmp_path):
    with pytest.raises(ConfigError, match="not host:port") as refused:
        create_app({"REDIS_URL": "redis+cluster://:hunter2@nohost", "VERIFY_INSTANCE_PATH": str(tmp_path)})
    assert "hunter2" not in str(refused.value)


def test_sentinel_urls_give_a_client_of_the_named_primary_with_short_timeouts_and_no_retries():
    client = connect("rediss+sentinel://:pw@127.0.0.1:1,127.0.0.1:2/verify/1?sentinel_password=spw", timeout=0.2)
    pool = client.connection_pool
    assert pool.service_name == "verify" and pool.connection_kwargs["db"] == 1
    assert pool.connection_kwargs["password"] == "pw" and pool.connection_kwargs["socket_timeout"] == 0.2
    sentinels = pool.sentinel_manager.sentinels
    assert [s.connection_pool.connection_kwargs["port"] for s in sentinels] == [1, 2]
    assert all(s.connection_pool.connection_kwargs["password"] == "spw" for s in sentinels)
    assert all("SSL" in s.connection_pool.connection_class.__name__ for s in [*sentinels, client])
    assert client.get_retry().get_retries() == 0


def test_an_app_on_a_cluster_that_does_not_answer_starts_and_answers_unavailable(make_app):
    app = make_app(REDIS_URL="redis+cluster://127.0.0.1:1,127.0.0.1:2", VERIFY_REDIS_TIMEOUT=0.1)
    answer = app.test_client().get("/api/v1/check?number=95188")
    assert answer.status_code == 503 and answer.get_json()["verdict"] == "unavailable"
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["status"] == "unavailable"
