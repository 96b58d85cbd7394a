"""Black-box tests of `healthgate run`: the real binary, real processes, real
signals, real pipes and (where the machine allows) a real memory cgroup.

The binary comes from HEALTHGATE_BIN. Tests that need root or a writable
memory cgroup skip themselves with the reason.
"""
import contextlib
import hashlib
import json
import re
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unittest

import peers

HG = os.environ.get("HEALTHGATE_BIN", "healthgate")
PY = sys.executable
MIB = 1024 * 1024

# Allocates and touches 1 MiB at a time until killed (or `limit` MiB).
HOG = r"""
import sys, time
print("allocating", flush=True)
chunks = []
for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 4096):
    chunks.append(b"x" * (1 << 20))
print("allocated without being killed", flush=True)
"""


def wait_until(predicate, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def children_of(pid):
    """(pid, state) of every process whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append((int(entry), fields[0]))
    return found


class RunTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hg-run-")
        self.log = os.path.join(self.dir, "termination-log")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_hg(self, command, *flags, timeout=60, **kwargs):
        args = [HG, "run", "--termination-log", self.log, *flags, "--", *command]
        return subprocess.run(args, capture_output=True, timeout=timeout, **kwargs)

    def start_hg(self, command, *flags, **kwargs):
        args = [HG, "run", "--termination-log", self.log, *flags, "--", *command]
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)

    @contextlib.contextmanager
    def running(self, command, *flags, **kwargs):
        """start_hg(...), killed and reaped on the way out, whatever happened inside."""
        proc = self.start_hg(command, *flags, **kwargs)
        try:
            yield proc
        finally:
            proc.kill()
            proc.communicate()

    def message(self):
        with open(self.log, "rb") as f:
            data = f.read()
        return data.decode("utf-8")  # strict: the message must be valid UTF-8

    def first_line(self):
        return self.message().split("\n", 1)[0]


class ExitCodes(RunTestCase):
    def test_app_exit_codes_pass_through(self):
        for code in (0, 1, 2, 3, 42, 255):
            with self.subTest(code=code):
                result = self.run_hg(["sh", "-c", f"exit {code}"])
                self.assertEqual(result.returncode, code, result.stderr)
                self.assertRegex(self.first_line(), rf"^exit {code} after \d")
                self.assertIn(f"exit code: {code}", self.message())

    def test_exit_1_quotes_the_fatal_line(self):
        result = self.run_hg(["sh", "-c", "echo starting; echo 'FATAL: DATABASE_URL is not set' >&2; exit 1"])
        self.assertEqual(result.returncode, 1)
        self.assertRegex(self.first_line(), r"^exit 1 after [\d.]+m?s: last output: FATAL: DATABASE_URL is not set$")
        self.assertIn("hint: application error", self.message())
        # The app's stream is the app's: no line of ours by default...
        self.assertEqual(result.stderr, b"FATAL: DATABASE_URL is not set\n")
        # ...and the verdict in the log at the level one opts into.
        result = self.run_hg(["sh", "-c", "echo 'FATAL: DATABASE_URL is not set' >&2; exit 1"], "--log-level", "info")
        self.assertIn(b"app exited", result.stderr)
        self.assertIn(b"FATAL: DATABASE_URL is not set", result.stderr.split(b"\n", 1)[1])

    def test_death_by_signal_is_128_plus_n(self):
        for name, number in (("TERM", 15), ("INT", 2), ("USR1", 10), ("KILL", 9)):
            with self.subTest(signal=name):
                result = self.run_hg(["sh", "-c", f"kill -{name} $$"])
                self.assertEqual(result.returncode, 128 + number)
                self.assertIn(f"signal: SIG{name} (exit code {128 + number})", self.message())
        # SIGKILL with the OOM counter unchanged: from elsewhere.
        result = self.run_hg(["sh", "-c", "kill -KILL $$"])
        if "no OOM-kill counter" not in self.first_line():
            self.assertIn("not an OOM kill", self.first_line())

    def test_core_dump_is_reported(self):
        result = self.run_hg(["sh", "-c", "ulimit -c 0; kill -SEGV $$"], cwd=self.dir)
        self.assertEqual(result.returncode, 139)
        self.assertIn("signal: SIGSEGV (exit code 139), no core dump", self.message())
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
        if pattern.startswith("|") or "/" in pattern:
            self.skipTest(f"core_pattern {pattern!r} does not write a core into the working directory")
        result = self.run_hg(["sh", "-c", "ulimit -c unlimited; kill -SEGV $$"], cwd=self.dir)
        self.assertEqual(result.returncode, 139)
        self.assertRegex(self.first_line(), r"^killed by SIGSEGV \(core dumped\) after")
        self.assertIn("core dumped", self.message())


class ExecFailures(RunTestCase):
    def test_missing_file_is_127(self):
        result = self.run_hg(["/app/start.sh"])
        self.assertEqual(result.returncode, 127)
        self.assertIn(b"exec /app/start.sh: no such file or directory", result.stderr)
        self.assertEqual(self.first_line(), "cannot start: exec /app/start.sh: no such file or directory")

    def test_not_in_path_is_127(self):
        result = self.run_hg(["no-such-command-for-healthgate"])
        self.assertEqual(result.returncode, 127)
        self.assertIn("exec no-such-command-for-healthgate: executable file not found in $PATH", self.first_line())

    def script(self, text, mode):
        path = os.path.join(self.dir, "start.sh")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def test_not_executable_is_126(self):
        script = self.script("#!/bin/sh\necho hi\n", 0o644)
        result = self.run_hg([script])
        self.assertEqual(result.returncode, 126)
        self.assertEqual(self.first_line(), f"cannot start: exec {script}: permission denied")
        self.assertIn(b"permission denied", result.stderr)

    def test_missing_interpreter_is_named(self):
        script = self.script("#!/no/such/interpreter\necho hi\n", 0o755)
        result = self.run_hg([script])
        self.assertEqual(result.returncode, 127)
        self.assertIn("its #! interpreter /no/such/interpreter does not", self.first_line())

    def test_usage_errors_are_2(self):
        for args in ([], ["--max-bytes", "99999", "--", "true"], ["--format", "xml", "--", "true"], ["true"]):
            with self.subTest(args=args):
                result = subprocess.run([HG, "run", *args], capture_output=True, timeout=10)
                self.assertEqual(result.returncode, 2)
                self.assertTrue(result.stderr.startswith(b"healthgate run: "), result.stderr)

    def test_help_documents_every_flag(self):
        result = subprocess.run([HG, "run", "--help"], capture_output=True, timeout=10)
        self.assertEqual(result.returncode, 0)
        for flag in (b"--termination-log", b"--max-bytes", b"--format", b"--history", b"--signal-group",
                     b"--record-interval", b"--sample-interval", b"--tail-bytes", b"--cgroup", b"--log-format",
                     b"--log-level", b"HEALTHGATE_HISTORY", b"128+N"):
            self.assertIn(flag, result.stdout)


class Signals(RunTestCase):
    TRAPPING_APP = "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done"

    def read_line(self, stream):
        return stream.readline().decode().strip()

    def test_sigterm_is_forwarded_and_the_apps_code_returned(self):
        with self.running(["sh", "-c", self.TRAPPING_APP]) as proc:
            self.assertEqual(self.read_line(proc.stdout), "ready")
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=10), 42)
            self.assertEqual(self.read_line(proc.stdout), "got-term")
        self.assertRegex(self.first_line(), r"^exit 42 after")
        self.assertRegex(self.message(), r"stop signal: SIGTERM forwarded at")

    def test_other_signals_are_forwarded(self):
        app = ("trap 'echo got-usr1' USR1; trap 'echo got-hup' HUP; trap 'echo got-winch' WINCH; "
               "trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done")
        with self.running(["sh", "-c", app]) as proc:
            self.assertEqual(self.read_line(proc.stdout), "ready")
            for sig, expected in ((signal.SIGUSR1, "got-usr1"), (signal.SIGHUP, "got-hup"),
                                  (signal.SIGWINCH, "got-winch")):
                proc.send_signal(sig)
                self.assertEqual(self.read_line(proc.stdout), expected)
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=10), 0)

    GROUP_APP = r"""
import os, signal, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", '''
import signal, sys, time
def on_term(*_):
    print("child-got-term", flush=True)
    sys.exit(5)
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while True:
    time.sleep(0.05)
'''])
signal.signal(signal.SIGTERM, signal.SIG_IGN)
sys.exit(child.wait())
"""

    def test_signal_group_reaches_the_apps_children(self):
        with self.running([PY, "-c", self.GROUP_APP], "--signal-group") as proc:
            self.assertEqual(self.read_line(proc.stdout), "ready")
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=10), 5)
            self.assertEqual(self.read_line(proc.stdout), "child-got-term")

    def test_without_signal_group_only_the_app_is_signalled(self):
        proc = self.start_hg([PY, "-c", self.GROUP_APP])
        try:
            self.assertEqual(self.read_line(proc.stdout), "ready")
            proc.send_signal(signal.SIGTERM)
            with self.assertRaises(subprocess.TimeoutExpired):
                proc.wait(timeout=0.7)  # the app ignores SIGTERM, its child never got it
        finally:
            for pid, _ in children_of(proc.pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait(timeout=10)
            proc.communicate()

    def test_as_pid_1_in_a_pid_namespace(self):
        if shutil.which("unshare") is None or os.geteuid() != 0:
            self.skipTest("needs root and unshare(1) to create a PID namespace")
        app = ("sh -c 'sleep 0.3 &' ; trap 'echo got-term; exit 42' TERM; echo ready $$; "
               "while :; do sleep 0.05; done")
        proc = subprocess.Popen(["unshare", "--pid", "--fork", HG, "run", "--termination-log", self.log, "--",
                                 "sh", "-c", app], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = proc.stdout.readline().decode().split()
            if line[:1] != ["ready"]:
                self.skipTest(f"unshare --pid failed here: {proc.stderr.read(300)!r}")
            hg = wait_until(lambda: [pid for pid, _ in children_of(proc.pid)])
            self.assertTrue(hg, "healthgate should be unshare's child")
            with open(f"/proc/{hg[0]}/status") as f:
                nspid = [l for l in f if l.startswith("NSpid:")][0].split()
            self.assertEqual(nspid[-1], "1", "healthgate should be PID 1 in the new namespace")
            # The backgrounded sleep was orphaned to PID 1: once it exits it must be reaped.
            time.sleep(0.8)
            self.assertEqual([p for p, state in children_of(hg[0]) if state == "Z"], [])
            os.kill(hg[0], signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=10), 42)
            self.assertEqual(proc.stdout.readline().decode().strip(), "got-term")
        finally:
            proc.kill()
            proc.communicate()
        self.assertRegex(self.first_line(), r"^exit 42 after")


class Reaping(RunTestCase):
    def test_orphaned_grandchildren_are_adopted_and_reaped(self):
        # The inner shell starts three sleeps and exits at once: they are
        # orphaned to the nearest subreaper, healthgate, and die 0.5s later.
        app = "sh -c 'sleep 0.5 & sleep 0.5 & sleep 0.5 &'; echo orphaned; sleep 2.5"
        with self.running(["sh", "-c", app]) as proc:
            self.assertEqual(proc.stdout.readline().decode().strip(), "orphaned")
            adopted = wait_until(lambda: len(children_of(proc.pid)) >= 4, timeout=2)
            self.assertTrue(adopted, f"sleeps not adopted: {children_of(proc.pid)}")
            time.sleep(1.2)
            zombies = [pid for pid, state in children_of(proc.pid) if state == "Z"]
            self.assertEqual(zombies, [])
            self.assertEqual(len(children_of(proc.pid)), 1)  # only the app is left
            self.assertEqual(proc.wait(timeout=10), 0)


def pattern_stream(seed, size):
    """Deterministic bytes of every value (invalid UTF-8, NULs, long and short lines)."""
    out = bytearray()
    block = hashlib.sha256(seed).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block * 8 + b"\n" + bytes(range(256)) + b"line\n" * (block[0] % 7)
    return bytes(out[:size])


WRITER = r"""
import hashlib, os, sys
sys.path.insert(0, os.environ["HG_TEST_DIR"])
from test_run import pattern_stream
out = pattern_stream(b"out", int(sys.argv[1]))
err = pattern_stream(b"err", int(sys.argv[2]))
sizes = [1, 7, 4096, 65536, 100000, 3]
i = o = e = 0
while o < len(out) or e < len(err):
    n = sizes[i % len(sizes)]; i += 1
    if o < len(out):
        o += os.write(1, out[o:o + n])
    if e < len(err) and i % 3 == 0:
        e += os.write(2, err[e:e + n])
"""


class Passthrough(RunTestCase):
    def writer(self, out_size, err_size):
        env = dict(os.environ, HG_TEST_DIR=os.path.dirname(os.path.abspath(__file__)))
        return [PY, "-c", WRITER, str(out_size), str(err_size)], env

    def test_large_streams_pass_through_byte_identical(self):
        out_size, err_size = 64 * MIB, 16 * MIB
        command, env = self.writer(out_size, err_size)
        proc = self.start_hg(command, env=env)
        digests = {}

        def consume(name, stream):
            h = hashlib.sha256()
            total = 0
            while True:
                chunk = stream.read(1 << 16)
                if not chunk:
                    break
                h.update(chunk)
                total += len(chunk)
            digests[name] = (h.hexdigest(), total)

        threads = [threading.Thread(target=consume, args=("out", proc.stdout)),
                   threading.Thread(target=consume, args=("err", proc.stderr))]
        for t in threads:
            t.start()
        self.assertEqual(proc.wait(timeout=120), 0)
        for t in threads:
            t.join()
        proc.stdout.close()
        proc.stderr.close()
        expected_err = pattern_stream(b"err", err_size)
        self.assertEqual(digests["out"], (hashlib.sha256(pattern_stream(b"out", out_size)).hexdigest(), out_size))
        # healthgate's own final log line follows the app's stderr.
        err_digest, err_total = digests["err"]
        self.assertGreaterEqual(err_total, err_size)

        # Compare stderr exactly, with healthgate's log line set aside.
        result = subprocess.run([HG, "run", "--termination-log", self.log, "--log-level", "off", "--", *command],
                                env=env, capture_output=True, timeout=120)
        self.assertEqual(result.returncode, 0)
        self.assertEqual(hashlib.sha256(result.stderr).hexdigest(), hashlib.sha256(expected_err).hexdigest())
        self.assertEqual(len(result.stdout), out_size)
        # Whatever the app printed, the message is valid UTF-8 within the limit.
        with open(self.log, "rb") as f:
            self.assertLessEqual(len(f.read()), 4096)
        self.message()

    def test_regular_and_append_files(self):
        command, env = self.writer(8 * MIB, 2 * MIB)
        expected = pattern_stream(b"out", 8 * MIB)
        for mode in ("wb", "ab"):
            with self.subTest(mode=mode):
                path = os.path.join(self.dir, "out-" + mode)
                with open(path, mode) as out:
                    result = subprocess.run([HG, "run", "--termination-log", self.log, "--log-level", "off", "--",
                                             *command], env=env, stdout=out, stderr=subprocess.DEVNULL, timeout=120)
                self.assertEqual(result.returncode, 0)
                with open(path, "rb") as f:
                    self.assertEqual(hashlib.sha256(f.read()).hexdigest(), hashlib.sha256(expected).hexdigest())

    def test_stdin_is_the_apps(self):
        result = self.run_hg(["cat"], input=b"from stdin\n")
        self.assertEqual(result.stdout, b"from stdin\n")

    def test_output_of_an_app_that_exits_at_once_is_not_lost(self):
        result = self.run_hg(["sh", "-c", "seq 1 20000"], "--log-level", "off")
        self.assertEqual(result.stdout, "".join(f"{i}\n" for i in range(1, 20001)).encode())
        self.assertIn("  20000", self.message())


class Exiting(RunTestCase):
    def test_an_idle_grandchild_holding_the_output_does_not_delay_the_exit(self):
        started = time.monotonic()
        result = self.run_hg(["sh", "-c", "sleep 30 & echo $!; exit 6"], timeout=20)
        elapsed = time.monotonic() - started
        try:
            os.kill(int(result.stdout.split()[0]), signal.SIGKILL)
        except (ProcessLookupError, ValueError, IndexError):
            pass
        self.assertEqual(result.returncode, 6)
        self.assertLess(elapsed, 10)

    def test_a_grandchild_writing_forever_does_not_keep_healthgate_alive(self):
        app = "(while :; do echo spam; done) & sleep 0.2; echo 'FATAL: gone' >&2; exit 7"
        result = self.run_hg(["sh", "-c", app], timeout=60)
        self.assertEqual(result.returncode, 7)
        self.assertIn(b"spam\n", result.stdout)


class Message(RunTestCase):
    GARBAGE = r"""
import os, random
random.seed(7)
for i in range(3000):
    n = random.choice([0, 1, 10, 200, 5000])
    os.write(1 + (i % 2), bytes(random.randrange(256) for _ in range(n)) + b"\n")
os.write(2, b"\xe2\x82 cut utf-8 \xff\xfe and a very long last line " + b"\xc3\xa9" * 3000)
raise SystemExit(1)
"""

    def test_never_over_the_limit_and_always_utf8(self):
        for max_bytes in (64, 300, 1000, 4096):
            for fmt in ("text", "json"):
                with self.subTest(max_bytes=max_bytes, fmt=fmt):
                    result = self.run_hg([PY, "-c", self.GARBAGE], "--max-bytes", str(max_bytes), "--format", fmt)
                    self.assertEqual(result.returncode, 1)
                    with open(self.log, "rb") as f:
                        data = f.read()
                    self.assertLessEqual(len(data), max_bytes)
                    text = data.decode("utf-8")
                    if fmt == "json":
                        record = json.loads(text)
                        self.assertIn("verdict", record)
                        if max_bytes >= 1000:
                            self.assertEqual(record["exit_code"], 1)
                            self.assertEqual(record["reason"], "Error")
                    else:
                        self.assertTrue(text.startswith("exit 1 after") or max_bytes < 100, text[:80])

    def test_json_record(self):
        result = self.run_hg(["sh", "-c", "echo 'FATAL: boom' >&2; exit 3"], "--format", "json")
        self.assertEqual(result.returncode, 3)
        record = json.loads(self.message())
        self.assertEqual(record["exit_code"], 3)
        self.assertEqual(record["reason"], "Error")
        self.assertEqual(record["last_output"], ["FATAL: boom"])
        self.assertIn("source", record["memory"])
        self.assertIn("runtime_ms", record)

    def test_rewritten_in_place_over_a_bind_mount(self):
        # The kubelet bind-mounts the file: rename() over it fails, so it is
        # rewritten in place and cut to the new length.
        host_file = os.path.join(self.dir, "host-side")
        with open(host_file, "wb") as f:
            f.write(b"x" * 10000)
        with open(self.log, "wb"):
            pass
        mounted = subprocess.run(["mount", "--bind", host_file, self.log], capture_output=True)
        if mounted.returncode != 0:
            self.skipTest(f"cannot bind-mount a file here: {mounted.stderr.decode().strip()}")
        try:
            result = self.run_hg(["sh", "-c", "exit 4"])
            self.assertEqual(result.returncode, 4)
        finally:
            subprocess.run(["umount", self.log], capture_output=True)
        with open(host_file, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"exit 4 after"), data[:40])
        self.assertNotIn(b"xxxx", data)

    def test_flight_record_while_running_survives_a_kill_of_everything(self):
        app = "echo serving; exec sleep 30"
        with self.running(["sh", "-c", app], "--record-interval", "200ms", "--sample-interval", "50ms") as proc:
            self.assertEqual(proc.stdout.readline().strip(), b"serving")
            first = wait_until(lambda: os.path.exists(self.log) and self.first_line().startswith("still running"))
            self.assertTrue(first)
            self.assertIn("status: running", self.message())
            self.assertTrue(wait_until(lambda: "  serving" in self.message(), timeout=3), self.message())
            before = self.first_line()
            self.assertTrue(wait_until(lambda: self.first_line() != before, timeout=3), "the record is not refreshed")
            # A group OOM kill takes healthgate and the app at once: the record stays.
            for pid, _ in children_of(proc.pid):
                os.kill(pid, signal.SIGKILL)
            proc.kill()
            proc.wait(timeout=10)
        message = self.message()
        self.assertRegex(message.split("\n", 1)[0], r"^still running at [\d.]+m?s")
        self.assertRegex(message, r"memory: (peak \S+|unknown)")
        self.assertIn("killed along with the app", message)

    def test_stop_signal_updates_the_record_at_once(self):
        app = "trap 'sleep 1; exit 0' TERM; echo ready; while :; do sleep 0.05; done"
        with self.running(["sh", "-c", app], "--record-interval", "0") as proc:
            self.assertEqual(proc.stdout.readline().strip(), b"ready")
            proc.send_signal(signal.SIGTERM)
            self.assertTrue(wait_until(lambda: self.first_line().startswith("stopping: SIGTERM forwarded at"),
                                       timeout=0.9))
            self.assertEqual(proc.wait(timeout=10), 0)
        self.assertRegex(self.first_line(), r"^exit 0 after")


class History(RunTestCase):
    def test_history_counts_previous_runs(self):
        history = os.path.join(self.dir, "history")  # made by run on first use
        for code in (1, 2):
            self.run_hg(["sh", "-c", f"exit {code}"], "--history", history)
        result = self.run_hg(["sh", "-c", "exit 3"], "--history", history)
        self.assertEqual(result.returncode, 3)
        self.assertRegex(self.first_line(), r"; 3rd exit in [\d.]+m?s; previous: exit 2, exit 1$")

    def test_a_run_killed_with_healthgate_is_remembered(self):
        history = os.path.join(self.dir, "history")
        os.mkdir(history)
        proc = self.start_hg(["sh", "-c", "echo up; exec sleep 30"], "--history", history)
        self.assertEqual(proc.stdout.readline().strip(), b"up")
        app = children_of(proc.pid)
        proc.kill()  # healthgate first, so it cannot write a final record
        proc.communicate()
        for pid, _ in app:
            os.kill(pid, signal.SIGKILL)
        self.run_hg(["sh", "-c", "exit 1"], "--history", history)
        self.assertRegex(self.first_line(), r"; 2nd exit in .*; previous: killed(, | at \d+% of limit, )no final record$")

    def test_history_stays_bounded(self):
        history = os.path.join(self.dir, "history")
        os.mkdir(history)
        for _ in range(14):
            self.run_hg(["true"], "--history", history)
        with open(os.path.join(history, "healthgate-runs")) as f:
            self.assertEqual(len(f.read().splitlines()), 10)


class MemoryCgroup:
    """A fresh memory cgroup (v2 if it has the controller, else v1), removed on close."""

    def __init__(self, limit_bytes):
        self.path = None
        self.version = None
        reasons = []
        name = f"hg-test-{os.getpid()}-{time.monotonic_ns()}"
        for version, parent in self.parents():
            try:
                path = os.path.join(parent, name)
                os.mkdir(path)
            except OSError as e:
                reasons.append(f"v{version} {parent}: mkdir: {e.strerror}")
                continue
            try:
                if version == 2:
                    self.write(path, "memory.max", limit_bytes)
                    self.write(path, "memory.swap.max", 0, optional=True)
                else:
                    self.write(path, "memory.limit_in_bytes", limit_bytes)
                    self.write(path, "memory.memsw.limit_in_bytes", limit_bytes, optional=True)
                self.path, self.version = path, version
                return
            except OSError as e:
                reasons.append(f"v{version} {path}: {e.strerror}")
                os.rmdir(path)
        raise unittest.SkipTest("cannot create a memory cgroup here: " + ("; ".join(reasons) or "no cgroup mount"))

    @staticmethod
    def write(path, name, value, optional=False):
        try:
            with open(os.path.join(path, name), "w") as f:
                f.write(str(value))
        except OSError:
            if not optional:
                raise

    @staticmethod
    def parents():
        """Our own cgroup directories on the v2 and v1 memory mounts."""
        with open("/proc/self/cgroup") as f:
            cgroups = [line.rstrip("\n").split(":", 2) for line in f]
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split() for line in f]
        found = []
        for fields in mounts:
            dash = fields.index("-")
            fstype, options, root, point = fields[dash + 1], fields[dash + 3], fields[3], fields[4]
            for hierarchy, controllers, path in cgroups:
                v2 = fstype == "cgroup2" and hierarchy == "0"
                v1 = fstype == "cgroup" and "memory" in controllers.split(",") and "memory" in options.split(",")
                if not (v1 or v2):
                    continue
                relative = path[len(root):] if root != "/" and path.startswith(root) else path
                directory = point + relative
                if v2:
                    try:
                        with open(os.path.join(directory, "cgroup.controllers")) as c:
                            if "memory" not in c.read().split():
                                continue
                        with open(os.path.join(directory, "cgroup.subtree_control"), "w") as c:
                            c.write("+memory")
                    except OSError:
                        continue
                found.append((2 if v2 else 1, directory))
        found.sort()
        found.reverse()  # v2 first
        return found

    def join(self):
        """For preexec_fn: move the calling (child) process into the cgroup."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def close(self):
        if not self.path:
            return
        procs = os.path.join(self.path, "cgroup.procs")
        for _ in range(100):
            try:
                with open(procs) as f:
                    pids = [int(p) for p in f.read().split()]
            except OSError:
                pids = []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.05)


class OutOfMemory(RunTestCase):
    LIMIT = 64 * MIB

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("creating a memory cgroup needs root")
        if os.environ.get("HEALTHGATE_SANITIZED"):
            self.skipTest("an ASan build's own shadow memory and allocator would fill the 64 MiB cgroup")
        self.cgroup = MemoryCgroup(self.LIMIT)
        self.addCleanup(self.cgroup.close)

    def run_in_cgroup(self, command, *flags):
        return subprocess.run([HG, "run", "--termination-log", self.log, *flags, "--", *command],
                              capture_output=True, timeout=120, preexec_fn=self.cgroup.join)

    def test_oom_killed_app(self):
        result = self.run_in_cgroup([PY, "-c", HOG])
        self.assertEqual(result.returncode, 137, result.stderr)
        line = self.first_line()
        self.assertRegex(line, r"^OOMKilled: peak [\d.]+Mi of 64Mi limit \((\d+\.\d)%\) after")
        percent = float(line.split("(")[1].split("%")[0])
        self.assertGreaterEqual(percent, 90.0, line)
        message = self.message()
        self.assertIn("signal: SIGKILL (exit code 137)", message)
        self.assertIn("OOM kills: 1 (the app)", message)
        self.assertIn(f"source: cgroup v{self.cgroup.version} {self.cgroup.path}", message)
        self.assertIn("hint: the app reached its memory limit", message)

    def test_child_oom_killed_while_the_app_lives(self):
        app = f"{PY} -c '{HOG}'; echo child-status=$?; sleep 1.6; exit 3"
        result = self.run_in_cgroup(["sh", "-c", app])
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn(b"child-status=137", result.stdout)
        self.assertRegex(self.first_line(), r"^exit 3 after [\d.]+s, a child process was OOM-killed at peak [\d.]+Mi of 64Mi")
        self.assertIn("OOM kills: 1 (1 child process while the app ran)", self.message())
        # By default nothing of run's is added to the app's streams: the
        # record says it. At --log-level info it is logged when it happens.
        self.assertNotIn(b"OOM-killed", result.stderr)
        result = self.run_in_cgroup(["sh", "-c", app], "--log-level", "info")
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn(b"a child process was OOM-killed; the app lives on", result.stderr)

    def test_sigkill_from_elsewhere_is_not_oom(self):
        result = self.run_in_cgroup(["sh", "-c", "kill -KILL $$"])
        self.assertEqual(result.returncode, 137)
        self.assertIn("not an OOM kill", self.first_line())
        self.assertIn("OOM kills: 0", self.message())

    def test_flight_record_carries_peak_and_limit(self):
        app = f"{PY} -c 'b = b\"x\" * (24 << 20); print(\"holding\", flush=True); import time; time.sleep(30)'"
        proc = subprocess.Popen([HG, "run", "--termination-log", self.log, "--record-interval", "200ms", "--",
                                 "sh", "-c", app], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=self.cgroup.join)
        try:
            self.assertEqual(proc.stdout.readline().strip(), b"holding")
            # Holding 24 MiB raised the peak well past 5% of the limit: rewritten within a sample.
            pattern = re.compile(r"^still running at .*: peak (2[4-9]|[3-6]\d)(\.\d)?Mi of 64Mi limit")
            ok = wait_until(lambda: pattern.match(self.first_line()), timeout=2)
            self.assertTrue(ok, self.first_line())
        finally:
            self.cgroup.close()  # SIGKILLs everything inside: the container's end
            proc.wait(timeout=10)
            proc.communicate()
        self.assertRegex(self.first_line(), r"^still running at .*: peak [\d.]+Mi of 64Mi limit")


class MemoryWithoutCgroup(RunTestCase):
    def test_ru_maxrss_fallback_names_its_source(self):
        app = "b = b'x' * (40 << 20)"
        result = self.run_hg([PY, "-c", app], "--cgroup", "none")
        self.assertEqual(result.returncode, 0)
        message = self.message()
        self.assertIn("source: ru_maxrss", message)
        peak = message.split("memory: peak ", 1)[1].split(";")[0]
        self.assertTrue(peak.endswith("Mi"), peak)
        self.assertGreaterEqual(float(peak[:-2]), 40)
        self.assertIn("OOM kills: unknown", message)


def pid1_works():
    return (shutil.which("unshare") is not None and
            subprocess.run(["unshare", "--fork", "--pid", "--mount-proc", "true"], capture_output=True).returncode == 0)


class BothModes(RunTestCase):
    """Runs each test with healthgate as a normal process and as PID 1 of a
    new PID namespace (that half skipped with the reason where it cannot be made)."""

    def modes(self):
        yield "process", []
        if pid1_works():
            yield "pid 1", ["unshare", "--fork", "--pid", "--mount-proc"]
        else:
            print("skipping the PID 1 half: unshare --pid needs root here", file=sys.stderr)

    def hg_argv(self, prefix, command, *flags):
        return [*prefix, HG, "run", "--termination-log", self.log, *flags, "--", *command]

    def hg_pid(self, proc, prefix):
        """healthgate's pid: the process itself, or unshare's child."""
        if not prefix:
            return proc.pid
        found = wait_until(lambda: children_of(proc.pid))
        self.assertTrue(found, "unshare started no healthgate")
        return found[0][0]


class AsWithoutUs(BothModes):
    """What tini and dumb-init get right, and the app must not tell apart."""

    def test_closed_stdout_ends_the_app_with_sigpipe_at_once(self):
        for mode, prefix in self.modes():
            with self.subTest(mode=mode):
                started = time.monotonic()
                # A first line on its own, then a flood: run quotes a small write whole, while a
                # large chunk's bulk may go straight out unquoted, so only the first line is sure
                # to be in the tail whatever the timing.
                argv = self.hg_argv(prefix, ["sh", "-c", "echo y; sleep 0.3; exec yes"])
                proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                self.assertEqual(proc.stdout.readline(), b"y\n")
                proc.stdout.close()
                self.assertEqual(proc.wait(timeout=10), 141)
                self.assertLess(time.monotonic() - started, 5)
                self.assertEqual(proc.stderr.read(), b"")
                proc.stderr.close()
                self.assertIn("SIGPIPE", self.message())
                self.assertIn("\n  y", self.message())  # the tail captured before is kept
        # The shell pipeline of the issue, as tini gives it.
        result = subprocess.run(["bash", "-c", f"{HG} run --termination-log none -- yes | head -1; "
                                 "echo status=${PIPESTATUS[0]}"], capture_output=True, timeout=20)
        self.assertEqual(result.stdout, b"y\nstatus=141\n")

    def test_closed_stderr_fails_the_apps_writes_too(self):
        app = ("import sys, time\n"
               "try:\n"
               "    while True: sys.stderr.write('e\\n'); sys.stderr.flush(); time.sleep(0.001)\n"
               "except BrokenPipeError:\n"
               "    print('EPIPE', flush=True)\n")
        for mode, prefix in self.modes():
            with self.subTest(mode=mode):
                proc = subprocess.Popen(self.hg_argv(prefix, [PY, "-c", app]), stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
                self.assertEqual(proc.stderr.readline(), b"e\n")
                proc.stderr.close()
                out, _ = proc.communicate(timeout=10)
                self.assertIn(b"EPIPE", out)

    def test_one_file_for_both_streams_keeps_their_order(self):
        app = ["sh", "-c", "echo 1; echo 2 >&2; echo 3; echo 4 >&2"]
        for mode, prefix in self.modes():
            with self.subTest(mode=mode):
                for _ in range(20):
                    result = subprocess.run(self.hg_argv(prefix, app), stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, timeout=20)
                    self.assertEqual(result.stdout, b"1\n2\n3\n4\n")
                self.assertIn("  1\n  2\n  3\n  4", self.message())
        # Two files stay two streams.
        result = self.run_hg(app)
        self.assertEqual((result.stdout, result.stderr), (b"1\n3\n", b"2\n4\n"))

    def test_by_default_nothing_of_ours_in_the_apps_streams(self):
        app = ["sh", "-c", "echo out; echo err >&2; exit 3"]
        for mode, prefix in self.modes():
            with self.subTest(mode=mode):
                result = subprocess.run(self.hg_argv(prefix, app), capture_output=True, timeout=20)
                self.assertEqual((result.returncode, result.stdout, result.stderr), (3, b"out\n", b"err\n"))
                self.assertRegex(self.first_line(), r"^exit 3 after .*: last output: err$")

    def test_a_long_last_line_is_quoted_by_its_end(self):
        line = '{"msg":"request failed","body":"' + "b" * 3000 + '","error":"disk full"}'
        for mode, prefix in self.modes():
            with self.subTest(mode=mode):
                result = subprocess.run(self.hg_argv(prefix, ["sh", "-c", f"echo '{line}'; exit 1"]),
                                        capture_output=True, timeout=20)
                self.assertEqual(result.returncode, 1)
                message = self.message()
                self.assertLessEqual(len(message.encode()), 4096)
                self.assertRegex(self.first_line(), r'…b+","error":"disk full"}$')
                self.assertIn("b" * 2900 + '","error":"disk full"}', message)

    PRINT_SIGNALS = r"""
import os, signal
for number in range(1, 32):
    if number not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
        signal.signal(number, lambda n, f: os.write(1, b"%d\n" % n))
os.write(1, b"ready\n")
while True:
    signal.pause()
"""

    @contextlib.contextmanager
    def print_signals(self, prefix):
        proc = subprocess.Popen(self.hg_argv(prefix, [PY, "-c", self.PRINT_SIGNALS]), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, bufsize=0)
        try:
            self.assertEqual(proc.stdout.readline(), b"ready\n")
            yield proc, self.hg_pid(proc, prefix)
        finally:
            # The app first: it would keep our pipes open after healthgate's death.
            for pid in [pid for child, _ in children_of(proc.pid) for pid in (child, *[p for p, _ in children_of(child)])]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.communicate()

    def state(self, pid):
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2]

    def test_kill_sent_fault_signals_are_forwarded(self):
        faults = (signal.SIGILL, signal.SIGTRAP, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGSEGV,
                  signal.SIGSYS)
        for mode, prefix in self.modes():
            with self.subTest(mode=mode), self.print_signals(prefix) as (proc, hg):
                for signum in faults:
                    os.kill(hg, signum)
                    self.assertEqual(proc.stdout.readline(), b"%d\n" % signum, signal.Signals(signum).name)
                self.assertIsNone(proc.poll())

    def test_job_control_signals_are_forwarded_then_we_stop(self):
        for mode, prefix in self.modes():
            with self.subTest(mode=mode), self.print_signals(prefix) as (proc, hg):
                for signum in (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
                    os.kill(hg, signum)
                    self.assertEqual(proc.stdout.readline(), b"%d\n" % signum)
                    if mode == "process":
                        self.assertTrue(wait_until(lambda: self.state(hg) == "T", 3), "healthgate did not stop")
                    else:  # PID 1 does not stop itself (the kernel would not let it)
                        self.assertNotEqual(self.state(hg), "T")
                    os.kill(hg, signal.SIGCONT)
                    self.assertEqual(proc.stdout.readline(), b"%d\n" % signal.SIGCONT)
                    self.assertTrue(wait_until(lambda: self.state(hg) in "RS", 3))

    def test_signals_our_parent_ignored_stay_ignored_and_blocked_stay_blocked(self):
        def setup():
            for signum in (signal.SIGTTOU, signal.SIGTTIN, signal.SIGUSR1):
                signal.signal(signum, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
        for mode, prefix in self.modes():
            with self.subTest(mode=mode):
                result = subprocess.run(self.hg_argv(prefix, ["cat", "/proc/self/status"]), capture_output=True,
                                        preexec_fn=setup, timeout=20)
                fields = dict(l.split(":\t") for l in result.stdout.decode().splitlines() if ":\t" in l)
                ignored, blocked = int(fields["SigIgn"], 16), int(fields["SigBlk"], 16)
                for signum in (signal.SIGTTOU, signal.SIGTTIN, signal.SIGUSR1):
                    self.assertTrue(ignored & (1 << (signum - 1)), f"{signal.Signals(signum).name} not ignored")
                self.assertTrue(blocked & (1 << (signal.SIGUSR2 - 1)), "SIGUSR2 not blocked")
                self.assertFalse(ignored & (1 << (signal.SIGTERM - 1)))

    def test_signal_group_ends_the_rest_of_the_group_when_the_app_exits(self):
        # A member that exits on SIGTERM, and one that ignores it and gets
        # SIGKILL after the grace (2 s).
        app = ("sleep 30 & (trap 'echo term-ignored' TERM; while :; do sleep 0.05; done) & "
               "echo pids $! ; sleep 0.3")
        for mode, prefix in self.modes():
            with self.subTest(mode=mode):
                started = time.monotonic()
                result = subprocess.run(self.hg_argv(prefix, ["sh", "-c", app], "--signal-group"),
                                        capture_output=True, timeout=20)
                elapsed = time.monotonic() - started
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn(b"term-ignored", result.stdout)
                self.assertGreater(elapsed, 1.8)
                self.assertLess(elapsed, 8)
                if not prefix:
                    survivor = int(result.stdout.split(b"pids ")[1].split()[0])
                    self.assertFalse(os.path.exists(f"/proc/{survivor}"), "the TERM-ignoring member survived")
        # Without a TERM-ignoring member it ends as soon as the group is gone.
        started = time.monotonic()
        result = self.run_hg(["sh", "-c", "sleep 30 & sleep 0.2"], "--signal-group")
        self.assertEqual(result.returncode, 0)
        self.assertLess(time.monotonic() - started, 1.8)


class OnATerminal(BothModes):
    """The app gets our terminal itself (python pty as the terminal)."""

    def pty_run(self, argv, send=b"", timeout=10.0):
        code, output, arrivals = peers.pty_run(argv, send, timeout, output_processing=True)
        return code, output.replace(b"\r\n", b"\n"), arrivals

    def test_the_app_gets_the_terminal_in_the_foreground(self):
        app = "test -t 0 && test -t 1 && test -t 2 && echo all-terminal; ps -o stat= -p $$"
        for mode, prefix in self.modes():
            with self.subTest(mode=mode):
                code, output, _ = self.pty_run(self.hg_argv(prefix, ["sh", "-c", app]))
                self.assertEqual(code, 0, output)
                self.assertIn(b"all-terminal\n", output)
                self.assertIn(b"+", output.split(b"all-terminal\n")[1], "not the foreground process group")
                self.assertIn("output on a terminal is not quoted", self.message())

    def test_an_interactive_shell_has_job_control(self):
        for mode, prefix in self.modes():
            with self.subTest(mode=mode):
                code, output, _ = self.pty_run(["env", "PS1=prompt$ ", *self.hg_argv(prefix, ["bash", "--norc", "-i"])],
                                               send=b'echo "flags [[$-]]"\nsleep 0.1 & fg\nexit 0\n')
                self.assertEqual(code, 0, output)
                self.assertIn(b"prompt$ ", output)
                self.assertRegex(output, rb"flags \[\[[a-zA-Z]*m[a-zA-Z]*\]\]")
                self.assertNotIn(b"no job control", output)
                self.assertNotIn(b"cannot set terminal process group", output)

    def test_a_python_app_is_line_buffered(self):
        app = [PY, "-c", "import time; print('first'); time.sleep(1.5); print('second')"]
        for mode, prefix in self.modes():
            with self.subTest(mode=mode):
                code, output, arrivals = self.pty_run(self.hg_argv(prefix, app))
                self.assertEqual((code, output), (0, b"first\nsecond\n"))
                first = next(at for at, chunk in arrivals if b"first" in chunk)
                self.assertLess(first, 1.2, "the first line waited for the app's exit")


if __name__ == "__main__":
    unittest.main()
