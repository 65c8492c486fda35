"""compose.yaml (README, Scaling out): a local Redis Cluster deployment. There is no Docker here, so
the file is read with a YAML parser and held to what the app needs: three primaries and three
replicas configured as the durability check demands, a one-shot join, and the app on a
``redis+cluster://`` URL that verify reads."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

from verify import create_app
from verify.registry import address
from verify.registry.store import SAFE_SETTINGS
from verify.settings import host_and_port

ROOT = Path(__file__).resolve().parent.parent
NODES = [f"redis-{n}" for n in range(1, 7)]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def _script(service):
    """The shell script a service runs (``sh -c <script>``), compose's ``$$`` read as ``$``."""
    command = service["command"]
    assert command[:2] == ["sh", "-c"], command
    return command[2].replace("$$", "$")


def _redis_options(service):
    """``--name value`` pairs of the redis-server a node starts."""
    words = shlex.split(_script(service))
    assert words[:2] == ["exec", "redis-server"], words
    return {name.removeprefix("--"): value for name, value in zip(words[2::2], words[3::2], strict=True)}


def _interpolated(value, given):
    """compose's ``${NAME:?message}`` and ``${NAME:-default}``, with ``given`` as the shell's variables."""
    def one(match):
        name, kind, rest = match.groups()
        if name in given:
            return given[name]
        assert kind == ":-", f"{name} must be given: {rest}"
        return rest
    return re.sub(r"\$\{(\w+)(:\?|:-)([^}]*)\}", one, str(value))


def test_six_nodes_of_the_official_image_each_safe_for_the_durability_check(compose):
    services = compose["services"]
    assert set(NODES) <= set(services)
    for name in NODES:
        node = services[name]
        assert node["image"].startswith("redis:7"), name  # Redis 7 or newer: the scripts' flags line
        options = _redis_options(node)
        assert options["cluster-enabled"] == "yes" and options["port"] == "6379"
        for setting, accepted in SAFE_SETTINGS.items():
            assert options[setting] in accepted, (name, setting, options.get(setting))
        assert options["appendfsync"] == "everysec"
        assert node["environment"]["NODE"] == name and options["cluster-announce-hostname"] == "$NODE"
        assert node["volumes"] == [f"{name}:/data"] and name in compose["volumes"]  # AOF kept across restarts
        assert node["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]


def test_a_one_shot_service_joins_the_six_as_three_primaries_with_a_replica_each(compose):
    create = compose["services"]["cluster-create"]
    script = _script(create)
    assert create["restart"] == "no" and create["image"].startswith("redis:7")
    assert {name: wait["condition"] for name, wait in create["depends_on"].items()} == dict.fromkeys(NODES, "service_healthy")
    assert "redis-cli --cluster create $nodes --cluster-replicas 1 --cluster-yes" in script
    assert "for n in 1 2 3 4 5 6" in script and "getent hosts redis-$n" in script  # CLUSTER MEET wants addresses
    assert script.index("cluster_state:ok") < script.index("--cluster create")  # a second `up` leaves it joined


def test_the_app_reads_the_compose_url_as_the_cluster_and_starts_with_its_environment(compose, tmp_path, monkeypatch):
    app_service = compose["services"]["app"]
    assert app_service["depends_on"] == {"cluster-create": {"condition": "service_completed_successfully"}}
    environment = {name: _interpolated(value, {"VERIFY_SECRET_KEY": "s" * 32, "VERIFY_HMAC_KEY": "h" * 32})
                   for name, value in app_service["environment"].items()}
    with pytest.raises(AssertionError, match="VERIFY_SECRET_KEY must be given"):
        _interpolated(app_service["environment"]["VERIFY_SECRET_KEY"], {})
    found = address.parse(environment["REDIS_URL"])
    assert found.kind == address.CLUSTER and set(found.nodes) <= {(name, 6379) for name in NODES}
    assert len(found.nodes) >= 2  # more than one seed: the app finds the cluster with a node down
    assert environment["VERIFY_ENV"] == "production" and environment["HOST"] == "0.0.0.0"
    for name, value in environment.items():
        monkeypatch.setenv(name, value)  # as compose hands them to the container
    app = create_app({"VERIFY_INSTANCE_PATH": str(tmp_path), "VERIFY_REDIS_TIMEOUT": 0.1})
    started = app.extensions["verify"].settings
    assert started.env == "production" and started.redis_url == environment["REDIS_URL"]
    assert started.secure_cookies is False  # local plain http: the login cookie must come back
    # Docker's health check asks the liveness listener, which no request thread waiting on Redis holds up.
    health = host_and_port(started.health_address)
    assert f"'http://{health[0]}:{health[1]}/healthz'" in " ".join(app_service["healthcheck"]["test"])


def test_the_app_image_runs_make_serve_on_python_3_11():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.startswith("# ") and "\nFROM python:3.11-slim\n" in dockerfile
    assert "RUN make .venv/.runtime" in dockerfile and 'CMD ["make", "serve"]' in dockerfile
    assert ".venv/" in (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
