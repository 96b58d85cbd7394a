#!/usr/bin/env python3
"""Sidecar benchmark: `healthgate run` side by side with tini (tini-static,
Debian package tini) in one run.

Measures:
  - throughput: an app writing 1 GiB to stdout (`head -c 1G /dev/zero`) under
    each wrapper, stdout to /dev/null and to a pipe consumer (`| cat >
    /dev/null`, as a container's stdout is a pipe), and a chatty app writing
    log lines one write(2) each into a pipe, with hyperfine; rounds alternate
    the wrappers so background load hits both alike;
  - footprint: VmRSS of the wrapper process itself (/proc/PID/status) while the
    app sleeps and while it streams, sampled every 0.25 s;
  - idle CPU: the wrapper's own CPU time (/proc/PID/schedstat) over a window
    while the app sleeps, as a percentage of one core.
healthgate runs as users run it: termination log on (a file), default
sampling (250 ms) and flight record (10 s). Prints a markdown table and
writes it to bench/results/run.md.

Settings (env): HEALTHGATE_BIN, BENCH_ROUNDS (3), BENCH_RUNS (5 per round and
command), BENCH_BYTES (1073741824), BENCH_LINES (200000), BENCH_IDLE_SECONDS (20),
BENCH_RSS_SECONDS (8).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import healthgate_binary, log, need  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
BYTES = int(os.environ.get("BENCH_BYTES", str(1 << 30)))
IDLE_S = float(os.environ.get("BENCH_IDLE_SECONDS", "20"))
RSS_S = float(os.environ.get("BENCH_RSS_SECONDS", "8"))
MIB = 1024 * 1024




HG = healthgate_binary()
TINI = "/usr/bin/tini-static" if os.access("/usr/bin/tini-static", os.X_OK) else need("tini-static", "tini")
HYPERFINE = need("hyperfine", "hyperfine")
WORK = tempfile.mkdtemp(prefix="hg-bench-run-")
TERMINATION_LOG = os.path.join(WORK, "termination-log")
APP = f"head -c {BYTES} /dev/zero"
LINES = int(os.environ.get("BENCH_LINES", "200000"))
# A chatty app: one write(2) per log line, as unbuffered loggers do.
LINE_APP = (f"{sys.executable} -c 'import os; [os.write(1, b\"2026-11-21T06:00:00.000Z info request handled "
            f"path=/api/v1/items status=200\\n\") for i in range({LINES})]'")


def wrappers():
    return {
        "tini": [TINI, "-s", "--"],
        "healthgate": [HG, "run", "--termination-log", TERMINATION_LOG, "--log-level", "warn", "--"],
    }


def hyperfine(commands, output_null):
    """Median and min wall time (s) of each command, one hyperfine call."""
    export = os.path.join(WORK, "hyperfine.json")
    args = [HYPERFINE, "--warmup", "1", "--runs", str(RUNS), "--export-json", export, "--style", "none"]
    if output_null:
        args += ["-N", "--output=null"]
    subprocess.run(args + commands, check=True, stdout=subprocess.DEVNULL)
    with open(export) as f:
        results = json.load(f)["results"]
    return [r["times"] for r in results]


def throughput():
    rows = {}
    for sink in ("/dev/null", "pipe", "lines"):
        times = {name: [] for name in wrappers()}
        for round_index in range(ROUNDS):
            # Alternate the order per round: whoever runs first gets no edge.
            names = list(wrappers())
            if round_index % 2:
                names.reverse()
            commands = []
            for name in names:
                argv = " ".join(wrappers()[name]) + " " + (LINE_APP if sink == "lines" else APP)
                commands.append(argv if sink == "/dev/null" else f"{argv} | cat > /dev/null")
            log(f"throughput, stdout to {sink}, round {round_index + 1}/{ROUNDS}")
            for name, result in zip(names, hyperfine(commands, sink == "/dev/null")):
                times[name] += result
        rows[sink] = {name: (statistics.median(t), min(t), len(t)) for name, t in times.items()}
    return rows


def proc_status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_ns(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def stop(proc):
    """SIGTERM the wrapper (both forward it to the app), SIGKILL if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def footprint(name, app, seconds, stdout=subprocess.DEVNULL):
    """VmRSS samples (KiB) of the wrapper itself while `app` runs."""
    proc = subprocess.Popen(wrappers()[name] + app, stdout=stdout, stderr=subprocess.DEVNULL)
    samples = []
    time.sleep(0.5)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        rss = proc_status(proc.pid, "VmRSS")
        if rss:
            samples.append(rss)
        time.sleep(0.25)
    stop(proc)
    return samples


