"""Black-box tests of `healthgate serve` and `healthgate config check` against real peers on loopback."""
import http.client
import json
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import unittest

from peers import HANG, BlackholeListener, HttpServer, Response, TcpListener, free_port, run, spawn, wait_port


def http_get(port, path, method="GET", headers=None, timeout=5.0):
    """(status, headers dict with lower-case names, body str) of one request on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


class Serve:
    """`healthgate serve` with a config file, listening on a free loopback port."""

    def __init__(self, test, config, args=(), env=None):
        self.dir = tempfile.mkdtemp(prefix="hg-serve-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.port = free_port()
        self.config_path = os.path.join(self.dir, "serve.yaml")
        with open(self.config_path, "w") as f:
            # No drain unless the test asks: stopping serve at cleanup is then immediate.
            drain = "" if "drain:" in config else "drain: 0s\n"
            f.write("listen: 127.0.0.1:%d\n" % self.port + drain + config)
        self.proc = spawn(["serve", "--config", self.config_path] + list(args), env=env)
        test.addCleanup(self.proc.stop)
        if not wait_port(self.port, timeout=10):
            r = self.proc.stop()
            test.fail("serve did not listen: rc=%s\n%s" % (r.returncode, r.stderr))

    def get(self, path, **kw):
        return http_get(self.port, path, **kw)

    def status(self, path):
        return self.get(path)[0]

    def json(self, path):
        status, headers, body = self.get(path + ("&" if "?" in path else "?") + "format=json")
        return status, json.loads(body)

    def wait_status(self, path, status, timeout=10.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.get(path)
            if last[0] == status:
                return last
            time.sleep(0.05)
        raise AssertionError("%s did not become %d within %.1fs; last: %r\nlog:\n%s"
                             % (path, status, timeout, last, self.proc.stderr))


class Toggle:
    """An HTTP dependency that can be switched between healthy, failing and hung."""

    def __init__(self, test):
        self.mode = "ok"
        self.srv = HttpServer(self._answer)
        test.addCleanup(self.srv.stop)

    def _answer(self, request):
        if self.mode == "hang":
            return HANG
        return (200, "ok") if self.mode == "ok" else (503, "down for maintenance")

    def url(self, path="/"):
        return self.srv.url(path)


class DependencySemantics(unittest.TestCase):
    def test_a_dependency_that_goes_down_and_back_moves_readyz_never_livez(self):
        app = HttpServer((200, "ok"))
        self.addCleanup(app.stop)
        db = TcpListener()
        self.addCleanup(db.stop)
        s = Serve(self, """
defaults: {interval: 200ms, timeout: 150ms}
checks:
  - {name: app, target: "%s", probes: [liveness]}
  - {name: db, target: "%s", probes: [readiness], failure_threshold: 3, success_threshold: 2}
""" % (app.url("/healthz"), db.url))
        s.wait_status("/readyz", 200)
        live_statuses = []
        stop_sampling = threading.Event()

        def sample_livez():
            while not stop_sampling.is_set():
                live_statuses.append(s.status("/livez"))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample_livez, daemon=True)
        sampler.start()
        try:
            db.stop()
            status, _, body = s.wait_status("/readyz", 503)
            self.assertIn("[-]db failed: ", body)
            self.assertIn("connection refused", body)
            self.assertIn("readyz check failed", body)
            # Hysteresis down: it took failure_threshold failures in a row.
            _, state = s.json("/readyz/db")
            self.assertEqual(state["checks"][0]["health"], "down")
            self.assertGreaterEqual(state["checks"][0]["consecutive_failures"], 3)

            db2 = TcpListener(port=db.port)
            self.addCleanup(db2.stop)
            s.wait_status("/readyz", 200)
            _, state = s.json("/readyz/db")
            self.assertGreaterEqual(state["checks"][0]["consecutive_successes"], 2)  # hysteresis up
        finally:
            stop_sampling.set()
            sampler.join()
        self.assertGreater(len(live_statuses), 10)
        self.assertEqual(set(live_statuses), {200})
        log = s.proc.stderr
        self.assertIn("check state changed", log)
        self.assertRegex(log, r"check=db from=up to=down reason=\"[^\"]*connection refused")
        self.assertIn("check=db from=down to=up", log)

    def test_hysteresis_keeps_readyz_up_through_a_blip_shorter_than_the_threshold(self):
        dep = Toggle(self)
        s = Serve(self, """
