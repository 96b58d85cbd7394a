#!/usr/bin/env python3
"""Probe benchmark: `healthgate probe` and `healthgate serve` side by side with
their peers, in one run, on loopback.

Exec probe: `healthgate probe http://127.0.0.1:PORT/` against
`busybox wget -q -O /dev/null` (a minimal static HTTP client, the floor) and
`curl -sf -o /dev/null`, all on the same nginx `return 200`: wall time and
user+sys CPU (hyperfine, alternating rounds), peak RSS (ru_maxrss through a
tiny static launcher, so the launcher's own pages do not count).

Serve: `/readyz` requests/s under wrk against nginx `return 200` with one
worker process (serve is single-threaded), alternating rounds; /readyz
latency (wrk --latency) while 50 background checks target a listener that
accepts and never answers; serve's RSS with those 50 checks.

Prints a markdown table and writes it to bench/results/probe.md.
Settings (env): HEALTHGATE_BIN, BENCH_PROBE_ROUNDS (7 exec probe rounds: the
three tools differ by a few percent, about the noise of one round here),
BENCH_RUNS (300 exec probes per tool and round), BENCH_ROUNDS (3 wrk rounds),
BENCH_SECONDS (5, per wrk run), BENCH_CONNECTIONS (50).
Needs: nginx-light, wrk, hyperfine, busybox-static, curl, cc (to build the launcher).
"""
import json
import os
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import healthgate_binary, log, need  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PROBE_ROUNDS = int(os.environ.get("BENCH_PROBE_ROUNDS", "7"))
RUNS = int(os.environ.get("BENCH_RUNS", "300"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "50"))
MIB = 1024.0




HG = healthgate_binary()
NGINX = need("nginx", "nginx-light")
WRK = need("wrk", "wrk")
HYPERFINE = need("hyperfine", "hyperfine")
CURL = need("curl", "curl")
CC = need("cc", "gcc")
BUSYBOX = "/bin/busybox" if os.access("/bin/busybox", os.X_OK) else sys.exit("bench: /bin/busybox missing (busybox-static)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = subprocess.run([CURL, "-s", "-o", "/dev/null", "-w", "%{http_code}", url], capture_output=True, text=True)
        if r.stdout in ("200", "503"):
            return r.stdout
        time.sleep(0.05)
    sys.exit("bench: %s did not answer" % url)


class Nginx:
    """nginx with its own prefix and config in a temp dir: 1 worker, `return 200`."""

    def __init__(self, work):
        self.port = free_port()
        prefix = os.path.join(work, "nginx")
        os.makedirs(os.path.join(prefix, "logs"))
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""worker_processes 1;
daemon off;
pid %(p)s/nginx.pid;
error_log %(p)s/logs/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %(p)s/body; proxy_temp_path %(p)s/proxy; fastcgi_temp_path %(p)s/fastcgi;
  uwsgi_temp_path %(p)s/uwsgi; scgi_temp_path %(p)s/scgi;
  server { listen 127.0.0.1:%(port)d; location / { return 200 "ok\\n"; } }
}
""" % {"p": prefix, "port": self.port})
        self.proc = subprocess.Popen([NGINX, "-p", prefix, "-c", conf, "-e", os.path.join(prefix, "logs", "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.url = "http://127.0.0.1:%d/" % self.port
        wait_http(self.url)

    def worker_pids(self):
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


class Blackhole:
    """Accepts every connection and never answers; closes its side when the client does."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.sock, selectors.EVENT_READ)
        self.stopping = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stopping:
            for key, _ in self.sel.select(0.2):
                if key.fileobj is self.sock:
                    try:
                        conn, _ = self.sock.accept()
                    except OSError:
                        continue
                    conn.setblocking(False)
                    self.connections += 1
                    self.sel.register(conn, selectors.EVENT_READ)
                else:
                    try:
                        data = key.fileobj.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        self.sel.unregister(key.fileobj)
                        key.fileobj.close()

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=2)


