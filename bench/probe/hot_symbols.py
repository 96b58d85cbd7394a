#!/usr/bin/env python3
"""Regenerates probe/hot-symbols.txt: the functions `healthgate probe` (and
`serve`'s start and request path) execute, which the link lays out together
(lld --symbol-ordering-file).

Why: the exec probe runs in every pod every period. Its cost is mostly page
faults of the 8 MiB static binary: the kernel maps text in 64 KiB windows
around each fault, so functions scattered over the binary cost both time and
peak RSS. Gathered, the same run faults about a third less and its peak RSS
halves (see bench/results/probe.md).

How: links an unstripped copy of the binary from an existing build directory
(same objects and flags as build's link.txt, without -s), runs scenarios under
valgrind's callgrind (deterministic: every executed function, not a sample)
against peers on loopback, and writes the union of the function names in the
order: startup, probe scenarios, serve. String functions that glibc picks at
run time by CPU (memcpy_avx512..., strlen_evex...) are added in their AVX2,
EVEX and AVX-512 variants, since valgrind shows only one of them.

Usage: bench/probe/hot_symbols.py BUILD_DIR   (needs valgrind, python3)
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "blackbox"))
import peers  # noqa: E402

OUT = os.path.join(ROOT, "probe", "hot-symbols.txt")
STRING_FUNCTIONS = re.compile(r"^__((?:mem|str|stp|wmem|wcs|raw|bzero)[a-z]*)_(?:avx|evex|sse|erms)\w*$")


def unstripped_binary(build_dir, out):
    """Relinks the binary without -s, from the build directory's link command."""
    link_txt = os.path.join(build_dir, "CMakeFiles", "healthgate.dir", "link.txt")
    with open(link_txt) as f:
        argv = shlex.split(f.read().strip())
    argv = [a for a in argv if a != "-s"]
    argv[argv.index("-o") + 1] = out
    subprocess.run(argv, cwd=build_dir, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def callgrind_functions(argv, out_file, until=None):
    """Function names (mangled) executed by argv under callgrind; `until` is a
    callable run while it executes, after which it gets SIGTERM."""
    cmd = ["valgrind", "--tool=callgrind", "--demangle=no", "--callgrind-out-file=" + out_file] + argv
    if until is None:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    else:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            until()
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    names = []
    with open(out_file) as f:
        for line in f:
            m = re.match(r"^c?fn=\(\d+\) (.+)$", line.rstrip("\n"))
            if m:
                name = m.group(1).split("'")[0].strip()
                if name and not name.startswith("0x") and not name.startswith("("):
                    names.append(name)
    return names


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: %s BUILD_DIR" % sys.argv[0])
    build_dir = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="hg-hot-")
    binary = unstripped_binary(build_dir, os.path.join(work, "healthgate"))

    ok = peers.HttpServer((200, "ok"))
    failing = peers.HttpServer((503, "down"))
    tcp = peers.TcpListener()
    refused = "tcp://127.0.0.1:%d" % peers.free_port()
    sock = peers.UnixListener(os.path.join(work, "app.sock"))
    heartbeat = os.path.join(work, "heartbeat")
    open(heartbeat, "w").close()

    ordered, seen = [], set()

    def add(names):
        for name in sorted(set(names)):  # sorted: a stable file from run to run
            if name not in seen:
                seen.add(name)
                ordered.append(name)

    scenarios = [
        [binary, "probe", ok.url("/healthz")],
        [binary, "probe", ok.url("/"), failing.url("/ready"), refused, tcp.url, sock.url, "file://" + heartbeat],
        [binary, "probe", "--timeout", "300ms", "dns://localhost", "tcp://localhost:%d" % tcp.port],
        [binary, "probe"],
    ]
    for i, argv in enumerate(scenarios):
        add(callgrind_functions(argv, os.path.join(work, "probe-%d.out" % i)))

    port = peers.free_port()
    config = os.path.join(work, "serve.yaml")
    with open(config, "w") as f:
        f.write("listen: 127.0.0.1:%d\ndrain: 0s\nchecks:\n"
                "  - {name: app, target: '%s', probes: [liveness, readiness], interval: 1s}\n"
                "  - {name: db, target: '%s', probes: [readiness], interval: 1s}\n" % (port, ok.url("/"), tcp.url))

    def exercise_serve():
        if not peers.wait_port(port, timeout=30):
            raise RuntimeError("serve did not start under valgrind")
        time.sleep(2.5)
        for path in ("/readyz", "/livez", "/startupz", "/readyz?verbose", "/metrics"):
            for _ in range(3):
                subprocess.run(["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:%d%s" % (port, path)], timeout=10)

    add(callgrind_functions([binary, "serve", "--config", config], os.path.join(work, "serve.out"), exercise_serve))

    # The string functions seen (under valgrind: the AVX2 variants), in every
    # variant a modern CPU may pick instead (EVEX, AVX-512), first in the list.
    bases = {m.group(1) for m in map(STRING_FUNCTIONS.match, ordered) if m}
    variants = []
    nm = subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout
    for line in nm.splitlines():
        parts = line.split()
        m = len(parts) == 3 and parts[1] in "Tt" and STRING_FUNCTIONS.match(parts[2])
        if m and m.group(1) in bases and re.search(r"_(avx2|evex|avx512)", parts[2]) and parts[2] not in seen:
            variants.append(parts[2])
    ordered[:0] = variants

    for peer in (ok, failing, tcp, sock):
        peer.stop()
    with open(OUT, "w") as f:
        f.write("# Functions of the exec probe's (then serve's) path, laid out together at link\n")
        f.write("# time (lld --symbol-ordering-file). Generated by bench/probe/hot_symbols.py.\n")
        for name in ordered:
            f.write(name + "\n")
    print("%s: %d symbols" % (OUT, len(ordered)))


if __name__ == "__main__":
    main()