checks:
  - {name: dep, target: "%s", probes: [readiness], interval: 300ms, timeout: 200ms, failure_threshold: 4}
""" % dep.url())
        s.wait_status("/readyz", 200)
        dep.mode = "fail"
        time.sleep(0.45)  # one or two failed attempts, fewer than 4
        status, state = s.json("/readyz")
        dep.mode = "ok"
        self.assertEqual(status, 200, state)
        self.assertGreaterEqual(state["checks"][0]["consecutive_failures"], 1)

    def test_startup_latches(self):
        d = tempfile.mkdtemp(prefix="hg-serve-startup-")
        self.addCleanup(shutil.rmtree, d, True)
        marker = os.path.join(d, "started")
        app = HttpServer((200, "ok"))
        self.addCleanup(app.stop)
        s = Serve(self, """
defaults: {interval: 150ms, timeout: 100ms, failure_threshold: 1}
checks:
  - {name: started, target: "file://%s", probes: [startup, liveness]}
  - {name: app, target: "%s", probes: [readiness]}
""" % (marker, app.url()))
        time.sleep(0.5)
        status, _, body = s.get("/startupz?verbose")
        self.assertEqual(status, 503)
        self.assertIn("[-]started failed: ", body)
        status, _, body = s.get("/readyz")
        self.assertEqual(status, 503)
        self.assertIn("[-]startup failed: startup checks have not passed yet: started", body)
        status, _, body = s.get("/livez?verbose")
        self.assertEqual(status, 200)  # a slow start is not a restart
        self.assertIn("[+]started ok: not judged before startup passed", body)

        with open(marker, "w") as f:
            f.write("1")
        s.wait_status("/startupz", 200)
        s.wait_status("/readyz", 200)
        os.unlink(marker)
        s.wait_status("/livez", 503)  # liveness is judged now...
        for _ in range(5):
            self.assertEqual(s.status("/startupz"), 200)  # ...but startup stays passed
            time.sleep(0.1)
        self.assertIn("startup passed", s.proc.stderr)

    def test_a_dependency_that_accepts_and_never_answers_cannot_keep_the_pod_ready(self):
        dep = Toggle(self)
        s = Serve(self, """
checks:
  - {name: dep, target: "%s", probes: [readiness], interval: 1s, timeout: 900ms, failure_threshold: 2}
""" % dep.url())
        s.wait_status("/readyz", 200)
        dep.mode = "hang"
        started = time.monotonic()
        slowest = 0.0
        while True:
            t0 = time.monotonic()
            status, _, body = s.get("/readyz?verbose")
            slowest = max(slowest, time.monotonic() - t0)
            if status == 503:
                break
            self.assertLess(time.monotonic() - started, 8.0, "still ready while the dependency hangs")
            time.sleep(0.02)
        self.assertIn("[-]dep failed: ", body)
        self.assertIn("timeout", body)
        self.assertLess(slowest, 0.5)  # an endpoint waiting on the check would take 900ms

    def test_results_older_than_interval_plus_timeout_count_as_failed(self):
        # Freeze serve (SIGSTOP) for longer than interval + timeout: when it
        # wakes up, its last results are stale and /readyz says so at once,
        # before the slow dependency has answered the new attempt.
        dep = HttpServer(Response(200, "ok", delay=0.4))
        self.addCleanup(dep.stop)
        s = Serve(self, """
checks:
  - {name: dep, target: "%s", probes: [liveness, readiness], interval: 600ms, timeout: 500ms}
