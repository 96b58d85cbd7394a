"""Black-box tests of `healthgate probe` (the exec probe) against real peers on loopback."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from peers import BlackholeListener, HttpServer, TcpListener, UnixListener, binary, free_port, run


def refused_url():
    return "tcp://127.0.0.1:%d" % free_port()


def temp_dir(test, prefix="hg-probe-"):
    """A directory removed after the test."""
    d = tempfile.mkdtemp(prefix=prefix)
    test.addCleanup(shutil.rmtree, d, True)
    return d


def traced_probe(test, calls, args, **kwargs):
    """Runs `healthgate probe ARGS` under strace -f -e trace=CALLS; returns (result, trace text)."""
    trace = os.path.join(temp_dir(test, "hg-probe-trace-"), "trace")
    result = subprocess.run(["strace", "-f", "-qq", "-o", trace, "-e", "trace=" + calls, binary(), "probe", *args],
                            capture_output=True, text=True, timeout=20, **kwargs)
    with open(trace) as f:
        return result, f.read()


class ProbeOutput(unittest.TestCase):
    def test_healthy_target_exits_0_with_one_ok_line(self):
        srv = HttpServer((200, "ok"))
        self.addCleanup(srv.stop)
        r = run(["probe", srv.url("/healthz")], timeout=10)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "[+]%s ok\n" % srv.url("/healthz"))
        self.assertEqual(r.stderr, "")
        self.assertEqual(srv.hits("/healthz"), 1)  # one attempt, no retry

    def test_every_target_gets_a_line_in_order_and_one_failure_means_exit_1(self):
        ok = HttpServer((200, "ok"))
        self.addCleanup(ok.stop)
        broken = HttpServer((500, "database is down"))
        self.addCleanup(broken.stop)
        tcp = TcpListener()
        self.addCleanup(tcp.stop)
        refused = refused_url()
        r = run(["probe", ok.url("/healthz"), refused, broken.url("/ready"), tcp.url], timeout=10)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 4, r.stdout)
        self.assertEqual(lines[0], "[+]%s ok" % ok.url("/healthz"))
        self.assertTrue(lines[1].startswith("[-]%s failed: " % refused), lines[1])
        self.assertIn("connection refused", lines[1])
        self.assertTrue(lines[2].startswith("[-]%s failed: " % broken.url("/ready")), lines[2])
        self.assertIn("500", lines[2])
        self.assertEqual(lines[3], "[+]%s ok" % tcp.url)

    def test_target_options_and_name(self):
        srv = HttpServer((200, "warming up"))
        self.addCleanup(srv.stop)
        r = run(["probe", srv.url("/healthz") + "#body=ready&name=app"], timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stdout.startswith("[-]app failed: "), r.stdout)
        self.assertIn("body", r.stdout)

    def test_other_kinds(self):
        d = temp_dir(self)
        heartbeat = os.path.join(d, "heartbeat")
        with open(heartbeat, "w") as f:
            f.write("x")
        sock = UnixListener(os.path.join(d, "app.sock"))
        self.addCleanup(sock.stop)
        r = run(["probe", "file://" + heartbeat, sock.url, "file://" + os.path.join(d, "missing")], timeout=10)
        self.assertEqual(r.returncode, 1)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0], "[+]file://%s ok" % heartbeat)
        self.assertEqual(lines[1], "[+]%s ok" % sock.url)
        self.assertIn("missing", lines[2])


class Deadline(unittest.TestCase):
    def test_a_server_that_never_answers_fails_within_the_deadline_with_the_reason(self):
        hole = BlackholeListener()
        self.addCleanup(hole.stop)
        url = "http://127.0.0.1:%d/healthz" % hole.port
        r = run(["probe", "--timeout", "300ms", url], timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertLess(r.duration, 2.0)
        self.assertTrue(r.stdout.startswith("[-]%s failed: " % url), r.stdout)
        self.assertIn("timeout", r.stdout)

    def test_default_deadline_answers_before_the_kubelets_1s(self):
        hole = BlackholeListener()
        self.addCleanup(hole.stop)
        r = run(["probe", "http://127.0.0.1:%d/" % hole.port], timeout=10)
        self.assertEqual(r.returncode, 1)
        # Default 700ms, so the kubelet (1s) sees our reason, not "timed out";
        # the upper bound is wide because the machine may be busy.
        self.assertGreater(r.duration, 0.6)
        self.assertLess(r.duration, 2.0)
        self.assertIn("timeout", r.stdout)

    def test_targets_run_in_parallel_under_one_deadline(self):
        holes = [BlackholeListener() for _ in range(8)]
        for h in holes:
            self.addCleanup(h.stop)
        r = run(["probe", "--timeout", "400ms"] + ["http://127.0.0.1:%d/" % h.port for h in holes], timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stdout.splitlines()), 8)
        self.assertLess(r.duration, 2.4)  # 8 x 400ms one after another would be 3.2s

    def test_a_target_timeout_shortens_its_attempt_but_never_extends_the_deadline(self):
        hole = BlackholeListener()
        self.addCleanup(hole.stop)
        url = "http://127.0.0.1:%d/" % hole.port
        short = run(["probe", "--timeout", "5s", url + "#timeout=200ms"], timeout=10)
        self.assertEqual(short.returncode, 1)
        self.assertLess(short.duration, 2.0)
        capped = run(["probe", "--timeout", "300ms", url + "#timeout=5s"], timeout=10)
        self.assertEqual(capped.returncode, 1)
        self.assertLess(capped.duration, 2.5)

    def test_timeout_from_the_environment(self):
        hole = BlackholeListener()
        self.addCleanup(hole.stop)
        r = run(["probe", "http://127.0.0.1:%d/" % hole.port], env={"HEALTHGATE_PROBE_TIMEOUT": "2500ms"}, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertGreater(r.duration, 2.4)  # not the default 700ms


class OutputSize(unittest.TestCase):
    def test_output_stays_under_10_KiB_and_keeps_failures(self):
        port = free_port()
        targets = ["tcp://127.0.0.1:%d#name=%s-%03d" % (port, "x" * 150, i) for i in range(120)]
        srv = HttpServer((200, "ok"))
        self.addCleanup(srv.stop)
        targets.append(srv.url("/"))
        r = run(["probe", "--timeout", "2s"] + targets, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertLess(len(r.stdout.encode()), 10 * 1024)
        self.assertTrue(r.stdout.startswith("[-]" + "x" * 150 + "-000 failed: "), r.stdout[:300])
        self.assertIn("more failed\n", r.stdout)
        self.assertTrue(r.stdout.endswith("[+]1 more ok\n"), r.stdout[-200:])


class UsageErrors(unittest.TestCase):
    def assert_usage(self, args, text, env=None):
        r = run(["probe"] + args, env=env, timeout=10)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(text, r.stderr)
        self.assertEqual(r.stdout, "")

    def test_usage_errors_exit_2_naming_the_problem(self):
        self.assert_usage([], "no targets given")
        self.assert_usage(["tcp://db"], 'invalid target "tcp://db": missing port')
        self.assert_usage(["ftp://x/"], 'unknown scheme "ftp"')
        self.assert_usage(["--timeout", "soon", "tcp://127.0.0.1:1"], "--timeout: invalid duration")
        self.assert_usage(["--timeout", "0", "tcp://127.0.0.1:1"], "--timeout: must be positive")
        self.assert_usage(["--bogus", "tcp://127.0.0.1:1"], "unknown flag --bogus")
        self.assert_usage(["tcp://127.0.0.1:1"], "HEALTHGATE_PROBE_TIMEOUT", env={"HEALTHGATE_PROBE_TIMEOUT": "x"})

    def test_an_explicit_resolver_config_is_checked_even_when_no_name_is_looked_up(self):
        bad = os.path.join(temp_dir(self), "resolv.conf")
        with open(bad, "w") as f:
            f.write("nameserver 10.0.0.1\nnameserver nope\n")
        self.assert_usage(["--resolv-conf", bad, "tcp://127.0.0.1:1"], bad + ":2:")
        self.assert_usage(["tcp://127.0.0.1:1"], bad + ":2:", env={"HEALTHGATE_RESOLV_CONF": bad})

    def test_help(self):
        r = run(["probe", "--help"], timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertIn("Exit codes:", r.stdout)
        self.assertIn("livenessProbe:", r.stdout)


class Footprint(unittest.TestCase):
    @unittest.skipUnless(shutil.which("strace"), "strace not installed")
    def test_it_starts_no_process_or_thread_and_leaves_no_file(self):
        srv = HttpServer((200, "ok"))
        self.addCleanup(srv.stop)
        d = temp_dir(self, "hg-probe-cwd-")
        p, calls = traced_probe(self, "process,creat,open,openat,mkdir,unlink", [srv.url("/"), refused_url()],
                                cwd=d, env=dict(os.environ, TMPDIR=d))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        for forbidden in ("clone(", "clone3(", "fork(", "vfork("):
            self.assertNotIn(forbidden, calls)
        self.assertEqual(calls.count("execve("), 1, calls)
        for line in calls.splitlines():
            if "O_CREAT" in line or "creat(" in line or "mkdir(" in line or "unlink(" in line:
                self.fail("probe created or removed a file: " + line)
        self.assertEqual(os.listdir(d), [])

    @unittest.skipUnless(shutil.which("strace"), "strace not installed")
    def test_resolv_conf_is_read_only_when_a_name_is_looked_up(self):
        tcp = TcpListener()
        self.addCleanup(tcp.stop)

        def opened(*targets):
            p, calls = traced_probe(self, "open,openat", targets)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            return calls

        # IP literals and local paths: nothing to look up, so nothing to read.
        self.assertNotIn("resolv.conf", opened("tcp://127.0.0.1:%d" % tcp.port, "file://" + os.path.abspath(__file__)))
        self.assertIn("/etc/resolv.conf", opened("tcp://localhost:%d" % tcp.port))


if __name__ == "__main__":
    unittest.main()