class Serve:
    def __init__(self, work, name, checks, interval="10s", timeout="1s"):
        self.port = free_port()
        config = os.path.join(work, name + ".yaml")
        with open(config, "w") as f:
            f.write("listen: 127.0.0.1:%d\ndrain: 0s\nlog_level: warn\n" % self.port)
            f.write("defaults: {interval: %s, timeout: %s}\nchecks:\n" % (interval, timeout))
            for check in checks:
                f.write("  - {name: %s, target: \"%s\", probes: [readiness]}\n" % check)
        self.proc = subprocess.Popen([HG, "serve", "--config", config], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.url = "http://127.0.0.1:%d/readyz" % self.port
        wait_http(self.url)

    def status(self):
        values = {}
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                    values[key] = int(value.split()[0])
        return values

    def cpu_ticks(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def build_launcher(work):
    path = os.path.join(work, "maxrss")
    subprocess.run([CC, "-O2", "-static", "-o", path, os.path.join(HERE, "maxrss.c")], check=True)
    return path


def peak_rss(launcher, argv, runs=30):
    values = []
    for _ in range(runs):
        r = subprocess.run([launcher] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        m = re.search(r"maxrss_kib=(\d+)", r.stderr)
        values.append(int(m.group(1)))
    return statistics.median(values), max(values)


def hyperfine(commands, work, round_no):
    out = os.path.join(work, "hyperfine-%d.json" % round_no)
    subprocess.run([HYPERFINE, "-N", "--style", "none", "--warmup", "30", "--runs", str(RUNS), "--export-json", out]
                   + commands, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)["results"]


def wrk(url, connections, seconds, latency=False):
    argv = [WRK, "-t1", "-c%d" % connections, "-d%ds" % seconds] + (["--latency"] if latency else []) + [url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    result = {"rps": rps, "non2xx": int(bad.group(1)) if bad else 0, "errors": errors.group(1) if errors else ""}
    if latency:
        def ms(label):
            m = re.search(r"^\s+%s\s+([\d.]+)(us|ms|s)\s*$" % label, out, re.M)
            value, unit = float(m.group(1)), m.group(2)
            return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
        result.update(p50=ms("50%"), p90=ms("90%"), p99=ms("99%"))
    return result


def fmt_ms(seconds):
    return "%.2f ms" % (seconds * 1000)


def main():
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="hg-bench-probe-")
    launcher = build_launcher(work)
    nginx = Nginx(work)
    hole = Blackhole()
    rows, notes = [], []
    try:
        # ---- exec probe -------------------------------------------------
        tools = [
            ("healthgate probe", [HG, "probe", nginx.url]),
            ("busybox wget", [BUSYBOX, "wget", "-q", "-O", "/dev/null", nginx.url]),
            ("curl -sf", [CURL, "-sf", "-o", "/dev/null", nginx.url]),
        ]
        for name, argv in tools:
            r = subprocess.run(argv, capture_output=True)
            if r.returncode != 0:
                sys.exit("bench: %s failed: %s" % (name, r.stderr))
        wall = {name: [] for name, _ in tools}
        cpu = {name: [] for name, _ in tools}
        for round_no in range(PROBE_ROUNDS):
            order = tools if round_no % 2 == 0 else list(reversed(tools))
            log("exec probe round %d/%d (%d runs each)" % (round_no + 1, PROBE_ROUNDS, RUNS))
            results = hyperfine([" ".join(argv) for _, argv in order], work, round_no)
            for (name, _), result in zip(order, results):
                wall[name].append(result["median"])
                cpu[name].append(result["user"] + result["system"])
        rss = {name: peak_rss(launcher, argv) for name, argv in tools}
        hg, bb, curl = (t[0] for t in tools)
        w = {n: statistics.median(v) for n, v in wall.items()}
        c = {n: statistics.median(v) for n, v in cpu.items()}
        def per_round(values):  # healthgate / busybox wget, round by round
            return ", ".join("%.2f" % (a / b) for a, b in zip(values[hg], values[bb]))

        rows.append(("Exec probe wall time (median)", fmt_ms(w[hg]), "%s / %s" % (fmt_ms(w[bb]), fmt_ms(w[curl])),
                     "%.2f / %.2f (rounds vs wget: %s)" % (w[hg] / w[bb], w[hg] / w[curl], per_round(wall)),
                     "≤ 1.0 vs wget: %s" % ("yes" if w[hg] <= w[bb] else "no")))
        rows.append(("Exec probe CPU user+sys (mean)", fmt_ms(c[hg]), "%s / %s" % (fmt_ms(c[bb]), fmt_ms(c[curl])),
                     "%.2f / %.2f (rounds vs wget: %s)" % (c[hg] / c[bb], c[hg] / c[curl], per_round(cpu)),
                     "≤ 1.0 vs wget: %s" % ("yes" if c[hg] <= c[bb] else "no")))
        rows.append(("Exec probe peak RSS (median of 30)", "%.2f MiB" % (rss[hg][0] / MIB),
                     "%.2f MiB / %.2f MiB" % (rss[bb][0] / MIB, rss[curl][0] / MIB),
                     "%.2f / %.2f" % (rss[hg][0] / rss[bb][0], rss[hg][0] / rss[curl][0]),
                     "≤ 2.5 MiB: %s" % ("yes" if rss[hg][1] <= 2.5 * MIB else "no (max %.2f)" % (rss[hg][1] / MIB))))

        # ---- serve throughput --------------------------------------------
        serve = Serve(work, "one", [("web", nginx.url)])
        if wait_http(serve.url) != "200":
            time.sleep(1.5)
        if wait_http(serve.url) != "200":
            sys.exit("bench: /readyz is not 200 with a healthy dependency")
        ratios, serve_rps, nginx_rps = [], [], []
        for round_no in range(ROUNDS):
            log("serve throughput round %d/%d" % (round_no + 1, ROUNDS))
            pair = [("serve", serve.url), ("nginx", nginx.url)]
            if round_no % 2:
                pair.reverse()
            got = {}
            for name, url in pair:
                got[name] = wrk(url, CONNECTIONS, SECONDS)
                if got[name]["non2xx"] or got[name]["errors"]:
                    notes.append("%s round %d: %d non-2xx, socket errors: %s" % (name, round_no + 1,
                                                                               got[name]["non2xx"], got[name]["errors"] or "none"))
            serve_rps.append(got["serve"]["rps"])
            nginx_rps.append(got["nginx"]["rps"])
            ratios.append(got["serve"]["rps"] / got["nginx"]["rps"])
        serve.stop()
        ratio = statistics.median(ratios)
        rows.append(("/readyz requests/s (wrk -t1 -c%d, median of %d)" % (CONNECTIONS, ROUNDS),
                     "%.0f" % statistics.median(serve_rps), "nginx 1 worker: %.0f" % statistics.median(nginx_rps),
                     "%.2f (rounds: %s)" % (ratio, ", ".join("%.2f" % r for r in ratios)),
                     "≥ 0.8: %s" % ("yes" if ratio >= 0.8 else "no")))

        # ---- serve latency and RSS with 50 hung checks -------------------
        hung = Serve(work, "hung", [("hole%02d" % i, "http://127.0.0.1:%d/" % hole.port) for i in range(50)],
                     interval="1s", timeout="1s")
        time.sleep(3)  # every check connected, requests pending, the first timeouts cycled
        ticks = os.sysconf("SC_CLK_TCK")
        cpu_before, idle_started = hung.cpu_ticks(), time.monotonic()
        time.sleep(SECONDS)
        idle_cpu = (hung.cpu_ticks() - cpu_before) / ticks / (time.monotonic() - idle_started)
        log("serve latency with 50 checks on a blackhole")
        # One connection, back to back: the latency of each answer, not of a queue.
        lat = wrk(hung.url, 1, SECONDS * 2, latency=True)
        nginx_lat = wrk(nginx.url, 1, SECONDS * 2, latency=True)
        mem = hung.status()
        nginx_rss = sum(int(open("/proc/%d/status" % pid).read().split("VmRSS:")[1].split()[0])
                        for pid in [nginx.proc.pid] + nginx.worker_pids())
        body = subprocess.run([CURL, "-s", hung.url], capture_output=True, text=True).stdout
        hung.stop()
        rows.append(("/readyz p99 latency, 50 checks on a blackhole (wrk -c1)", "%.2f ms (p50 %.2f, p90 %.2f)" % (lat["p99"], lat["p50"], lat["p90"]),
                     "nginx p99 %.2f ms" % nginx_lat["p99"], "%.2f" % (lat["p99"] / nginx_lat["p99"]),
                     "≤ 2 ms: %s" % ("yes" if lat["p99"] <= 2.0 else "no")))
        rows.append(("serve RSS with 50 checks (VmRSS / VmHWM)", "%.2f / %.2f MiB" % (mem["VmRSS"] / MIB, mem["VmHWM"] / MIB),
                     "nginx master+worker %.2f MiB" % (nginx_rss / MIB), "%.2f" % (mem["VmRSS"] / nginx_rss),
                     "≤ 6 MiB: %s" % ("yes" if mem["VmHWM"] <= 6 * MIB else "no")))
        rows.append(("serve CPU with 50 checks on a blackhole, no requests", "%.1f%% of a core" % (idle_cpu * 100),
                     "", "", ""))
        notes.append("blackhole: %d connections accepted during the run; /readyz answered %d failing lines"
                     % (hole.connections, body.count("[-]hole")))
        with open("/proc/loadavg") as f:
            notes.append("load average at the end: " + " ".join(f.read().split()[:3])
                         + " (other work on the machine shows in the latency tails of both servers)")
    finally:
        hole.stop()
        nginx.stop()
        shutil.rmtree(work, ignore_errors=True)

    uname = os.uname()
    out = ["# healthgate probe/serve benchmark (%s)" % time.strftime("%Y-%m-%d %H:%M:%S"), "",
           "| Measure | healthgate | peer | ratio | goal met |", "|---|---|---|---|---|"]
    out += ["| %s |" % " | ".join(row) for row in rows]
    out += ["", "Command: `bench/probe/run.sh` (binary %s; kernel %s, %d CPUs; %.0f s)." % (
        os.path.relpath(HG, ROOT) if HG.startswith(ROOT) else os.path.basename(HG), uname.release,
        os.cpu_count(), time.monotonic() - started),
        "Exec probe: hyperfine -N, %d rounds x %d runs per tool in alternating order; wall = median of the rounds' "
        "medians, CPU = median of the rounds' mean user+sys; peer column: busybox wget / curl. Peak RSS: ru_maxrss "
        "through a static launcher (bench/probe/maxrss.c)." % (PROBE_ROUNDS, RUNS),
        "Serve: nginx (worker_processes 1, `return 200`) and serve (one readiness check on that nginx, interval "
        "10s) each loaded by wrk -t1 for %d s, alternating, %d rounds. Latency: /readyz failing with 50 checks "
        "(http, interval 1s, timeout 1s) on a listener that accepts and never answers." % (SECONDS, ROUNDS)]
    out += ["Note: " + n for n in notes]
    text = "\n".join(out) + "\n"
    print(text)
    results = os.path.join(ROOT, "bench", "results")
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "probe.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
