"""CPU per request of each endpoint inside one process, without a server or wrk: for judging a change
to the hot path before running `make bench`.

It sends the same requests as the load benchmark (bench/loads.py) straight to the WSGI app, built
with the production settings on a private Redis, and times this process's CPU only, over many short
rounds (the second best of them): on a shared machine that is steady to a few per cent, where the
load benchmark drifts by 10-20%. It says nothing about the server, the kernel or Redis's own time,
which `make bench` measures.

    python bench/inprocess.py [bare check verify sms report home ...]
"""

import sys
import tempfile
import time
from pathlib import Path

from werkzeug.test import EnvironBuilder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loads  # noqa: E402
from bench.run import production_env  # noqa: E402
from tests.redis_process import RedisProcess  # noqa: E402
from verify import create_app  # noqa: E402
from verify import settings as config  # noqa: E402

ROUNDS, PER_ROUND = 24, 200


def main(names):
    workdir = Path(tempfile.mkdtemp(prefix="verify-inprocess-"))
    redis = RedisProcess(workdir / "redis").start()
    try:
        seeded = loads.seed(redis, sessions=1000, reports_count=1000)
        # create_app takes overrides keyed by environment name; Settings is frozen, so pass the
        # production settings (converted to their types by load) back as such a mapping.
        loaded = config.load(production_env(redis.url))
        settings = {name: getattr(loaded, item.name) for name, item in config.FIELDS.items()}
        settings["VERIFY_INSTANCE_PATH"] = str(workdir / "instance")
        app = create_app(settings)
        endpoints = [e for e in loads.endpoints(workdir, seeded) if not (e.headers or {}).get("Cookie")]
        bare = None
        print(f"{'endpoint':<24} {'cpu µs':>7} {'wall µs':>8} {'÷ bare':>7}")
        for endpoint in endpoints:
            if names and not any(endpoint.name.startswith(name) for name in names + ["bare"]):
                continue
            cpu, wall = _measure(app, loads.requests_of(endpoint, ROUNDS * PER_ROUND + 1))
            bare = bare or cpu
            print(f"{endpoint.name:<24} {cpu:>7.0f} {wall:>8.0f} {bare / cpu:>7.2f}", flush=True)
    finally:
        redis.stop()


def _measure(app, requests):
    """Second best CPU and wall time per request over ``ROUNDS`` rounds (the first request warms up)."""
    def environ(request):
        method, path, headers, body = request
        return EnvironBuilder(path=path, method=method, headers=headers, data=body).get_environ()

    def call(env):
        b"".join(app(env, lambda status, headers: None))

    call(environ(requests[0]))
    cpus, walls = [], []
    for start in range(1, ROUNDS * PER_ROUND + 1, PER_ROUND):
        # In turn, from the start again when there are fewer (as wrk's scripts do).
        envs = [environ(requests[i % len(requests)]) for i in range(start, start + PER_ROUND)]
        wall, cpu = time.perf_counter(), time.process_time()
        for env in envs:
            call(env)
        cpus.append((time.process_time() - cpu) / PER_ROUND * 1e6)
        walls.append((time.perf_counter() - wall) / PER_ROUND * 1e6)
    return sorted(cpus)[1], sorted(walls)[1]


if __name__ == "__main__":
    main(sys.argv[1:])
