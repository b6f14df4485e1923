"""A real local Redis Cluster for tests: 3 masters and 3 replicas of Debian's redis-server on
free loopback ports, joined by ``redis-cli --cluster create``."""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

NODE_TIMEOUT_MS = 1000  # how soon replicas notice a dead master


def _free_ports(count: int) -> list[int]:
    """Free loopback ports whose cluster bus ports (+10000) are free too."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port < 55000 and port not in ports and _free(port + 10000):
            ports.append(port)
    return ports


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def missing_binaries() -> str | None:
    """Why no cluster can start here, or None."""
    for name in ("redis-server", "redis-cli"):
        if shutil.which(name) is None:
            return f"{name} is not installed (make redis-deps installs Debian's redis-server)"
    return None


class LocalCluster:
    """``masters`` (at least 3) redis-server processes in cluster mode (no persistence), each
    with ``replicas`` replicas."""

    def __init__(self, folder: Path, masters: int = 3, replicas: int = 1):
        self.folder = folder
        self.replicas = replicas
        self.ports = _free_ports(masters * (1 + replicas))
        self.processes: dict[int, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports[:3])

    def start(self) -> LocalCluster:
        """Start the nodes, create the cluster, wait until every slot is served."""
        for port in self.ports:
            self.processes[port] = self._node(port)
        for port in self.ports:
            _wait_ping(port)
        subprocess.run(["redis-cli", "--cluster", "create",
                        *[f"127.0.0.1:{p}" for p in self.ports],
                        "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        self.wait_ok(replicas=self.replicas > 0)
        return self

    def _node(self, port: int) -> subprocess.Popen:
        folder = self.folder / str(port)
        folder.mkdir(exist_ok=True)
        return subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
             "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
             "--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--repl-diskless-sync-delay", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait_ok(self, within_s: float = 30.0, replicas: bool = False) -> None:
        """Until every live node reports cluster_state:ok and all slots are served (and,
        with ``replicas``, every slot range has a replica)."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if all(_state_ok(p) for p in self.live_ports()) and \
                    (not replicas or self._replicated()):
                return
            time.sleep(0.1)
        raise TimeoutError("the Redis Cluster did not reach cluster_state:ok")

    def _replicated(self) -> bool:
        """Every node replicating: masters with a replica, replicas with their link up."""
        for port in self.live_ports():
            info = redis.Redis(port=port).info("replication")
            if info["role"] == "master" and not info.get("connected_slaves") or \
                    info["role"] == "slave" and info.get("master_link_status") != "up":
                return False
        return True

    def live_ports(self) -> list[int]:
        return [p for p, proc in self.processes.items() if proc.poll() is None]

    def master_of(self, key: str) -> tuple[int, int]:
        """(master port, one replica port) serving ``key``'s slot."""
        client = redis.Redis(port=self.live_ports()[0])
        slot = client.execute_command("CLUSTER", "KEYSLOT", key)
        for start, end, master, *_ in client.execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                replica = redis.Redis(port=int(master[1])).info("replication")["slave0"]
                return int(master[1]), int(replica["port"])
        raise LookupError(key)

    def kill(self, port: int) -> None:
        """SIGKILL one node."""
        self.processes[port].send_signal(signal.SIGKILL)
        self.processes[port].wait(timeout=10)

    def promote(self, replica: int) -> None:
        """Make ``replica`` take over its (dead) master's slots at once (TAKEOVER)."""
        redis.Redis(port=replica).execute_command("CLUSTER", "FAILOVER", "TAKEOVER")
        deadline = time.monotonic() + 30
        while redis.Redis(port=replica).execute_command("ROLE")[0] != b"master":
            if time.monotonic() > deadline:
                raise TimeoutError("the replica was not promoted")
            time.sleep(0.05)
        self.wait_ok()

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _wait_ping(port: int, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while True:
        try:
            redis.Redis(port=port, socket_timeout=1).ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _state_ok(port: int) -> bool:
    try:
        info = redis.Redis(port=port, socket_timeout=1).execute_command("CLUSTER", "INFO")
    except redis.RedisError:
        return False
    text = info.decode() if isinstance(info, bytes) else str(info)
    return "cluster_state:ok" in text and "cluster_slots_ok:16384" in text
