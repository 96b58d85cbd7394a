"""`healthgate serve` keeps answering a fresh client (the kubelet) while other
clients hold connections open: idle ones past the session cap, slowloris
headers, unread bodies. A short version of bench/serve (which runs
slowhttptest and wrk with thousands of connections)."""
import os
import resource
import shutil
import socket
import tempfile
import time
import unittest

from peers import TcpListener, binary, free_port, spawn_argv, wait_port
from test_serve import Serve

CAP = 512  # ServerLimits::max_sessions


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # no TIME_WAIT pile-up
    return s


def fresh_get(port, path, timeout=2.0):
    """(status line, seconds) of a GET on a new connection; raises on no answer."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n")[0].decode(), time.monotonic() - start


def closed_within(sock, seconds):
    """Seconds until the server closed `sock` (reading and dropping what it sends), or None."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < seconds:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - start
    return None


class ServeUnderLoad(unittest.TestCase):
    def setUp(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < 2 * CAP + 200:
            self.skipTest("RLIMIT_NOFILE hard limit %d is too low for %d client sockets" % (hard, 2 * CAP))
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
        self.app = TcpListener()
        self.addCleanup(self.app.stop)
        self.serve = Serve(self, 'checks:\n  - {name: app, target: "%s", probes: [liveness, readiness], interval: 1s}\n'
                           % self.app.url)
        self.serve.wait_status("/readyz", 200)

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.serve.proc.pid))

    def test_fresh_client_is_answered_past_the_session_cap(self):
        held = []
        self.addCleanup(lambda: [s.close() for s in held])
        # Twice the cap of connections that send nothing, and some slowloris
        # ones that send half a request: before, the 257th was closed unanswered.
        for i in range(2 * CAP):
            s = connect(self.serve.port)
            if i % 8 == 0:
                s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-a: ")
            held.append(s)
        time.sleep(0.3)
        slowest = 0.0
        for i in range(20):
            status, took = fresh_get(self.serve.port, "/livez" if i % 2 == 0 else "/readyz")
            self.assertEqual(status, "HTTP/1.1 200 OK")
            slowest = max(slowest, took)
        # Generous for a loaded CI machine; bench/serve measures the 100 ms goal.
        self.assertLess(slowest, 1.0)
        self.assertLess(self.fds(), CAP + 64)

    def test_silent_and_slow_clients_are_closed_before_request_timeout(self):
        silent = connect(self.serve.port)
        self.addCleanup(silent.close)
        slow = connect(self.serve.port)
        self.addCleanup(slow.close)
        slow.sendall(b"GET /livez HTTP/1.1\r\n")
        start = time.monotonic()
        deadline = start + 8
        closed = None
        while time.monotonic() < deadline and closed is None:
            try:
                slow.sendall(b"X-a: b\r\n")  # a header line a second: slowloris
            except OSError:
                closed = time.monotonic() - start
            time.sleep(1)
        # Headers within 3 s of the first bytes, nothing sent within 2 s:
        # both closed long before request_timeout (10 s).
        self.assertIsNotNone(closed, "slowloris connection still open after 8 s")
        self.assertLess(closed, 6)
        self.assertIsNotNone(closed_within(silent, 3.0), "silent connection still open")

    def test_body_is_not_waited_for_when_the_method_needs_none(self):
        s = connect(self.serve.port)
        self.addCleanup(s.close)
        start = time.monotonic()
        s.sendall(b"POST /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n")
        s.settimeout(2)
        self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 405 "))
        self.assertLess(time.monotonic() - start, 1.0)


class ServeWithFewFds(unittest.TestCase):
    """Under a low `ulimit -n` the session cap shrinks to fit: serve never runs
    out of fds (accept failing, checks unable to connect) and keeps answering."""

    NOFILE = 64

    def test_low_nofile_limit_bounds_fds_and_keeps_answering(self):
        if not shutil.which("prlimit"):
            self.skipTest("prlimit (util-linux) is not installed")
        app = TcpListener()
        self.addCleanup(app.stop)
        directory = tempfile.mkdtemp(prefix="hg-serve-fds-")
        self.addCleanup(shutil.rmtree, directory, True)
        port = free_port()
        config = os.path.join(directory, "serve.yaml")
        with open(config, "w") as f:
            f.write('listen: 127.0.0.1:%d\ndrain: 0s\nchecks:\n  - {name: app, target: "%s", '
                    'probes: [liveness, readiness], interval: 200ms, timeout: 150ms}\n' % (port, app.url))
        proc = spawn_argv(["prlimit", "--nofile=%d:%d" % (self.NOFILE, self.NOFILE), binary(), "serve",
                           "--config", config])
        self.addCleanup(proc.stop)
        self.assertTrue(wait_port(port, timeout=10), proc.stderr)
        held = []
        self.addCleanup(lambda: [s.close() for s in held])
        for _ in range(5 * self.NOFILE):
            held.append(connect(port))
        time.sleep(0.5)  # checks keep running meanwhile (interval 200ms)
        most = 0
        for i in range(20):
            status, _ = fresh_get(port, "/livez" if i % 2 == 0 else "/readyz")
            self.assertEqual(status, "HTTP/1.1 200 OK", proc.stderr)
            most = max(most, len(os.listdir("/proc/%d/fd" % proc.pid)))
        self.assertLessEqual(most, self.NOFILE)
        self.assertIsNone(proc.poll())
        self.assertNotIn("Too many open files", proc.stderr)


if __name__ == "__main__":
    unittest.main()
