#!/usr/bin/env python3
"""Gate benchmark: `healthgate wait` side by side with the wait-for-it style loop
`until nc -z 127.0.0.1 PORT; do sleep 1; done` (sh + netcat-openbsd), in one run.

Measures: binary size, peak RSS while waiting on 16 pending targets, CPU per
attempt, reaction latency when a dependency appears, connect() attempts
during an outage. Prints a markdown table with ratios and writes it to
bench/results/wait.md. Settings (env): HEALTHGATE_BIN, BENCH_TRIALS (40),
BENCH_PARALLEL (4 latency trials at a time),
BENCH_OUTAGE_SECONDS (60), BENCH_RSS_SECONDS (10), BENCH_CPU_SECONDS (10).
"""
import concurrent.futures
import os
import random
import re
import shutil
import signal
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
sys.path.insert(0, os.path.join(ROOT, "tests", "blackbox"))
import peers  # noqa: E402

TRIALS = int(os.environ.get("BENCH_TRIALS", "40"))
PARALLEL = int(os.environ.get("BENCH_PARALLEL", "4"))
OUTAGE_S = float(os.environ.get("BENCH_OUTAGE_SECONDS", "60"))
RSS_S = float(os.environ.get("BENCH_RSS_SECONDS", "10"))
CPU_S = float(os.environ.get("BENCH_CPU_SECONDS", "10"))
MIB = 1024 * 1024




HG = healthgate_binary()
NC = shutil.which("nc.openbsd") or need("nc", "netcat-openbsd")
STRACE = need("strace", "strace")
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else sys.exit("bench: /usr/bin/time not found (apt-get install -y time)")


def loop_argv(port):
    # The wait-for-it idiom; each failed attempt prints one marker line so the
    # attempts are counted the same way for both tools (from their own output).
    return ["sh", "-c", 'until %s -z 127.0.0.1 %d; do echo attempt >&2; sleep 1; done' % (NC, port)]


class Timed:
    """A process started now; a thread records the monotonic time of its exit
    and its rusage (wait4: its CPU includes waited-for children)."""

    def __init__(self, argv, env=None):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.stderr = b""
        self.ended = None
        self.status = None
        self.rusage = None
        self.hwm_kib = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._waiter = threading.Thread(target=self._wait, daemon=True)
        self._waiter.start()

    def _read(self):
        self.stderr = self.proc.stderr.read()

    def _wait(self):
        _, status, rusage = os.wait4(self.proc.pid, 0)
        self.ended = time.monotonic()
        self.status, self.rusage = status, rusage
        self.proc.returncode = os.waitstatus_to_exitcode(status)

    def sample_hwm(self, pid=None):
        """VmHWM of the process (or of `pid`) from /proc, while it runs."""
        try:
            with open("/proc/%d/status" % (pid or self.proc.pid)) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.hwm_kib = max(self.hwm_kib, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            pass

    def join(self, timeout):
        self._waiter.join(timeout)
        if self._waiter.is_alive():
            self.kill()
            self._waiter.join(5)
        self._reader.join(5)
        return self

    def kill(self, sig=signal.SIGKILL):
        if self.ended is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    @property
    def cpu(self):
        return self.rusage.ru_utime + self.rusage.ru_stime


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))]


def count_attempts(stderr):
    """healthgate --log-level debug logs each attempt: the first failure (and a
    change of reason) at info as "target not ready", the others as "attempt failed"."""
    text = stderr.decode("utf-8", "replace")
    return len(re.findall(r"attempt failed|target not ready", text))


def healthgate_wait(args):
    return [HG, "wait", "--termination-log", "none"] + args


# ------------------------------------------------------------------ 1. size

def measure_size():
    info = {}
    info["bytes"] = os.stat(HG).st_size
    info["file"] = subprocess.run(["file", "-b", HG], capture_output=True, text=True).stdout.strip() \
        if shutil.which("file") else "(file not installed)"
    ldd = subprocess.run(["ldd", HG], capture_output=True, text=True)
    info["ldd"] = (ldd.stdout + ldd.stderr).strip()
    info["static"] = "not a dynamic executable" in info["ldd"]
    info["stripped"] = "not stripped" not in info["file"] and "stripped" in info["file"]
    busybox = shutil.which("busybox")
    info["busybox"] = os.stat(busybox).st_size if busybox else None
    # nc with the shared libraries it loads: what the loop needs in an image besides a shell.
    libs = re.findall(r"=> (/\S+)", subprocess.run(["ldd", NC], capture_output=True, text=True).stdout)
    info["nc"] = os.stat(NC).st_size
    info["nc_with_libs"] = info["nc"] + sum(os.stat(p).st_size for p in set(libs))
    return info


