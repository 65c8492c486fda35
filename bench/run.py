"""`make bench`: load the production server from a second process with wrk and print one table.

Starts a private redis-server configured as in production (AOF everysec, noeviction), seeds it,
starts verify under the production server, runs wrk (~15 s per endpoint after 2 s of warm-up, 32
connections) and prints endpoint, req/s, p50, p99, errors, Redis commands per request, the ratio to
the bare endpoint (/healthz: a constant small JSON body through the same app and server) and the CPU
time per request of the server's processes, of Redis and of everything else (wrk, kernel workers).
The dashboard's report queue is loaded with a support login made through the login form. Then the
floor run on the production server (bench/floors.py: views doing only what verify and a report
write cannot avoid, next to the real endpoints, with the same requests). Then the scale run: check
and verify against a store of 10^3 and one of 10^6 sessions and 10^6 reports, in turns, and Redis
memory per session. Results also go to bench/results-<time>.json (git-ignored).

    python bench/run.py [--servers granian,gunicorn-sync,gunicorn-gthread] [--duration 15] [--no-scale]
                        [--no-floors] [--scale-size 1000000] [--scale-duration 10] [--production granian]
"""

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loads  # noqa: E402
from tests.redis_process import RedisClusterProcess, RedisProcess  # noqa: E402

PORT = 5077
CORES = os.cpu_count() or 2
# Each server's command but for the app it serves (start_server adds it: wsgi:app, or the floor run's).
SERVERS = {
    # One worker per core and few blocking threads: the prototype's fastest and steadiest granian.
    "granian": ["granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(PORT),
                "--workers", str(CORES), "--blocking-threads", "1", "--backlog", "2048", "--no-ws"],
    "granian-bt2": ["granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(PORT),
                    "--workers", str(CORES), "--blocking-threads", "2", "--backlog", "2048", "--no-ws"],
    "gunicorn-sync": ["gunicorn", "--bind", f"127.0.0.1:{PORT}", "--workers", str(2 * CORES),
                      "--backlog", "2048"],
    "gunicorn-gthread": ["gunicorn", "--bind", f"127.0.0.1:{PORT}", "--workers", str(CORES), "--threads", "8",
                         "--worker-class", "gthread", "--backlog", "2048"],
}