def idle_cpu(name):
    proc = subprocess.Popen(wrappers()[name] + ["sleep", str(IDLE_S + 5)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    start_cpu, start = cpu_ns(proc.pid), time.monotonic()
    time.sleep(IDLE_S)
    used, elapsed = cpu_ns(proc.pid) - start_cpu, time.monotonic() - start
    stop(proc)
    return used / 1e9 / elapsed * 100.0


def streaming_rss(name):
    # An endless stream through a pipe consumer; the wrapper's RSS while it flows.
    consumer = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    samples = footprint(name, ["cat", "/dev/zero"], RSS_S, stdout=consumer.stdin)
    consumer.stdin.close()
    consumer.wait()
    return samples


def main():
    started = time.time()
    log(f"healthgate {HG}, tini {TINI}, {BYTES} bytes, {ROUNDS} rounds x {RUNS} runs")
    rows = throughput()
    with open(TERMINATION_LOG) as f:
        record = f.readline().strip()
    rss = {name: footprint(name, ["sleep", str(RSS_S + 2)], RSS_S) for name in wrappers()}
    stream = {name: streaming_rss(name) for name in wrappers()}
    cpu = {name: idle_cpu(name) for name in wrappers()}

    def ratio_row(sink, label, goal):
        hg, tini = rows[sink]["healthgate"], rows[sink]["tini"]
        r = hg[0] / tini[0]
        met = f"{'yes' if r <= goal else 'no'} (≤ {goal})" if goal else ""
        return (f"| {label} | {hg[0] * 1000:.0f} ms (min {hg[1] * 1000:.0f}) | "
                f"{tini[0] * 1000:.0f} ms (min {tini[1] * 1000:.0f}) | {r:.2f} (mins {hg[1] / tini[1]:.2f}) | {met} |")

    def kib(samples):
        return f"{max(samples) / 1024:.2f} MiB max, {statistics.median(samples) / 1024:.2f} median" if samples else "n/a"

    gib = BYTES / (1 << 30)
    lines = [
        f"# healthgate run benchmark ({time.strftime('%Y-%m-%d %H:%M:%S')})",
        "",
        "| Measure | healthgate run | tini-static | ratio | goal met |",
        "|---|---|---|---|---|",
        ratio_row("pipe", f"{gib:g} GiB stdout into a pipe (`\\| cat > /dev/null`), median wall", 1.05),
        ratio_row("lines", f"{LINES} log lines, one write(2) each, into a pipe, median wall", 1.0),
        ratio_row("/dev/null", f"{gib:g} GiB stdout to /dev/null, median wall", None),
        f"| Wrapper VmRSS, app idle ({RSS_S:g}s) | {kib(rss['healthgate'])} | {kib(rss['tini'])} | "
        f"{max(rss['healthgate']) / max(rss['tini']):.2f} | {'yes' if max(rss['healthgate']) <= 1536 else 'no'} (≤ 1.5 MiB) |",
        f"| Wrapper VmRSS, app streaming to a pipe ({RSS_S:g}s) | {kib(stream['healthgate'])} | {kib(stream['tini'])} | "
        f"{max(stream['healthgate']) / max(stream['tini']):.2f} | {'yes' if max(stream['healthgate']) <= 1536 else 'no'} (≤ 1.5 MiB) |",
        f"| Wrapper CPU, app idle ({IDLE_S:g}s) | {cpu['healthgate']:.3f}% of a core | {cpu['tini']:.3f}% | | "
        f"{'yes' if cpu['healthgate'] <= 0.1 else 'no'} (≤ 0.1%) |",
        "",
        f"Command: `bench/run/run.sh` (kernel {os.uname().release}, {os.cpu_count()} CPUs, load average at start "
        f"{os.getloadavg()[0]:.2f}; {time.time() - started:.0f} s). Apps: `{APP}` (4 KiB writes); "
        f"python3 writing {LINES} lines of 80 bytes with one os.write each.",
        f"Throughput: hyperfine, {ROUNDS} rounds x {RUNS} runs per wrapper (+1 warm-up each), order alternated per round; "
        "wall times of the whole pipeline. To /dev/null tini lets the app write straight into /dev/null, while any "
        "wrapper that reads the output (healthgate keeps the last lines) makes the app write into a pipe: that cost is "
        "the app's, shown for completeness, not a goal. Into a pipe (what a container's stdout is) both pay the same "
        "pipe writes; healthgate moves pages by tee+splice, reads only the last 8 KiB of each chunk, and enlarges its "
        "own stdout pipe to 256 KiB (fewer wake-ups of the reader).",
        "healthgate ran with `--termination-log FILE` (flight record every 10 s, memory sampled every 250 ms). "
        f"Its last record here: `{record}`.",
        "RSS: VmRSS of the wrapper process from /proc/PID/status every 0.25 s (the app's memory is not counted). "
        "CPU: the wrapper's own schedstat time while the app runs `sleep`.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    os.makedirs(os.path.join(HERE, "..", "results"), exist_ok=True)
    with open(os.path.join(HERE, "..", "results", "run.md"), "w") as f:
        f.write(report)
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