""" % dep.url())
        s.wait_status("/readyz", 200)
        s.proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(2.0)
            result = {}
            askers = [threading.Thread(target=lambda p=p: result.update({p: s.get(p, timeout=10)}), daemon=True)
                      for p in ("/readyz?verbose", "/livez?verbose")]
            for asker in askers:
                asker.start()
            time.sleep(0.2)  # the requests wait in the listen queue
        finally:
            s.proc.send_signal(signal.SIGCONT)
        for asker in askers:
            asker.join(timeout=10)
        status, _, body = result["/readyz?verbose"]
        self.assertEqual(status, 503, body)
        self.assertRegex(body, r"\[-\]dep failed: stale: no new result for 2\.\ds \(interval 600ms \+ timeout 500ms\)")
        status, _, body = result["/livez?verbose"]
        self.assertEqual(status, 503, body)  # a hung check cannot keep liveness green either
        self.assertIn("[-]dep failed: stale", body)
        s.wait_status("/readyz", 200)  # the next result is fresh again

    def test_fifty_checks_on_a_blackhole_do_not_slow_the_endpoints(self):
        hole = BlackholeListener()
        self.addCleanup(hole.stop)
        checks = "".join('  - {name: hole%02d, target: "http://127.0.0.1:%d/", probes: [readiness]}\n' % (i, hole.port)
                         for i in range(50))
        s = Serve(self, "defaults: {interval: 500ms, timeout: 400ms}\nchecks:\n" + checks)
        time.sleep(1.2)
        times = []
        for _ in range(100):
            t0 = time.monotonic()
            self.assertEqual(s.status("/livez"), 200)
            times.append(time.monotonic() - t0)
        times.sort()
        self.assertLess(times[98], 0.5)  # p99 with a very wide margin; the bench measures it properly
        status, _, body = s.get("/readyz")
        self.assertEqual(status, 503)
        self.assertEqual(body.count("[-]hole"), 50)
        self.assertGreaterEqual(hole.connections, 50)


class Drain(unittest.TestCase):
    def config(self, drain):
        self.app = HttpServer((200, "ok"))
        self.addCleanup(self.app.stop)
        return """
drain: %s
defaults: {interval: 200ms, timeout: 100ms}
checks:
  - {name: app, target: "%s", probes: [liveness, readiness]}
""" % (drain, self.app.url())

    def test_sigterm_fails_readiness_at_once_keeps_liveness_then_exits_0(self):
        s = Serve(self, self.config("3s"))
        s.wait_status("/readyz", 200)
        s.proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        status, _, body = s.wait_status("/readyz", 503, timeout=1.5)
        self.assertLess(time.monotonic() - sent, 1.5)  # at once, well before the 3s drain ends
        self.assertIn("[-]shutdown failed: draining after SIGTERM", body)
        for _ in range(5):
            self.assertEqual(s.status("/livez"), 200)
            time.sleep(0.1)
        r = s.proc.wait(timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreater(time.monotonic() - sent, 2.8)
        self.assertLess(time.monotonic() - sent, 8.0)
        self.assertIn("draining", r.stderr)
        self.assertIn("drained: exiting", r.stderr)

    def test_a_second_signal_ends_the_drain(self):
        s = Serve(self, self.config("30s"))
        s.wait_status("/readyz", 200)
        s.proc.send_signal(signal.SIGTERM)
        s.wait_status("/readyz", 503, timeout=1.0)
        s.proc.send_signal(signal.SIGINT)
        r = s.proc.wait(timeout=5)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("second signal", r.stderr)


class Endpoints(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ok = HttpServer((200, "ok"))
        cls.down = TcpListener()
        cls.down.stop()  # a port that refuses

    @classmethod
    def tearDownClass(cls):
        cls.ok.stop()

    def setUp(self):
        self.s = Serve(self, """
defaults: {interval: 200ms, timeout: 150ms, failure_threshold: 1}
checks:
  - {name: app, target: "%s", probes: [liveness, readiness]}
  - {name: db, target: "tcp://127.0.0.1:%d", probes: [readiness]}
containers:
  worker:
    checks:
      - {name: queue, target: "%s", probes: [liveness, readiness]}