# ------------------------------------------------------------------ 2. RSS

def time_argv(out, argv):
    # GNU time's %M is ru_maxrss of its child, for both tools alike. (Not read
    # from our own wait4: a child forked from this Python process carries the
    # interpreter's ~14 MiB high-water mark across exec in ru_maxrss; time(1)
    # is small, so its own share is ~1 MiB.)
    return [TIME, "-o", out, "-f", "%M"] + argv


def read_kib(path):
    try:
        with open(path) as f:
            return int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return 0


def child_pid(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            pids = f.read().split()
        return int(pids[0]) if pids else None
    except OSError:
        return None


def measure_rss(tmp, dns):
    resolv = dns.resolv_conf(tmp)
    targets = []
    targets += ["tcp://127.0.0.1:%d" % peers.free_port() for _ in range(6)]
    targets += ["http://127.0.0.1:%d/healthz" % peers.free_port() for _ in range(4)]
    targets += ["dns://missing-%d" % i for i in range(4)]
    targets += ["file://%s/missing-%d" % (tmp, i) for i in range(2)]
    assert len(targets) == 16
    log("rss: healthgate wait on 16 pending targets for %gs ..." % RSS_S)
    hg_out, loop_out = os.path.join(tmp, "hg.rss"), os.path.join(tmp, "loop.rss")
    hg = Timed(time_argv(hg_out, healthgate_wait(["--timeout", "%gs" % RSS_S, "--resolv-conf", resolv]
                                                 + targets)))
    loop = Timed(time_argv(loop_out, loop_argv(peers.free_port())))
    # VmHWM is per address space and starts fresh at exec: exact for healthgate
    # itself; sampled until it exits (a high-water mark only grows).
    inner = None
    while hg.ended is None:
        inner = inner or child_pid(hg.proc.pid)
        if inner:
            hg.sample_hwm(inner)
        time.sleep(0.05)
    hg.join(RSS_S + 10)
    # End the loop through time(1)'s child so that time(1) still reports.
    loop_child = child_pid(loop.proc.pid)
    if loop_child:
        os.kill(loop_child, signal.SIGTERM)
    loop.join(5)
    rc = hg.proc.returncode
    if rc != 1:
        log("rss: healthgate exited %s (expected 1 = not ready):\n%s" % (rc, hg.stderr[-2000:].decode()))
    # The figure only counts if the targets were really pending for the intended reasons.
    text = hg.stderr.decode("utf-8", "replace")
    expected = ("connection refused", "dns: no such name", "file missing")
    reasons_ok = text.count("target not ready") >= 16 and all(e in text for e in expected)
    if not reasons_ok:
        log("rss: healthgate did not report the expected pending reasons %s:\n%s" % (expected, text[-3000:]))
    return {"hg_hwm_kib": hg.hwm_kib, "hg_time_kib": read_kib(hg_out), "hg_rc": rc, "reasons_ok": reasons_ok,
            "loop_time_kib": read_kib(loop_out)}


# ------------------------------------------------------------------ 3. CPU per attempt

def measure_cpu():
    log("cpu: both tools against refused ports for %gs ..." % CPU_S)
    ports = [peers.free_port() for _ in range(16)]
    hg = Timed(healthgate_wait(["--timeout", "%gs" % CPU_S, "--log-level", "debug"]
                               + ["tcp://127.0.0.1:%d" % p for p in ports]))
    loop = Timed(loop_argv(peers.free_port()))
    hg.join(CPU_S + 10)
    loop.kill(signal.SIGTERM)
    loop.join(5)
    hg_attempts = count_attempts(hg.stderr)
    # Markers count finished failed attempts; +1 for an nc the kill may have cut
    # short (usually none: it lands in `sleep`), which favours the loop.
    loop_attempts = loop.stderr.count(b"attempt\n") + 1
    return {"hg_cpu": hg.cpu, "hg_attempts": hg_attempts, "hg_targets": len(ports),
            "hg_per_attempt": hg.cpu / max(1, hg_attempts),
            "loop_cpu": loop.cpu, "loop_attempts": loop_attempts,
            "loop_per_attempt": loop.cpu / max(1, loop_attempts)}


# ------------------------------------------------------------------ 4. reaction latency

def latency_trial(trial, delay):
    port = peers.free_port()
    # Both tools wait on the same port and see the same listen(): the fairest interleaving.
    hg = Timed(healthgate_wait(["--timeout", "30s", "tcp://127.0.0.1:%d" % port]))
    loop = Timed(loop_argv(port))
    start = min(hg.started, loop.started)
    with peers.TcpListener(port=port, delay=max(0.0, start + delay - time.monotonic())) as lis:
        hg.join(30)
        loop.join(30)
        listened = lis.listened_at
    if hg.proc.returncode != 0 or loop.proc.returncode != 0 or listened is None:
        log("latency trial %d: failed (healthgate rc %s, loop rc %s)" % (trial, hg.proc.returncode,
                                                                        loop.proc.returncode))
        return None
    log("latency trial %2d/%d: listen at %.2fs, healthgate %4.0f ms, loop %4.0f ms"
        % (trial + 1, TRIALS, listened - start, (hg.ended - listened) * 1000, (loop.ended - listened) * 1000))
    return hg.ended - listened, loop.ended - listened


def measure_latency():
    # Trials run PARALLEL at a time on separate ports (the tools sleep nearly
    # all the time, so they barely compete) to get enough trials for a stable
    # median within a few minutes.
    rng = random.Random()
    delays = [rng.uniform(1.0, 5.0) for _ in range(TRIALS)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(latency_trial, range(TRIALS), delays))
    done = [r for r in results if r]
    return {"hg": [r[0] for r in done], "loop": [r[1] for r in done], "failures": TRIALS - len(done)}


# ------------------------------------------------------------------ 5. outage attempts

def count_connects(path, port):
    needle = "htons(%d)" % port
    with open(path, errors="replace") as f:
        return sum(1 for line in f if "connect(" in line and needle in line)


def measure_outage(tmp):
    log("outage: connect() attempts of both tools over %gs with nothing listening ..." % OUTAGE_S)
    hg_port, loop_port = peers.free_port(), peers.free_port()
    hg_trace, loop_trace = os.path.join(tmp, "hg.strace"), os.path.join(tmp, "loop.strace")
    strace = [STRACE, "-f", "-qq", "-e", "trace=connect"]
    hg = Timed(strace + ["-o", hg_trace] + healthgate_wait(["--timeout", "%gs" % OUTAGE_S,
                                                            "tcp://127.0.0.1:%d" % hg_port]))
    # timeout(1) ends the loop after the same time; strace follows it all.
    loop = Timed(strace + ["-o", loop_trace, "timeout", "%gs" % OUTAGE_S] + loop_argv(loop_port))
    hg.join(OUTAGE_S + 20)
    loop.join(OUTAGE_S + 20)
    return {"hg": count_connects(hg_trace, hg_port), "loop": count_connects(loop_trace, loop_port),
            "seconds": OUTAGE_S}


# ------------------------------------------------------------------ report

def ratio(a, b):
    return "%.2f" % (a / b) if b else "n/a"


def main():
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hg-bench-") as tmp:
        size = measure_size()
        with peers.Dnsmasq(records={"present.test": "10.0.0.1"}) as dns:
            rss = measure_rss(tmp, dns)
        cpu = measure_cpu()
        lat = measure_latency()
        outage = measure_outage(tmp)
    if not lat["hg"]:
        sys.exit("bench: every latency trial failed; is `healthgate wait` working?")

    hg_med, loop_med = statistics.median(lat["hg"]), statistics.median(lat["loop"])
    hg_p90, loop_p90 = percentile(lat["hg"], 90), percentile(lat["loop"], 90)
    ok = lambda cond: "yes" if cond else "**no**"  # noqa: E731
    rows = [
        ("Binary size (stripped, static)", "%.2f MiB" % (size["bytes"] / MIB),
         "busybox-static %.2f MiB; nc %.0f KiB + libs = %.2f MiB" % (
             (size["busybox"] or 0) / MIB, size["nc"] / 1024, size["nc_with_libs"] / MIB),
         "%s vs busybox" % ratio(size["bytes"], size["busybox"] or 0),
         "static: %s, stripped: %s" % (ok(size["static"]), ok(size["stripped"]))),
        ("Peak RSS, 16 pending targets, %gs" % RSS_S,
         "%.2f MiB (VmHWM); %.2f MiB by time(1)" % (rss["hg_hwm_kib"] / 1024, rss["hg_time_kib"] / 1024),
         "%.2f MiB by time(1), one target" % (rss["loop_time_kib"] / 1024),
         ratio(rss["hg_time_kib"], rss["loop_time_kib"]),
         "≤ 4 MiB: %s" % ok(0 < rss["hg_hwm_kib"] <= 4096)),
        ("CPU per attempt (refused port)", "%.0f µs (%d attempts, %.3f s CPU)" % (
            cpu["hg_per_attempt"] * 1e6, cpu["hg_attempts"], cpu["hg_cpu"]),
         "%.0f µs (%d attempts, %.3f s CPU)" % (cpu["loop_per_attempt"] * 1e6, cpu["loop_attempts"],
                                                cpu["loop_cpu"]),
         ratio(cpu["hg_per_attempt"], cpu["loop_per_attempt"]), ""),
        ("Reaction latency, median (%d trials)" % len(lat["hg"]), "%.0f ms" % (hg_med * 1000),
         "%.0f ms" % (loop_med * 1000), ratio(hg_med, loop_med),
         "≤ 0.5: %s" % ok(hg_med <= loop_med / 2)),
        ("Reaction latency, p90", "%.0f ms" % (hg_p90 * 1000), "%.0f ms" % (loop_p90 * 1000),
         ratio(hg_p90, loop_p90), ""),
        ("connect() attempts in a %gs outage" % outage["seconds"], "%d" % outage["hg"], "%d" % outage["loop"],
         ratio(outage["hg"], outage["loop"]), "≤ loop: %s" % ok(outage["hg"] <= outage["loop"])),
    ]
    lines = ["| Measure | healthgate wait | `until nc -z ...; do sleep 1; done` | ratio | goal met |",
             "|---|---|---|---|---|"]
    lines += ["| %s |" % " | ".join(r) for r in rows]
    kernel = os.uname().release
    notes = [
        "",
        "Command: `bench/wait/run.sh` (binary %s, %s; kernel %s, %d CPUs; %.0f s)." % (
            os.path.relpath(HG, ROOT) if HG.startswith(ROOT) else HG, size["file"].split(",")[0],
            kernel, os.cpu_count(), time.monotonic() - t0),
        "`ldd`: %s." % size["ldd"].splitlines()[0],
        "RSS: healthgate's VmHWM from /proc (its own address space) and, for both tools, GNU time's %%M "
        "(ru_maxrss of the child: the largest of sh, nc and sleep for the loop; includes ~1 MiB that "
        "time(1) itself had at fork). healthgate exit code %s (1 = not ready, expected); targets: 6 tcp + "
        "4 http to refused ports, 4 dns:// names answered NXDOMAIN by dnsmasq (search list, ndots:5), "
        "2 missing files; all reported pending for those reasons: %s." % (rss["hg_rc"], ok(rss["reasons_ok"])),
        "CPU: user+sys from wait4 over %gs; healthgate on %d refused ports with --log-level debug "
        "(attempts counted from its log, logging cost included), the loop on one (sh + nc + sleep)."
        % (CPU_S, cpu["hg_targets"]),
        "Latency: both tools start together and wait on the same port; a listener appears at a random "
        "1-5 s; time from its listen() to each tool's exit, in one process clock; %d trials at a time "
        "on separate ports. Default backoff (100ms ×1.1, cap 2s, jitter 0.2). Trials failed: %d."
        % (PARALLEL, lat["failures"]),
        "Outage: connect() calls to the port counted with `strace -f -e trace=connect` for both tools.",
    ]
    report = "\n".join(lines + notes) + "\n"
    out_dir = os.path.join(ROOT, "bench", "results")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "wait.md"), "w") as f:
        f.write("# healthgate wait benchmark (%s)\n\n" % time.strftime("%Y-%m-%d %H:%M:%S") + report)
    log("written to %s" % os.path.join(out_dir, "wait.md"))
    print(report)


if __name__ == "__main__":
    main()
