"""Black-box tests of what `healthgate inject` wires between the pod's
containers through the shared emptyDir: serve's unix socket answering
`healthgate probe --from unix://...` with its cached [+]/[-] lines, and
serve exporting the `run --history` files of real `run` processes on
/metrics. A real serve, real run processes, a real dependency on loopback,
one shared directory.
"""
import os
import shutil
import socket
import tempfile
import time
import unittest
import urllib.request

from peers import TcpListener, free_port, run, spawn, wait_port


class SocketAndHistories(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hg-pod-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.sock = os.path.join(self.dir, "serve.sock")
        self.dep = TcpListener()
        self.addCleanup(self.dep.stop)
        self.down = TcpListener()
        self.down.stop()  # a port that refuses
        self.port = free_port()

    def serve(self):
        s = spawn(["serve", "--listen", "127.0.0.1:%d" % self.port, "--interval", "200ms", "--timeout", "150ms",
                   "--failure-threshold", "1", "--liveness", "tcp://127.0.0.1:%d" % self.dep.port,
                   "--readiness", "tcp://127.0.0.1:%d" % self.down.port,
                   "--socket", self.sock, "--histories", self.dir, "--drain", "0s"])
        self.addCleanup(s.stop)
        wait_port(self.port)
        return s

    def probe(self, endpoint):
        return run(["probe", "--from", "unix://" + self.sock, endpoint], timeout=10)

    def test_probe_from_prints_the_cached_reason_and_exits_1_then_0(self):
        self.serve()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            r = self.probe("readyz")
            if "connection refused" in r.stdout:
                break
            time.sleep(0.1)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("[-]tcp:127.0.0.1:%d failed: connect 127.0.0.1:%d: connection refused" % (self.down.port, self.down.port),
                      r.stdout)
        live = self.probe("/livez")
        self.assertEqual(live.returncode, 0, live.stdout)
        self.assertIn("[+]tcp:127.0.0.1:%d ok" % self.dep.port, live.stdout)
        self.assertEqual(self.probe("nosuch").returncode, 1)

    def test_no_serve_is_a_failed_probe_naming_the_socket(self):
        r = self.probe("readyz")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout.strip(), "[-]serve failed: connect unix://%s: No such file or directory" % self.sock)
        self.assertEqual(run(["probe", "--from", "http://x", "readyz"]).returncode, 2)

    def test_a_socket_left_by_a_previous_serve_is_replaced_and_anyone_may_connect(self):
        old = socket.socket(socket.AF_UNIX)
        old.bind(self.sock)
        old.close()
        self.serve()
        self.assertEqual(os.stat(self.sock).st_mode & 0o777, 0o666)
        self.assertEqual(self.probe("livez").returncode, 0)

    def test_run_histories_are_exported_on_metrics(self):
        hist = os.path.join(self.dir, "history-app")
        self.assertEqual(run(["run", "--history", hist, "--termination-log", "none", "--", "sh", "-c", "exit 3"]).returncode, 3)
        self.assertEqual(run(["run", "--history", hist, "--termination-log", "none", "--", "sh", "-c", "kill -9 $$"]).returncode,
                         137)
        self.assertEqual(run(["run", "--history", os.path.join(self.dir, "history-worker"), "--termination-log", "none",
                              "--", "true"]).returncode, 0)
        os.mkdir(os.path.join(self.dir, "history-Not_A_Label"))  # ignored: not a container name
        self.serve()
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port, timeout=5) as r:
            text = r.read().decode()
        for line in ('healthgate_container_recent_exits{container="app",verdict="exit_other"} 1',
                     'healthgate_container_recent_exits{container="app",verdict="sigkill_not_oom"} 1',
                     'healthgate_container_recent_exits{container="app",verdict="oom_killed"} 0',
                     'healthgate_container_recent_exits{container="worker",verdict="exit_0"} 1'):
            self.assertIn(line + "\n", text)
        self.assertRegex(text, r'healthgate_container_last_runtime_seconds\{container="app"\} [0-9.]+\n')
        self.assertRegex(text, r'healthgate_container_last_exit_timestamp_seconds\{container="app"\} [0-9.]+\n')
        self.assertNotIn("Not_A_Label", text)


if __name__ == "__main__":
    unittest.main()