""" % (self.ok.url("/healthz"), self.down.port, self.ok.url("/q")))
        # Every check has a first result before the tests look (a pending
        # check answers 503 too, so the status alone does not tell).
        self.s.wait_status("/worker/readyz", 200)
        self.s.wait_status("/readyz/app", 200)
        deadline = time.monotonic() + 10.0
        while "connection refused" not in self.s.get("/readyz/db?verbose")[2]:
            self.assertLess(time.monotonic(), deadline, "db never failed with connection refused")
            time.sleep(0.05)

    def test_plain_verbose_exclude_and_sub_paths(self):
        s = self.s
        self.assertEqual(s.get("/livez")[0::2], (200, "ok"))
        status, headers, body = s.get("/readyz")
        self.assertEqual(status, 503)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        self.assertTrue(body.startswith("[+]app ok\n[-]db failed: "), body)
        self.assertTrue(body.endswith("readyz check failed\n"), body)
        self.assertEqual(s.get("/livez?verbose")[2], "[+]app ok\nlivez check passed\n")
        self.assertEqual(s.get("/readyz?exclude=db")[0::2], (200, "ok"))
        self.assertEqual(s.get("/readyz?exclude=db&verbose")[2],
                         "[+]app ok\n[+]db excluded: ok\nreadyz check passed\n")
        self.assertEqual(s.get("/readyz/app")[0::2], (200, "ok"))
        self.assertEqual(s.status("/readyz/db"), 503)
        self.assertEqual(s.status("/readyz/nosuch"), 404)
        self.assertEqual(s.status("/startupz"), 200)
        self.assertEqual(s.get("/worker/livez?verbose")[2], "[+]queue ok\nlivez check passed\n")
        self.assertEqual(s.status("/worker/readyz/queue"), 200)
        self.assertEqual(s.status("/nobody/readyz"), 404)

    def test_json_on_request(self):
        status, data = self.s.json("/readyz")
        self.assertEqual(status, 503)
        self.assertEqual(data["probe"], "readiness")
        self.assertEqual(data["status"], "failed")
        by_name = {c["name"]: c for c in data["checks"]}
        self.assertEqual(by_name["app"]["status"], "ok")
        db = by_name["db"]
        self.assertEqual(db["status"], "failed")
        self.assertIn("connection refused", db["reason"])
        self.assertEqual(db["health"], "down")
        self.assertGreaterEqual(db["consecutive_failures"], 1)
        self.assertRegex(db["since"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertIn("last_latency_ms", db)
        status, headers, body = self.s.get("/worker/livez", headers={"Accept": "application/json"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(json.loads(body)["container"], "worker")

    def test_metrics(self):
        status, headers, body = self.s.get("/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        self.assertIn('healthgate_check_up{container="",check="app"} 1\n', body)
        self.assertIn('healthgate_check_up{container="",check="db"} 0\n', body)
        self.assertIn('healthgate_check_up{container="worker",check="queue"} 1\n', body)
        self.assertRegex(body, r'healthgate_check_latency_seconds\{container="",check="app"\} \d+\.\d{3}\n')
        self.assertRegex(body, r'healthgate_check_transitions_total\{container="",check="db"\} [1-9]\d*\n')
        self.assertRegex(body, r'healthgate_check_consecutive_failures\{container="",check="db"\} [1-9]\d*\n')
        self.assertIn('healthgate_probe_up{container="",probe="readiness"} 0\n', body)
        self.assertIn('healthgate_probe_up{container="",probe="liveness"} 1\n', body)
        for line in body.splitlines():
            self.assertRegex(line, r'^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? \d+(\.\d+)?)$')

    def test_methods_head_and_keep_alive(self):
        status, headers, body = self.s.get("/livez", method="HEAD")
        self.assertEqual((status, body), (200, ""))
        self.assertEqual(headers["content-length"], "2")
        for method in ("POST", "PUT", "DELETE", "OPTIONS"):
            status, headers, body = self.s.get("/readyz", method=method)
            self.assertEqual(status, 405, method)
            self.assertEqual(headers["allow"], "GET, HEAD")
            self.assertIn("not allowed", body)
        conn = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=5)
        self.addCleanup(conn.close)
        for _ in range(3):  # several requests on one connection
            conn.request("GET", "/livez")
            resp = conn.getresponse()
            self.assertEqual((resp.status, resp.read()), (200, b"ok"))


class MetricsNeverRunChecks(unittest.TestCase):
    def test_scraping_and_probing_do_not_run_checks(self):
        dep = HttpServer((200, "ok"))
        self.addCleanup(dep.stop)
        s = Serve(self, """
checks:
  - {name: dep, target: "%s", probes: [readiness], interval: 30s, timeout: 1s}
