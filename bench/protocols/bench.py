"""One postgres check: healthgate probe vs pg_isready against the same local server.

Starts a throwaway postgres (initdb in a temp dir, scram-sha-256 for TCP, as
the postgres user when run as root) on a free loopback port; both tools then
get the same answer (an authentication request). Wall and user+sys CPU:
hyperfine -N, BENCH_ROUNDS rounds x BENCH_RUNS runs with the order alternating
per round (median of the rounds' medians / means). Peak RSS: ru_maxrss through
the static launcher of bench/probe (bench/probe/maxrss.c), median of 20 runs.
"""
import glob
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from benchlib import healthgate_binary, log, need  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
RUNS = int(os.environ.get("BENCH_RUNS", "200"))


def pg_bin(name):
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/" + name))
    if not found:
        sys.exit("bench: %s not found (apt-get install -y postgresql)" % name)
    return found[-1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(argv):
    return ["runuser", "-u", "postgres", "--"] + argv if os.geteuid() == 0 else argv


def main():
    hg = healthgate_binary()
    pg_isready = need("pg_isready", "postgresql-client")
    hyperfine = need("hyperfine", "hyperfine")
    cc = need("cc", "gcc")
    work = tempfile.mkdtemp(prefix="hg-bench-protocols-")
    os.chmod(work, 0o755)
    if os.geteuid() == 0:
        shutil.chown(work, "postgres", "postgres")
    data, port = os.path.join(work, "data"), free_port()
    server = None
    try:
        subprocess.run(as_postgres([pg_bin("initdb"), "-D", data, "-U", "postgres", "--auth-host=scram-sha-256",
                                    "--auth-local=trust", "-N"]), check=True, capture_output=True)
        server = subprocess.Popen(as_postgres([pg_bin("postgres"), "-D", data, "-p", str(port), "-k", work,
                                               "-c", "listen_addresses=127.0.0.1"]),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        target = "postgres://127.0.0.1:%d" % port
        deadline = time.monotonic() + 30
        while subprocess.run([hg, "probe", target], capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                sys.exit("bench: postgres did not start")
            time.sleep(0.1)
        tools = {
            "healthgate": [hg, "probe", target],
            "pg_isready": [pg_isready, "-h", "127.0.0.1", "-p", str(port), "-t", "3", "-q"],
        }
        for name, argv in tools.items():
            r = subprocess.run(argv, capture_output=True)
            if r.returncode != 0:
                sys.exit("bench: %s does not see the server ready (exit %d)" % (name, r.returncode))
        wall, cpu = {n: [] for n in tools}, {n: [] for n in tools}
        for round_no in range(ROUNDS):
            order = list(tools.items()) if round_no % 2 == 0 else list(reversed(tools.items()))
            out = os.path.join(work, "hyperfine-%d.json" % round_no)
            subprocess.run([hyperfine, "-N", "--style", "none", "--warmup", "20", "--runs", str(RUNS),
                            "--export-json", out] + [" ".join(argv) for _, argv in order],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(out) as f:
                for (name, _), result in zip(order, json.load(f)["results"]):
                    wall[name].append(result["median"])
                    cpu[name].append(result["user"] + result["system"])
            log("round %d/%d done" % (round_no + 1, ROUNDS))
        launcher = os.path.join(work, "maxrss")
        subprocess.run([cc, "-O2", "-static", "-o", launcher, os.path.join(HERE, "..", "probe", "maxrss.c")],
                       check=True)
        rss = {}
        for name, argv in tools.items():
            values = []
            for _ in range(20):
                r = subprocess.run([launcher] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                values.append(int(re.search(r"maxrss_kib=(\d+)", r.stderr).group(1)))
            rss[name] = statistics.median(values)
        w = {n: statistics.median(v) for n, v in wall.items()}
        c = {n: statistics.median(v) for n, v in cpu.items()}
        print("One postgres check against a local postgres (authentication request); %d rounds x %d runs, "
              "hyperfine -N" % (ROUNDS, RUNS))
        print("| tool | wall (median) | CPU user+sys (mean) | peak RSS |")
        print("|---|---|---|---|")
        for name in tools:
            print("| %s | %.2f ms | %.2f ms | %d KiB |" % (name, w[name] * 1000, c[name] * 1000, rss[name]))
        print("ratio healthgate/pg_isready: wall %.2f, CPU %.2f, RSS %.2f" % (
            w["healthgate"] / w["pg_isready"], c["healthgate"] / c["pg_isready"], rss["healthgate"] / rss["pg_isready"]))
    finally:
        if server:
            os.killpg(server.pid, 15)
            server.wait(10)
        shutil.rmtree(work, True)


if __name__ == "__main__":
    main()
