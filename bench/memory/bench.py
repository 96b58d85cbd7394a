"""healthgate run's own cost near the memory limit, side by side with tini.

In a fresh memory cgroup with a 64 MiB limit (v2 when this machine's v2 has
the memory controller, else v1), each wrapper runs the same app twice:
  - idle: `alloc hold 1` (1 MiB, far below the limit: run samples every 250 ms);
  - near the limit: `alloc hold 60` (94% of the limit: run samples every 10 ms).
Measured on the wrapper process alone: CPU from /proc/PID/schedstat over
BENCH_SECONDS, VmRSS from /proc/PID/status every 0.25 s. (/usr/bin/time is
no use here: its figures include the app, which dwarfs the wrapper.)"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import ROOT, healthgate_binary, log, need  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
LIMIT = 64 * 1024 * 1024
TINI = "/usr/bin/tini-static" if os.access("/usr/bin/tini-static", os.X_OK) else need("tini-static", "tini")


def make_cgroup():
    """A fresh cgroup directory with the memory controller and a 64 MiB limit, and its version."""
    name = f"healthgate-bench-{os.getpid()}"
    v2 = "/sys/fs/cgroup"
    if os.path.exists(f"{v2}/cgroup.controllers") and "memory" in open(f"{v2}/cgroup.controllers").read().split():
        path = f"{v2}/{name}"
        os.mkdir(path)
        open(f"{path}/memory.max", "w").write(str(LIMIT))
        return path, "memory.max"
    path = f"/sys/fs/cgroup/memory/{name}"
    os.mkdir(path)
    open(f"{path}/memory.limit_in_bytes", "w").write(str(LIMIT))
    return path, "memory.limit_in_bytes"


def cpu_ns(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def vmrss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def empty_cgroup(cgroup):
    for _ in range(100):
        pids = open(f"{cgroup}/cgroup.procs").read().split()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(int(pid), 9)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def measure(wrapper, app, cgroup):
    def join():
        with open(f"{cgroup}/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
    proc = subprocess.Popen(wrapper + ["--"] + app, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=join)
    try:
        time.sleep(2)  # the app has allocated; run has settled
        start, t0, rss = cpu_ns(proc.pid), time.monotonic(), []
        while time.monotonic() - t0 < SECONDS:
            rss.append(vmrss_kib(proc.pid))
            time.sleep(0.25)
        cpu = (cpu_ns(proc.pid) - start) / 1e9 / (time.monotonic() - t0) * 100
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        empty_cgroup(cgroup)
    return cpu, max(rss) / 1024


def main():
    if os.geteuid() != 0:
        sys.exit("bench: needs root to make a memory cgroup")
    hg = healthgate_binary()
    need("gcc", "gcc")
    work = tempfile.mkdtemp(prefix="hg-bench-memory-")
    alloc = os.path.join(work, "alloc")
    subprocess.run(["gcc", "-O2", "-static", "-o", alloc, os.path.join(ROOT, "tests", "vm", "alloc.c")], check=True)
    cgroup, limit_file = make_cgroup()
    wrappers = {"healthgate run": [hg, "run", "--termination-log", os.path.join(work, "record")],
                "tini-static": [TINI, "-s"]}
    cases = {"app idle, 1 MiB of 64 MiB": [alloc, "hold", "1"],
             "app holding 60 MiB of 64 MiB (94%)": [alloc, "hold", "60"]}
    results = {}
    try:
        for case, app in cases.items():
            for name, wrapper in wrappers.items():
                log(f"{case}: {name} ({SECONDS:g}s)")
                results[(case, name)] = measure(wrapper, app, cgroup)
    finally:
        os.rmdir(cgroup)
    lines = [f"Memory cgroup {cgroup} ({limit_file} 64 MiB), {SECONDS:g} s per row, wrapper process only.", "",
             "| case | healthgate run CPU | tini CPU | healthgate run VmRSS | tini VmRSS |", "|---|---|---|---|---|"]
    for case in cases:
        h, t = results[(case, "healthgate run")], results[(case, "tini-static")]
        lines.append(f"| {case} | {h[0]:.3f}% of a core | {t[0]:.3f}% | {h[1]:.2f} MiB | {t[1]:.2f} MiB |")
    report = "\n".join(lines) + "\n"
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "memory.md"), "w") as f:
        f.write(report)
    print(report)


if __name__ == "__main__":
    main()