""" % dep.url("/dep"))
        s.wait_status("/readyz", 200)
        hits = dep.hits("/dep")
        self.assertEqual(hits, 1)
        for _ in range(30):
            s.get("/metrics")
            s.get("/readyz?verbose")
        self.assertEqual(dep.hits("/dep"), hits)


def raw_exchange(port, data, read_timeout=5.0, pause=None):
    """Sends raw bytes, returns everything read until the server closes (or read_timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    try:
        for chunk in (data if isinstance(data, list) else [data]):
            try:
                s.sendall(chunk)
            except OSError:
                break
            if pause:
                time.sleep(pause)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return out, False
            except ConnectionResetError:
                return out, True
            if not chunk:
                return out, True
            out += chunk
    finally:
        s.close()


class BadRequests(unittest.TestCase):
    def setUp(self):
        self.app = HttpServer((200, "ok"))
        self.addCleanup(self.app.stop)
        self.s = Serve(self, """
request_timeout: 1s
checks:
  - {name: app, target: "%s", probes: [liveness], interval: 1s, timeout: 500ms}
""" % self.app.url(), )
        self.s.wait_status("/livez", 200)

    def assert_still_serving(self):
        self.assertEqual(self.s.get("/livez")[0::2], (200, "ok"))

    def test_garbage_gets_400_and_a_closed_connection(self):
        out, closed = raw_exchange(self.s.port, b"HELLO THERE\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400 "), out)
        self.assertTrue(closed)
        out, closed = raw_exchange(self.s.port, b"GET /livez HTTP/9.9\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400 "), out)
        out, closed = raw_exchange(self.s.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64))
        self.assertTrue(out.startswith(b"HTTP/1.1 400 ") or out == b"", out)
        self.assertTrue(closed)
        self.assert_still_serving()

    def test_oversized_headers_get_431(self):
        out, closed = raw_exchange(self.s.port, b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 431 "), out[:100])
        self.assertTrue(closed)
        self.assert_still_serving()

    def test_oversized_body_gets_413(self):
        out, closed = raw_exchange(self.s.port, b"GET /livez HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
                                   + b"a" * 10000)
        self.assertTrue(out.startswith(b"HTTP/1.1 413 "), out[:100])
        self.assertTrue(closed)
        self.assert_still_serving()

    def test_slow_and_idle_clients_are_cut_off_while_others_are_served(self):
        slow = []
        for _ in range(50):
            c = socket.create_connection(("127.0.0.1", self.s.port), timeout=5)
            c.sendall(b"GET /livez HTTP/1.1\r\nHo")  # never finishes its request
            slow.append(c)
        self.addCleanup(lambda: [c.close() for c in slow])
        t0 = time.monotonic()
        self.assert_still_serving()
        self.assertLess(time.monotonic() - t0, 1.0)
        for c in slow:
            c.settimeout(5)
            self.assertEqual(c.recv(100), b"")  # closed by the server after request_timeout
        self.assertLess(time.monotonic() - t0, 4.0)
        idle = socket.create_connection(("127.0.0.1", self.s.port), timeout=5)
        self.addCleanup(idle.close)
        t1 = time.monotonic()
        self.assertEqual(idle.recv(100), b"")
        self.assertGreater(time.monotonic() - t1, 0.8)
        self.assert_still_serving()

    def test_a_trickling_request_is_bounded_by_one_timeout(self):
        chunks = [b"GET /livez HTTP/1.1\r\n"] + [b"X-Slow: 1\r\n"] * 40
        t0 = time.monotonic()
        out, closed = raw_exchange(self.s.port, chunks, pause=0.1)
        self.assertTrue(closed)
        self.assertEqual(out, b"")
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assert_still_serving()


CONFIG_OK = """
checks:
  - {name: app, target: "http://127.0.0.1:8080/healthz", probes: [startup, liveness]}
  - {name: db, target: "tcp://postgres:5432", probes: [readiness]}
"""


class Config(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hg-serve-config-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, text):
        path = os.path.join(self.dir, "serve.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_config_check_accepts_a_valid_file(self):
        path = self.write(CONFIG_OK)
        r = run(["config", "check", path], timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ok: 2 checks (startup 1, liveness 1, readiness 1)", r.stdout)

    def test_bad_configs_exit_2_naming_file_line(self):
        cases = [
            ("checks:\n  - {name: app, target: 'tcp://127.0.0.1:1'}\nlisten: a: b\n", ":3: YAML syntax error"),
            ("checks:\n  - name: app\n    target: tcp://127.0.0.1:1\n    intervall: 1s\n",
             ':4: unknown key "intervall" in a check'),
            ("checks:\n  - name: cache\n    target: tcp://redis:6379\n    probes: [liveness]\n",
             ':2: check "cache": liveness depends on redis:6379, which is not this pod'),
            ("checks:\n  - {name: a, target: 'tcp://127.0.0.1:1', interval: 1s, timeout: 2s}\n",
             ':2: check "a": timeout 2.0s is longer than interval 1.0s'),
        ]
        for text, expected in cases:
            path = self.write(text)
            for args in (["config", "check", path], ["serve", "--config", path]):
                r = run(args, timeout=10)
                self.assertEqual(r.returncode, 2, (args, r.stderr))
                self.assertIn(path + expected, r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("allow_remote_liveness", run(["config", "check", self.write(cases[2][0])], timeout=10).stderr)

    def test_remote_liveness_opt_in(self):
        path = self.write("checks:\n  - {name: cache, target: 'tcp://redis:6379', probes: [liveness], "
                          "allow_remote_liveness: true}\n")
        self.assertEqual(run(["config", "check", path], timeout=10).returncode, 0)

    def test_the_pods_own_ip_is_local(self):
        path = self.write("checks:\n  - {name: app, target: 'http://10.244.7.9:8080/', probes: [liveness]}\n")
        self.assertEqual(run(["config", "check", path], env={"POD_IP": "10.244.7.9"}, timeout=10).returncode, 0)
        self.assertEqual(run(["config", "check", path], env={"POD_IP": "10.244.7.8"}, timeout=10).returncode, 2)

    def test_usage(self):
        self.assertEqual(run(["config", "check", os.path.join(self.dir, "missing.yaml")], timeout=10).returncode, 2)
        self.assertEqual(run(["config"], timeout=10).returncode, 2)
        self.assertEqual(run(["config", "--help"], timeout=10).returncode, 0)
        self.assertIn("Usage: healthgate config check FILE", run(["config", "check", "--help"], timeout=10).stdout)
        r = run(["serve", "--help"], timeout=10)
        self.assertEqual(r.returncode, 0)
        for text in ("allow_remote_liveness", "/readyz", "Exit codes", "--liveness", "containers:"):
            self.assertIn(text, r.stdout)
        r = run(["serve"], timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no checks configured", r.stderr)

    def test_bind_failure_exits_2_with_the_reason(self):
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = run(["serve", "--listen", "127.0.0.1:%d" % port, "--readiness", "tcp://127.0.0.1:1"], timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot listen on 127.0.0.1:%d: bind: " % port, r.stderr)
        self.assertIn("in use", r.stderr)

    def test_listen_on_every_address_answers_ipv4_and_ipv6(self):
        port = free_port()
        p = spawn(["serve", "--listen", ":%d" % port, "--readiness", "tcp://127.0.0.1:1", "--drain", "0"])
        self.addCleanup(p.stop)
        self.assertTrue(wait_port(port, timeout=10), p.stderr)
        self.assertEqual(http_get(port, "/livez")[0], 200)
        if socket.has_ipv6 and os.path.exists("/proc/net/if_inet6"):
            conn = http.client.HTTPConnection("::1", port, timeout=5)
            self.addCleanup(conn.close)
            conn.request("GET", "/livez")
            self.assertEqual(conn.getresponse().status, 200)
        self.assertIn("listen=[::]:%d" % port, p.stderr)

    def test_flags_and_env_for_simple_cases(self):
        app = HttpServer((200, "ok"))
        self.addCleanup(app.stop)
        port = free_port()
        p = spawn(["serve", "--liveness", app.url("/healthz"), "--interval", "200ms", "--timeout", "100ms",
                   "--drain", "0"],
                  env={"HEALTHGATE_LISTEN": "127.0.0.1:%d" % port, "HEALTHGATE_READINESS": app.url("/ready"),
                       "HEALTHGATE_LOG_FORMAT": "json"})
        self.addCleanup(p.stop)
        self.assertTrue(wait_port(port, timeout=10), p.stderr)
        deadline = time.monotonic() + 5
        while http_get(port, "/readyz")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(http_get(port, "/readyz?verbose")[2],
                         "[+]http:127.0.0.1:%d/ready ok\nreadyz check passed\n" % app.port)
        self.assertEqual(http_get(port, "/livez")[0], 200)
        first = p.stderr.splitlines()[0]
        self.assertEqual(json.loads(first)["msg"], "serving")


if __name__ == "__main__":
    unittest.main()
