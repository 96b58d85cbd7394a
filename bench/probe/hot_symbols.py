#!/usr/bin/env python3
"""Regenerates probe/hot-symbols.txt: the data and functions `healthgate
probe` (and `serve`'s start and request path) touches, which the link lays
out together (lld --symbol-ordering-file).

Why: the exec probe runs in every pod every period. Its cost is mostly page
faults of the 8 MiB static binary: the kernel maps text in 64 KiB windows
around each fault, and every writable data page it touches is a fault of its
own, so code and variables scattered over the binary cost both time and peak
RSS. Gathered, the same run faults about a quarter less and its peak RSS
halves (see bench/results/probe.md).

How: links an unstripped copy of the binary from an existing build directory
(same objects and flags as build's link.txt, without -s), runs scenarios under
valgrind's callgrind (deterministic: every executed function, not a sample)
against peers on loopback, and writes the union of the function names in the
order: start-up, probe scenarios, serve. The probe's variables come from
valgrind's lackey (every load and store, mapped to data symbols), and go
first. String functions that glibc picks at run time by CPU
(memcpy_avx512..., strlen_evex...) are added in their AVX2, EVEX and AVX-512
variants, since valgrind shows only one of them; glibc's start-up code that
valgrind cannot show (the vDSO's registration) is listed by hand (START_UP).

Usage: bench/probe/hot_symbols.py BUILD_DIR   (needs valgrind, python3)
"""
import bisect
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


# What callgrind cannot name: glibc's entry and start-up (callgrind shows
# "(below main)"), and the static start-up's registration of the vDSO, which
# valgrind does not provide (found natively with uprobes on glibc's functions).
START_UP = ["_start", "__libc_start_main_impl", "__libc_start_call_main", "_dl_new_object",
            "_dl_add_to_namespace_list", "_dl_setup_hash", "_dl_lookup_symbol_x", "do_lookup_x", "check_match"]


DATA_SECTIONS = (".data", ".bss", ".data.rel.ro", ".rodata", ".tdata", ".tbss")


class SymbolTable:
    """The unstripped binary's symbols (nm -S -n, read once), global and
    local, as (start, end, name) sorted by address: functions, and objects
    in the data sections (readelf -S)."""

    def __init__(self, binary):
        self.functions, self.objects = [], []
        out = subprocess.run(["nm", "-S", "-n", binary], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3:  # no size (frame_dummy): covers its own address
                parts = [parts[0], "0"] + parts[1:]
            if len(parts) != 4:
                continue
            start = int(parts[0], 16)
            symbol = (start, start + max(int(parts[1], 16), 1), parts[3])
            if parts[2] in "TtWw":
                self.functions.append(symbol)
            elif parts[2] in "dDbBrRuvV":
                self.objects.append(symbol)
        self.function_starts = [sym[0] for sym in self.functions]
        self.object_starts = [sym[0] for sym in self.objects]
        self.data_sections = []
        out = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
            if m and m.group(1) in DATA_SECTIONS and int(m.group(2), 16):
                self.data_sections.append((int(m.group(2), 16), int(m.group(2), 16) + int(m.group(3), 16)))

    @staticmethod
    def _lookup(symbols, starts, address):
        i = bisect.bisect_right(starts, address) - 1
        return symbols[i][2] if i >= 0 and address < symbols[i][1] else None

    def function(self, address):
        return self._lookup(self.functions, self.function_starts, address)

    def data_object(self, address):
        if not any(lo <= address < hi for lo, hi in self.data_sections):
            return None
        return self._lookup(self.objects, self.object_starts, address)


def callgrind_functions(argv, out_file, symbols, until=None):
    """Function names (mangled) executed by argv under callgrind; `until` is a
    callable run while it executes, after which it gets SIGTERM. Functions
    callgrind names only by address (local ones such as frame_dummy) are named
    from `symbols` (a SymbolTable)."""
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
                if name.startswith("0x"):
                    name = symbols.function(int(name, 16)) or ""
                if name and not name.startswith("("):
                    names.append(name)
    return names


def data_symbols(argv, trace_file, symbols):
    """Data symbols (variables, vtables, tables) that argv reads or writes, in
    the order first touched: valgrind's lackey traces every load and store,
    mapped to `symbols` (a SymbolTable)."""
    cmd = ["valgrind", "--tool=lackey", "--trace-mem=yes", "--log-file=" + trace_file] + argv
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    names, seen = [], set()
    access = re.compile(r"^ [LSM] ([0-9a-f]+),")
    with open(trace_file) as f:
        for line in f:
            m = access.match(line)
            if not m:
                continue
            name = symbols.data_object(int(m.group(1), 16))
            if name and name not in seen:
                seen.add(name)
                names.append(name)
    os.unlink(trace_file)
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
    symbols = SymbolTable(binary)

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
    # glibc's IFUNC resolvers (strlen_ifunc, ...) all run before main, on every
    # start, to pick the string functions for the CPU.
    add(START_UP + sorted({sym[2] for sym in symbols.functions if sym[2].endswith("_ifunc")}))
    for i, argv in enumerate(scenarios):
        add(callgrind_functions(argv, os.path.join(work, "probe-%d.out" % i), symbols))
    # The exec probe's data too: each writable page it touches is a fault of
    # its own (no fault-around for private pages), so its variables are
    # gathered as well (first touched, first placed).
    probe_data = []
    for i, argv in enumerate(scenarios[:2]):
        probe_data += data_symbols(argv, os.path.join(work, "data-%d.trace" % i), symbols)

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

    add(callgrind_functions([binary, "serve", "--config", config], os.path.join(work, "serve.out"), symbols, exercise_serve))

    # The string functions seen (under valgrind: the AVX2 variants), in every
    # variant a modern CPU may pick instead (EVEX, AVX-512), first in the list.
    bases = {m.group(1) for m in map(STRING_FUNCTIONS.match, ordered) if m}
    variants = []
    for _, _, name in symbols.functions:
        m = STRING_FUNCTIONS.match(name)
        if m and m.group(1) in bases and re.search(r"_(avx2|evex|avx512)", name) and name not in seen:
            seen.add(name)
            variants.append(name)
    ordered[:0] = variants
    data = []
    for name in probe_data:
        if name not in seen:
            seen.add(name)
            data.append(name)
    ordered[:0] = data

    for peer in (ok, failing, tcp, sock):
        peer.stop()
    with open(OUT, "w") as f:
        f.write("# Data and functions of the exec probe's (then serve's) path, laid out together at link\n")
        f.write("# time (lld --symbol-ordering-file). Generated by bench/probe/hot_symbols.py.\n")
        for name in ordered:
            f.write(name + "\n")
    print("%s: %d symbols" % (OUT, len(ordered)))


if __name__ == "__main__":
    main()
