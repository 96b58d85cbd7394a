"""healthgate probe grpc://127.0.0.1:PORT vs a Python grpcio health client.

One run, side by side: wall and user+sys CPU from one `hyperfine -N` run of
both commands, peak RSS (ru_maxrss through the static
launcher bench/probe/maxrss.c), both against the same gRPC C++ server with
its default health service (tests/peers/grpc_health_server.cpp).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from benchlib import ROOT, healthgate_binary, log, need  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "100"))
PYTHON_CLIENT = (
    "import grpc,sys\n"
    "ch=grpc.insecure_channel(sys.argv[1])\n"
    "r=ch.unary_unary('/grpc.health.v1.Health/Check')(b'',timeout=3)\n"
    "sys.exit(0 if r==b'\\x08\\x01' else 1)\n")


def peak_rss(launcher, argv, runs=20):
    values = []
    for _ in range(runs):
        r = subprocess.run([launcher, *argv], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("bench: %s failed: %s" % (argv, r.stderr))
        values.append(int(r.stderr.split("maxrss_kib=")[1].split()[0]))
    return statistics.median(values) / 1024


def main():
    hyperfine = need("hyperfine", "hyperfine")
    cc = need("gcc", "gcc")
    binary = healthgate_binary()
    server = os.environ.get("GRPC_SERVER") or os.path.join(ROOT, "build", "tests", "grpc_health_server")
    if not os.access(server, os.X_OK):
        sys.exit("bench: %s not found (install libgrpc++-dev, rebuild)" % server)
    if subprocess.run(["/usr/bin/python3", "-c", "import grpc"], capture_output=True).returncode != 0:
        sys.exit("bench: python3-grpcio not installed (apt-get install -y python3-grpcio)")
    work = tempfile.mkdtemp(prefix="hg-bench-grpc-")
    launcher = os.path.join(work, "maxrss")
    subprocess.run([cc, "-O2", "-static", "-o", launcher, os.path.join(ROOT, "bench", "probe", "maxrss.c")], check=True)
    client = os.path.join(work, "health_client.py")
    with open(client, "w") as f:
        f.write(PYTHON_CLIENT)
    srv = subprocess.Popen([server], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = int(srv.stdout.readline().split()[1])
        target = "127.0.0.1:%d" % port
        commands = {
            "healthgate": [binary, "probe", "grpc://" + target],
            "python grpcio": ["/usr/bin/python3", client, target],
        }
        for name, argv in commands.items():
            if subprocess.run(argv, capture_output=True).returncode != 0:
                sys.exit("bench: %s does not pass against the server" % name)
        out = os.path.join(work, "hyperfine.json")
        log("hyperfine: %d runs each" % RUNS)
        subprocess.run([hyperfine, "-N", "-w", "5", "-r", str(RUNS), "--export-json", out,
                        "-n", "healthgate", " ".join(commands["healthgate"]),
                        "-n", "python grpcio", " ".join(commands["python grpcio"])],
                       check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            results = {r["command"]: r for r in json.load(f)["results"]}
        rss = {name: peak_rss(launcher, argv) for name, argv in commands.items()}
    finally:
        srv.stdin.close()
        srv.wait(5)
        shutil.rmtree(work, True)
    hg, py = results["healthgate"], results["python grpcio"]
    cpu = lambda r: r["user"] + r["system"]  # noqa: E731
    print("| measure | healthgate probe | python grpcio client | ratio |")
    print("|---|---|---|---|")
    print("| wall, median | %.2f ms | %.2f ms | %.3f |" % (hg["median"] * 1e3, py["median"] * 1e3, hg["median"] / py["median"]))
    print("| CPU, user+sys (mean) | %.2f ms | %.2f ms | %.3f |" % (cpu(hg) * 1e3, cpu(py) * 1e3, cpu(hg) / cpu(py)))
    print("| peak RSS (median) | %.2f MiB | %.2f MiB | %.3f |" % (rss["healthgate"], rss["python grpcio"],
                                                               rss["healthgate"] / rss["python grpcio"]))
    print("\n%d runs each, one hyperfine -N run; RSS: ru_maxrss, median of 20." % RUNS)


if __name__ == "__main__":
    main()