def production_env(redis_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_") and k != "REDIS_URL"}
    env.update({
        "VERIFY_ENV": "production",
        "REDIS_URL": redis_url,
        "VERIFY_SECRET_KEY": loads.SECRET,
        "VERIFY_HMAC_KEY": loads.HMAC_KEY,
        "TWILIO_AUTH_TOKEN": loads.TWILIO_TOKEN,
        "VERIFY_PUBLIC_URL": loads.PUBLIC_URL,
        "VERIFY_LOG_LEVEL": "WARNING",
        # One client address sends everything: per-IP limits would turn the load into 429s.
        "VERIFY_RATE_REPORT": "10000000 per minute",
        "VERIFY_RATE_CHECK": "10000000 per minute",
        "VERIFY_RATE_VERIFY": "10000000 per minute",
        "VERIFY_RATE_API_CHECK": "10000000 per minute",
        "VERIFY_RATE_API_VERIFY": "10000000 per minute",
        "VERIFY_SMS_RATE_LIMIT": "1000000",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def start_server(name, env, target="wsgi:app"):
    binary = ROOT / ".venv" / "bin" / SERVERS[name][0]
    proc = subprocess.Popen([str(binary), *SERVERS[name][1:], target], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return proc
        except OSError:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited at start:\n{proc.stderr.read().decode()[-2000:]}")
    raise SystemExit(f"{name} did not answer /healthz in 30 s")


def stop_server(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


WRK_THREADS = 2


def run_wrk(wrk, script, path, duration, connections, headers=None, first=0):
    """One wrk run; a script's requests are sent from the ``first`` on (see loads._posted)."""
    cmd = [wrk, f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if script:
        cmd += ["-s", str(script)]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(f"http://127.0.0.1:{PORT}{path}")
    if script:
        cmd += ["--", str(first), str(WRK_THREADS)]
    return parse_wrk(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def _ms(text):
    value, unit = float(re.match(r"([\d.]+)", text).group(1)), re.search(r"(us|ms|s)$", text).group(1)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def parse_wrk(out):
    """req/s, p50, p99 (ms), requests, socket errors and non-2xx answers from wrk's --latency output."""
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99_ms": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "non_2xx": int(re.search(r"Non-2xx or 3xx responses: (\d+)", out).group(1)) if "Non-2xx" in out else 0,
    }


def settle(redis):
    """Rewrite the AOF now and wait for it: a rewrite of a freshly grown store would otherwise fork
    and copy a gigabyte in the middle of the measurement, on the same two cores."""
    with redis.client() as client:

        def rewriting():
            info = client.info("persistence")
            return info.get("aof_rewrite_in_progress") or info.get("aof_rewrite_scheduled")

        while rewriting():  # one Redis started by itself as the store grew
            time.sleep(0.5)
        client.bgrewriteaof()
        time.sleep(0.5)
        while rewriting():
            time.sleep(0.5)


def cpu_seconds(session_id=None, pid=None):
    """CPU time (user + system) used so far by one process, or by every process of a session (the
    server's master and workers: it is started in a session of its own)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or (pid is not None and int(entry) != pid):
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if session_id is None or int(fields[3]) == session_id:  # fields[3]: session id
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def busy_seconds():
    """CPU time all cores spent busy so far (not idle, not waiting on I/O), from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as handle:
        ticks = [int(x) for x in handle.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def commands(redis):
    with redis.client() as client:
        return int(client.info("stats")["total_commands_processed"])


def measure(wrk, redis, server, endpoints, duration, connections, label="", warmup=2):
    rows = []
    for endpoint in endpoints:
        # Not counted: lets every worker load its scripts, fill its caches and connection pool, so
        # that the first endpoint after a start is not the one that pays for it.
        warm = run_wrk(wrk, endpoint.script, endpoint.path, warmup, connections, endpoint.headers)
        # The measured run goes on after every request the warm-up may have sent: its threads take
        # turns but need not keep pace, so one may have got as far as twice the total.
        first = WRK_THREADS * (warm["requests"] + connections)
        before = commands(redis)
        app_cpu, redis_cpu, busy = cpu_seconds(session_id=server.pid), cpu_seconds(pid=redis.proc.pid), busy_seconds()
        result = run_wrk(wrk, endpoint.script, endpoint.path, duration, connections, endpoint.headers, first)
        requests = max(result["requests"], 1)
        # Where the cores went, per request: the server's processes (app and HTTP server), Redis, and
        # everything else (wrk, and the kernel's workers writing the AOF out).
        result["server_cpu_us"] = round((cpu_seconds(session_id=server.pid) - app_cpu) / requests * 1e6)
        result["redis_cpu_us"] = round((cpu_seconds(pid=redis.proc.pid) - redis_cpu) / requests * 1e6)
        result["other_cpu_us"] = round((busy_seconds() - busy) / requests * 1e6) - result["server_cpu_us"] - result["redis_cpu_us"]
        # Minus the INFO calls made here; Lua scripts' inner commands count (Redis counts them).
        result["redis_commands"] = round((commands(redis) - before - 1) / requests, 2)
        result["endpoint"] = endpoint.name + label
        rows.append(result)
        print(f"  {result['endpoint']:<34} {result['rps']:>9.0f} req/s  p99 {result['p99_ms']:.1f} ms", flush=True)
    bare = next((r["rps"] for r in rows if r["endpoint"].startswith("bare")), None)
    for row in rows:
        row["ratio"] = round(row["rps"] / bare, 2) if bare else None
    return rows


def table(rows):
    head = (f"{'endpoint':<34} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7} {'cmds/req':>8} {'÷ bare':>7}"
            f" {'server µs':>9} {'redis µs':>8} {'other µs':>8}")
    lines = [head, "-" * len(head)]
    for r in rows:
        errors = r["errors"] + r["non_2xx"]
        ratio = f"{r['ratio']:.2f}" if r.get("ratio") is not None else "-"
        lines.append(f"{r['endpoint']:<34} {r['rps']:>9.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} {errors:>7} "
                     f"{r['redis_commands']:>8} {ratio:>7} {r['server_cpu_us']:>9} {r['redis_cpu_us']:>8} {r['other_cpu_us']:>8}")
    return "\n".join(lines)


def scale_run(wrk, workdir, small_redis, server, args, rounds=3):
    """Check and verify on a store of 10^3 and on one of 10^6 sessions and 10^6 reports, in turns
    (``rounds`` times each, medians compared): this machine drifts by 10-20% over minutes, so two
    runs minutes apart measured the drift as much as the store's size."""
    big_redis = RedisProcess(workdir / "redis-big").start()
    try:
        print(f"\nscale on {server}: seeding {args.scale_size:,} sessions and {args.scale_size:,} reports ...", flush=True)
        started = time.monotonic()
        big = loads.seed(big_redis, sessions=args.scale_size, reports_count=args.scale_size,
                         keep=loads.seed(big_redis, sessions=1000, reports_count=1000))
        print(f"  seeded in {time.monotonic() - started:.0f} s", flush=True)
        for redis in (small_redis, big_redis):
            settle(redis)
        stores = {"10^3": (small_redis, {"sessions": 1000}), "10^6": (big_redis, big)}
        seen = {size: {} for size in stores}
        for turn in range(rounds):
            for size, (redis, seeded) in stores.items():
                proc = start_server(server, production_env(redis.url))
                try:
                    endpoints = loads.scale_endpoints(workdir, seeded, run=10 + turn)
                    for row in measure(wrk, redis, proc, endpoints, args.scale_duration, args.connections):
                        seen[size].setdefault(row["endpoint"], []).append(row["rps"])
                finally:
                    stop_server(proc)
        rows = []
        for endpoint, small_runs in seen["10^3"].items():
            big_runs = seen["10^6"][endpoint]
            rows.append({"endpoint": endpoint, "rps_10^3": statistics.median(small_runs),
                         "rps_10^6": statistics.median(big_runs), "runs_10^3": small_runs, "runs_10^6": big_runs,
                         "vs_10^3": round(statistics.median(big_runs) / statistics.median(small_runs), 2)})
        memory = loads.memory_per_session(big_redis)
    finally:
        big_redis.stop()
    print(f"{'endpoint':<24} {'10^3 req/s':>10} {'10^6 req/s':>10} {'10^6 ÷ 10^3':>11}   runs (10^3 | 10^6)")
    for r in rows:
        runs = " ".join(f"{x:.0f}" for x in r["runs_10^3"]) + " | " + " ".join(f"{x:.0f}" for x in r["runs_10^6"])
        print(f"{r['endpoint']:<24} {r['rps_10^3']:>10.0f} {r['rps_10^6']:>10.0f} {r['vs_10^3']:>11.2f}   {runs}")
    print(f"  Redis memory per active session: {memory['bytes_per_session']} bytes "
          f"(MEMORY USAGE over {memory['sample']} sessions)")
    return {"server": server, "rounds": rounds, "duration_s": args.scale_duration, "rows": rows, "memory": memory}


def floor_run(wrk, workdir, redis, seeded, server, args):
    """The production app plus the floor views (bench/floors.py) on ``server``: how far verify and the
    report write could get on this stack, next to where they are, in one run."""
    print(f"\nfloors on {server} (bench/floors.py):", flush=True)
    proc = start_server(server, production_env(redis.url), target="bench.floors_wsgi:app")
    try:
        rows = measure(wrk, redis, proc, loads.floor_endpoints(workdir, seeded), args.duration, args.connections)
    finally:
        stop_server(proc)
    print(table(rows))
    by_name = {row["endpoint"]: row for row in rows}
    for endpoint in ("verify genuine", "report write"):
        row, floor = by_name[endpoint], by_name["floor of " + endpoint.replace(" genuine", "")]
        print(f"  {endpoint}: {row['ratio']:.2f} of bare; its floor {floor['ratio']:.2f}; "
              f"{row['rps'] / floor['rps']:.2f} of the floor's rate")
    return {"server": server, "rows": rows}


def node_readings(nodes):
    """Each running node's CPU seconds so far (INFO cpu: used_cpu_sys + used_cpu_user) and commands
    processed, by its port."""
    out = {}
    for node in nodes:
        with node.client() as client:
            info = client.info("cpu", "stats")
        out[node.port] = (float(info["used_cpu_sys"]) + float(info["used_cpu_user"]),
                          int(info["total_commands_processed"]))
    return out


def measure_on_cluster(wrk, cluster, server, endpoint, duration, connections, warmup=2):
    """One kind of request alone on the cluster: wrk's figures, the app server's CPU µs per request,
    each primary's Redis CPU µs per request (by port), the replicas' together, Redis commands."""
    warm = run_wrk(wrk, endpoint.script, endpoint.path, warmup, connections, endpoint.headers)
    first = WRK_THREADS * (warm["requests"] + connections)
    primaries = cluster.primaries()
    replicas = [node for node in cluster.nodes if node not in primaries]
    before, app_cpu = node_readings(cluster.nodes), cpu_seconds(session_id=server.pid)
    result = run_wrk(wrk, endpoint.script, endpoint.path, duration, connections, endpoint.headers, first)
    after, requests = node_readings(cluster.nodes), max(result["requests"], 1)

    def per_request(nodes, index):
        return sum(after[node.port][index] - before[node.port][index] for node in nodes) / requests

    result["endpoint"] = endpoint.name
    result["server_cpu_us"] = round((cpu_seconds(session_id=server.pid) - app_cpu) / requests * 1e6)
    result["primary_cpu_us"] = {node.port: round(per_request([node], 0) * 1e6, 1) for node in primaries}
    result["replicas_cpu_us"] = round(per_request(replicas, 0) * 1e6, 1)
    # Minus the INFO each primary answered between its two readings.
    result["redis_commands"] = round(per_request(primaries, 1) - len(primaries) / requests, 2)
    print(f"  {endpoint.name:<20} {result['rps']:>7.0f} req/s  p99 {result['p99_ms']:.1f} ms", flush=True)
    return result


def capacity(row, peak, utilisation=0.5):
    """What one kind's figures mean: Redis CPU µs per request over all primaries and on the busiest;
    app cores one primary core keeps busy (its work spread evenly over the slots); primaries a
    ``peak`` of requests/s needs with each primary at ``utilisation``; and the rate at which the busiest
    primary alone reaches ``utilisation`` (its share cannot spread if it is one slot's work)."""
    total = sum(row["primary_cpu_us"].values())
    busiest = max(row["primary_cpu_us"].values())
    return {
        "redis_us": round(total, 1), "busiest_us": busiest,
        "app_cores_per_primary": round(row["server_cpu_us"] / total, 1) if total else None,
        "primaries_for_peak": max(1, -(-peak * total // (utilisation * 1e6))) if total else 1,
        "busiest_ceiling_rps": round(utilisation * 1e6 / busiest) if busiest else None,
    }


def cluster_table(rows, ports, peak):
    """The capacity run's table: one line per kind of request."""
    head = (f"{'endpoint':<16} {'req/s':>6} {'p99 ms':>6} {'err':>4} {'cmds':>5} {'app µs':>6} "
            + " ".join(f"{':' + str(port):>7}" for port in ports)
            + f" {'Σ µs':>6} {'replicas':>8} {'app cores/primary':>17} {'primaries@' + str(peak):>16} {'busiest@50%':>11}")
    lines = [head, "-" * len(head)]
    for r in rows:
        c = r["capacity"]
        lines.append(f"{r['endpoint']:<16} {r['rps']:>6.0f} {r['p99_ms']:>6.1f} {r['errors'] + r['non_2xx']:>4} "
                     f"{r['redis_commands']:>5} {r['server_cpu_us']:>6} "
                     + " ".join(f"{r['primary_cpu_us'].get(port, 0):>7}" for port in ports)
                     + f" {c['redis_us']:>6} {r['replicas_cpu_us']:>8} {c['app_cores_per_primary']:>17} "
                     f"{c['primaries_for_peak']:>16.0f} {c['busiest_ceiling_rps']:>11}")
    return "\n".join(lines)


def slot_owners(cluster, tags=("{registry}", "{reports}", "{audit}")):
    """The port of the primary holding each of the store's shared hash tags."""
    with cluster.client() as client:
        return {tag: client.get_node_from_key(tag).port for tag in tags}


def cluster_run(wrk, workdir, args):
    """``--cluster``: the production server on a 3+3 Redis Cluster, one kind of request at a time."""
    cluster = RedisClusterProcess(workdir / "cluster").start()
    try:
        seeded = loads.seed(cluster, sessions=1000, reports_count=1000)
        owners, ports = slot_owners(cluster), sorted(node.port for node in cluster.primaries())
        print(f"\ncluster capacity on {args.production}: primaries {ports}; "
              + ", ".join(f"{tag} on :{port}" for tag, port in owners.items()), flush=True)
        proc = start_server(args.production, production_env(cluster.url))
        try:
            rows = [measure_on_cluster(wrk, cluster, proc, endpoint, args.duration, args.connections)
                    for endpoint in loads.cluster_endpoints(workdir, seeded)]
        finally:
            stop_server(proc)
    finally:
        cluster.stop()
    for row in rows:
        row["capacity"] = capacity(row, args.peak)
    print(cluster_table(rows, ports, args.peak))
    print("  Redis CPU µs per request on each primary (by port) and on the replicas together; app µs: the\n"
          "  server's processes. app cores/primary: app cores one primary core keeps busy; primaries@peak:\n"
          "  primaries at 50% CPU for that many requests/s; busiest@50%: req/s at which the busiest primary\n"
          "  alone is at 50% (its share may be one slot's and cannot spread).")
    return {"server": args.production, "slots": owners, "rows": rows, "peak": args.peak}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="granian,gunicorn-sync,gunicorn-gthread")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--production", default="granian", help="the server the scale run uses (the one we ship)")
    parser.add_argument("--no-scale", action="store_true", help="skip the 10^6 sessions and reports run")
    parser.add_argument("--no-floors", action="store_true", help="skip the floor run (bench/floors.py)")
    parser.add_argument("--scale-size", type=int, default=1_000_000)
    parser.add_argument("--scale-duration", type=int, default=10, help="seconds per endpoint in each turn of the scale run")
    parser.add_argument("--cluster", action="store_true",
                        help="only the capacity run: Redis CPU per request per primary of a 3+3 Redis Cluster")
    parser.add_argument("--peak", type=int, default=50_000, help="requests/s the capacity run sizes the cluster for")
    args = parser.parse_args()

    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk is not installed. On Debian/Ubuntu: sudo apt-get install wrk (see README, Performance).")
    workdir = Path(tempfile.mkdtemp(prefix="verify-bench-"))
    results = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "cores": CORES,
               "duration_s": args.duration, "connections": args.connections, "runs": {}}
    try:
        if args.cluster:
            results["cluster"] = cluster_run(wrk, workdir, args)
        else:
            single_run(wrk, workdir, args, results)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        # Kept even when a later part failed: the tables above took minutes.
        out = ROOT / "bench" / f"results-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps(results, indent=2), encoding="utf-8")
        print(f"\nresults: {out.relative_to(ROOT)}")


def single_run(wrk, workdir, args, results):
    """The default bench on one redis-server: each server's table, the floor run, the scale run."""
    redis = RedisProcess(workdir / "redis").start()
    try:
        env = production_env(redis.url)
        small = loads.seed(redis, sessions=1000, reports_count=1000)
        for run, name in enumerate(args.servers.split(",")):
            print(f"\n{name}: {' '.join(SERVERS[name])} wsgi:app", flush=True)
            proc = start_server(name, env)
            try:
                endpoints = loads.endpoints(workdir, small, run, cookie=loads.dashboard_cookie(f"http://127.0.0.1:{PORT}"))
                results["runs"][name] = measure(wrk, redis, proc, endpoints, args.duration, args.connections)
            finally:
                stop_server(proc)
            print(table(results["runs"][name]))
        best = args.production if args.production in results["runs"] else next(iter(results["runs"]))
        if not args.no_floors:
            results["floors"] = floor_run(wrk, workdir, redis, small, best, args)
        if not args.no_scale:
            results["scale"] = scale_run(wrk, workdir, redis, best, args)
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
