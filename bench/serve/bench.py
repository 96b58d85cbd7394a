"""serve keeps answering the kubelet under hostile load.

For each attack, `healthgate serve` (one loopback check) is attacked while a
fresh client (a new connection each time, as the kubelet makes) asks /livez
and /readyz every 50 ms; serve's RSS and open descriptors are sampled every
250 ms. Reported per attack: probes answered, answered within 100 ms, the
slowest, serve's peak RSS and peak fds. With --peer BINARY the same runs are
made against another healthgate build, side by side.
"""
import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import healthgate_binary, log, need  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def probe_once(port, path, timeout=1.0):
    """Seconds for one GET on a new connection, or None when unanswered."""
    start = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            if not data.startswith(b"HTTP/1.1 "):
                return None
    except OSError:
        return None
    return time.monotonic() - start


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.stop_flag, self.rss, self.fds = pid, False, 0, 0

    def run(self):
        while not self.stop_flag:
            try:
                with open("/proc/%d/status" % self.pid) as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            self.rss = max(self.rss, int(line.split()[1]))
                self.fds = max(self.fds, len(os.listdir("/proc/%d/fd" % self.pid)))
            except OSError:
                return
            time.sleep(0.25)


def start_serve(binary, directory):
    port = free_port()
    check = socket.socket()
    check.bind(("127.0.0.1", 0))
    check.listen(64)
    config = os.path.join(directory, "serve.yaml")
    with open(config, "w") as f:
        f.write("listen: 127.0.0.1:%d\ndrain: 0s\nchecks:\n"
                "  - {name: app, target: \"tcp://127.0.0.1:%d\", probes: [liveness, readiness], interval: 1s}\n"
                % (port, check.getsockname()[1]))
    proc = subprocess.Popen([binary, "serve", "--config", config, "--log-level", "warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while probe_once(port, "/readyz") is None:
        if time.monotonic() > deadline:
            proc.kill()
            sys.exit("bench: serve did not start")
        time.sleep(0.05)
    return proc, port, check


def attack_command(kind, port, connections, seconds):
    url = "http://127.0.0.1:%d/livez" % port
    if kind == "wrk":
        return [need("wrk", "wrk"), "-t2", "-c%d" % connections, "-d%ds" % seconds, url]
    flags = {"slowloris": ["-H"], "slow body": ["-B"], "slow read": ["-X", "-k", "100", "-n", "2", "-w", "1", "-y", "1", "-z", "1"]}[kind]
    return [need("slowhttptest", "slowhttptest")] + flags + [
        "-c", str(connections), "-r", "2000", "-i", "5", "-l", str(seconds), "-u", url, "-p", "3"]


def run_attack(binary, kind, connections, seconds):
    with tempfile.TemporaryDirectory(prefix="hg-bench-serve-") as directory:
        proc, port, check = start_serve(binary, directory)
        sampler = Sampler(proc.pid)
        sampler.start()
        attacker = None
        if kind != "none":
            attacker = subprocess.Popen(attack_command(kind, port, connections, seconds),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(min(5, seconds / 4))  # let the connections pile up
        latencies, missed = [], 0
        end = time.monotonic() + (seconds - min(5, seconds / 4) - 1 if kind != "none" else seconds)
        i = 0
        while time.monotonic() < end:
            took = probe_once(port, "/livez" if i % 2 == 0 else "/readyz")
            i += 1
            if took is None:
                missed += 1
            else:
                latencies.append(took)
            time.sleep(0.05)
        if attacker:
            attacker.kill()
            attacker.wait()
        sampler.stop_flag = True
        sampler.join()
        proc.kill()
        proc.wait()
        check.close()
        latencies.sort()
        total = len(latencies) + missed
        within = sum(1 for t in latencies if t <= 0.1)
        return {
            "probes": total, "answered": len(latencies), "within_100ms": within,
            "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else None,
            "max_ms": latencies[-1] * 1000 if latencies else None,
            "rss_mib": sampler.rss / 1024, "fds": sampler.fds,
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=6000)
    parser.add_argument("--wrk-connections", type=int, default=320)
    parser.add_argument("--peer", help="another healthgate binary to measure side by side")
    parser.add_argument("--attacks", default="none,slowloris,slow body,slow read,wrk")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))  # slowhttptest's 6 000 sockets
    binaries = [("healthgate", healthgate_binary())]
    if args.peer:
        binaries.append(("peer", os.path.abspath(args.peer)))
    print("| attack | binary | fresh probes answered | within 100 ms | p50 | slowest | peak RSS | peak fds |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in args.attacks.split(","):
        for label, binary in binaries:
            log("bench serve: %s, %s" % (kind, label))
            n = args.wrk_connections if kind == "wrk" else args.connections
            r = run_attack(binary, kind, n, args.seconds)
            name = kind if kind in ("none", "wrk") else "%s (slowhttptest, %d conns)" % (kind, n)
            if kind == "wrk":
                name = "wrk, %d keep-alive conns" % n
            fmt = lambda v: "—" if v is None else "%.1f ms" % v  # noqa: E731
            print("| %s | %s | %d/%d | %d/%d | %s | %s | %.2f MiB | %d |" % (
                name, label, r["answered"], r["probes"], r["within_100ms"], r["probes"], fmt(r["p50_ms"]),
                fmt(r["max_ms"]), r["rss_mib"], r["fds"]), flush=True)


if __name__ == "__main__":
    main()
