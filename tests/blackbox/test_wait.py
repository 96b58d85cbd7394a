"""Black-box tests of `healthgate wait` against real peers on loopback."""
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import unittest

from peers import (BlackholeListener, Dnsmasq, HttpServer, TcpListener, UnixListener, free_port, make_certs,
                   resolv_conf, run, spawn)

def wait_for(condition, timeout=3.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


FAST = ["--backoff-initial", "50ms", "--backoff-max", "200ms", "--termination-log", "none"]


class WaitTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hg-wait-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.termlog = os.path.join(self.dir, "termination-log")

    def read_termlog(self):
        with open(self.termlog, "rb") as f:
            data = f.read()
        self.assertLessEqual(len(data), 4096)
        return data.decode("utf-8")  # raises if not valid UTF-8


class TcpAndHttp(WaitTestCase):
    def test_tcp_listener_that_appears_late(self):
        dep = TcpListener(delay=1.5)
        self.addCleanup(dep.stop)
        r = run(["wait", "--timeout", "20s"] + FAST + [dep.url], timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(wait_for(lambda: dep.connections >= 1))  # the accept may trail the connect
        self.assertGreaterEqual(r.duration, 1.4)
        self.assertIn("connection refused", r.stderr)   # the state change is logged...
        self.assertIn("target ready", r.stderr)
        self.assertLess(r.stderr.count("connection refused"), 5)  # ...once, not per attempt

    def test_ipv6_literal_and_localhost(self):
        dep6 = TcpListener(host="::1")
        self.addCleanup(dep6.stop)
        dep4 = TcpListener()
        self.addCleanup(dep4.stop)
        r = run(["wait", "--timeout", "10s"] + FAST +
                ["tcp://[::1]:%d" % dep6.port, "tcp://localhost:%d" % dep4.port], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_http_503_then_200(self):
        srv = HttpServer([(503, "warming up"), (503, "warming up"), (200, "ok")])
        self.addCleanup(srv.stop)
        r = run(["wait", "--timeout", "20s"] + FAST + [srv.url("/healthz?deep=1")], timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(srv.hits(), 3)
        self.assertIn("503", r.stderr)
        self.assertEqual(srv.requests[0].path, "/healthz?deep=1")

    def test_http_options_status_body_method_headers_host(self):
        srv = HttpServer((204, ""), routes={"/ready": (200, '{"status":"UP"}')})
        self.addCleanup(srv.stop)
        url = srv.url("/ready") + "#status=200&body_regex=%22status%22:%20?%22UP%22&method=HEAD&header=X-Probe:%20yes&host=api.internal"
        r = run(["wait", "--timeout", "5s"] + FAST + [url], timeout=20)
        # HEAD has no body: the regex cannot match, so this must time out and say why.
        self.assertEqual(r.returncode, 1, r.stderr)
        req = srv.requests[0]
        self.assertEqual(req.method, "HEAD")
        self.assertEqual(req.headers.get("x-probe"), "yes")
        self.assertEqual(req.headers.get("host"), "api.internal")
        r = run(["wait", "--timeout", "5s"] + FAST + [srv.url("/ready") + "#status=200&body_regex=\"status\":%20?\"UP\""],
                timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(["wait", "--timeout", "2s"] + FAST + [srv.url("/other") + "#status=200"], timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("204", r.stderr)

    def test_http_same_host_redirect_followed(self):
        srv = HttpServer(routes={"/old": (302, "", {"Location": "/new"}), "/new": (200, "arrived")})
        self.addCleanup(srv.stop)
        r = run(["wait", "--timeout", "5s"] + FAST + [srv.url("/old") + "#status=200&body=arrived"], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(srv.hits("/new"), 1)

    def test_read_timeout_is_classified(self):
        hole = BlackholeListener()
        self.addCleanup(hole.stop)
        r = run(["wait", "--timeout", "2s", "--attempt-timeout", "500ms", "--termination-log", self.termlog,
                 "http://127.0.0.1:%d/" % hole.port], timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("read timeout", self.read_termlog())


class Https(WaitTestCase):
    def setUp(self):
        super().setUp()
        self.certs = make_certs(os.path.join(self.dir, "certs"), cn="test.example", san="DNS:test.example")
        self.srv = HttpServer((200, "secure"), tls=self.certs)
        self.addCleanup(self.srv.stop)
        self.url = "https://127.0.0.1:%d/" % self.srv.port

    def test_unknown_ca_fails_verification_with_reason(self):
        r = run(["wait", "--timeout", "2s", "--termination-log", self.termlog] + FAST[:4] + [self.url], timeout=20)
        self.assertEqual(r.returncode, 1)
        message = self.read_termlog()
        self.assertIn("tls", message.lower())
        self.assertIn("certificate", message.lower())

    def test_ca_file_with_sni_override_passes(self):
        r = run(["wait", "--timeout", "5s"] + FAST + [self.url + "#ca=%s&sni=test.example" % self.certs.ca], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_ca_file_without_matching_name_fails(self):
        # The certificate is for test.example, not 127.0.0.1: the name check must fail.
        r = run(["wait", "--timeout", "2s", "--termination-log", self.termlog] + FAST[:4] +
                [self.url + "#ca=%s" % self.certs.ca], timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("tls", self.read_termlog().lower())

    def test_insecure_skips_verification(self):
        r = run(["wait", "--timeout", "5s"] + FAST + [self.url + "#insecure=true&body=secure"], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)


class Dns(WaitTestCase):
    def setUp(self):
        super().setUp()
        self.dns = Dnsmasq(records={"db.ns.svc.cluster.local": "127.0.0.1",
                                    "headless.ns.svc.cluster.local": ["10.1.0.1", "10.1.0.2"]},
                           srv=[("_pg._tcp.db.ns.svc.cluster.local", "db.ns.svc.cluster.local", 5432)])
        self.addCleanup(self.dns.stop)
        self.resolv = self.dns.resolv_conf(self.dir)

    def wait(self, *targets, timeout="3s"):
        return run(["wait", "--timeout", timeout, "--resolv-conf", self.resolv, "--termination-log", self.termlog]
                   + FAST[:4] + list(targets), timeout=30)

    def test_search_list_and_ndots(self):
        dep = TcpListener()
        self.addCleanup(dep.stop)
        r = self.wait("dns://db", "tcp://db:%d" % dep.port, "dns://_pg._tcp.db?type=SRV")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(wait_for(lambda: dep.connections >= 1))

    def test_min_answers_and_expect(self):
        self.assertEqual(self.wait("dns://headless?min=2&expect=10.1.0.2").returncode, 0)
        r = self.wait("dns://headless?min=3", timeout="1s")
        self.assertEqual(r.returncode, 1)
        self.assertIn("at least 3", self.read_termlog())

    def test_no_such_name_names_the_tried_names_and_resolver(self):
        r = self.wait("dns://redis", timeout="1s")
        self.assertEqual(r.returncode, 1)
        message = self.read_termlog()
        self.assertIn("no such name", message)
        self.assertIn("redis.ns.svc.cluster.local", message)
        self.assertIn("ndots 5", message)

    def test_missing_service_behind_a_failing_upstream_is_no_such_name(self):
        # A cluster DNS without upstream: NXDOMAIN for every in-cluster
        # candidate, SERVFAIL for the bare name. The verdict is the missing
        # name, with the differing outcome listed.
        dns = Dnsmasq(servfail=["nosuch-service"])
        self.addCleanup(dns.stop)
        resolv = dns.resolv_conf(self.dir)
        r = run(["wait", "--timeout", "1s", "--resolv-conf", resolv, "--termination-log", self.termlog]
                + FAST[:4] + ["dns://nosuch-service"], timeout=30)
        self.assertEqual(r.returncode, 1)
        message = self.read_termlog()
        first = message.splitlines()[0]
        self.assertTrue(first.startswith("dns://nosuch-service: dns: no such name — not ready after"), first)
        self.assertIn("no such name: tried nosuch-service.ns.svc.cluster.local", message)
        self.assertIn("; nosuch-service: server failure (SERVFAIL)", message)

    def test_trailing_dot_is_absolute(self):
        r = self.wait("dns://db.", timeout="1s")
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("db.ns.svc.cluster.local", self.read_termlog().split("resolver:")[0])

    def test_name_that_appears_late(self):
        proc = spawn(["wait", "--timeout", "15s", "--resolv-conf", self.resolv, "--termination-log", "none"]
                     + FAST[:4] + ["dns://cache"])
        self.addCleanup(proc.stop)
        time.sleep(1.0)
        self.assertIsNone(proc.poll())
        self.dns.add_record("cache.ns.svc.cluster.local", "127.0.0.9")
        r = proc.wait(timeout=15)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_server_unreachable(self):
        dead = resolv_conf(os.path.join(self.dir), free_port(udp_too=True), name="dead.conf",
                           options=("timeout:1", "attempts:1"))
        r = run(["wait", "--timeout", "3s", "--resolv-conf", dead, "--termination-log", self.termlog, "dns://db"],
                timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("unreachable", self.read_termlog())


class FilesAndSockets(WaitTestCase):
    def test_file_that_appears_and_non_empty(self):
        path = os.path.join(self.dir, "ready")
        proc = spawn(["wait", "--timeout", "15s"] + FAST + ["file://%s?non_empty=true" % path])
        self.addCleanup(proc.stop)
        time.sleep(0.5)
        open(path, "w").close()   # exists but empty: still waiting
        time.sleep(0.7)
        self.assertIsNone(proc.poll())
        with open(path, "w") as f:
            f.write("ok")
        r = proc.wait(timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_stale_file(self):
        path = os.path.join(self.dir, "heartbeat")
        open(path, "w").close()
        old = time.time() - 120
        os.utime(path, (old, old))
        r = run(["wait", "--timeout", "1s", "--termination-log", self.termlog, "file://%s?max_age=30s" % path])
        self.assertEqual(r.returncode, 1)
        self.assertIn("stale", self.read_termlog())

    def test_unix_socket_that_appears(self):
        path = os.path.join(self.dir, "app.sock")
        sock = UnixListener(path, delay=1.0)
        self.addCleanup(sock.stop)
        r = run(["wait", "--timeout", "10s"] + FAST + ["unix://" + path], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)


class Lifecycle(WaitTestCase):
    def test_sigterm_exits_at_once_with_128_plus_n_and_a_diagnosis(self):
        proc = spawn(["wait", "--timeout", "60s", "--termination-log", self.termlog,
                      "tcp://127.0.0.1:%d" % free_port()])
        self.addCleanup(proc.stop)
        self.assertTrue(proc.wait_output("target not ready", timeout=5))
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        r = proc.wait(timeout=5)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual(r.returncode, 143)
        self.assertIn("stopped by SIGTERM", self.read_termlog())

    def test_sigint(self):
        proc = spawn(["wait", "--timeout", "60s", "--termination-log", "none", "tcp://127.0.0.1:%d" % free_port()])
        self.addCleanup(proc.stop)
        self.assertTrue(proc.wait_output("target not ready", timeout=5))
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(timeout=5).returncode, 130)

    def test_exec_keeps_argv_exactly_and_the_exit_code(self):
        dep = TcpListener()
        self.addCleanup(dep.stop)
        script = "import json, os, sys; print(json.dumps({'argv': sys.argv[1:], 'pid': os.getpid(), 'ppid': os.getppid()})); sys.exit(7)"
        args = ["plain", "with space", "$HOME", "'quoted'", "*", "", "--timeout", "ünïcode"]
        proc = spawn(["wait", "--termination-log", "none", dep.url, "--", sys.executable, "-c", script] + args)
        self.addCleanup(proc.stop)
        r = proc.wait(timeout=20)
        self.assertEqual(r.returncode, 7, r.stderr)
        seen = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertEqual(seen["argv"], args)
        self.assertEqual(seen["pid"], proc.pid)  # exec'd: no child process

    def test_exec_failure_codes(self):
        dep = TcpListener()
        self.addCleanup(dep.stop)
        r = run(["wait", "--termination-log", "none", dep.url, "--", "/nonexistent/app"])
        self.assertEqual(r.returncode, 127)
        self.assertIn("exec /nonexistent/app", r.stderr)
        path = os.path.join(self.dir, "not-executable")
        open(path, "w").close()
        os.chmod(path, 0o644)
        r = run(["wait", "--termination-log", "none", dep.url, "--", path])
        self.assertEqual(r.returncode, 126)  # EACCES even for root: no execute bit

    def test_timeout_diagnosis_in_the_termination_log(self):
        dep = TcpListener()
        self.addCleanup(dep.stop)
        closed = free_port()
        r = run(["wait", "--timeout", "2s", "--termination-log", self.termlog, dep.url,
                 "tcp://127.0.0.1:%d" % closed, "file:///nonexistent/ready"], timeout=20)
        self.assertEqual(r.returncode, 1)
        lines = self.read_termlog().splitlines()
        # The first line (kubectl describe's "Message:") names the first pending target and its cause.
        self.assertTrue(lines[0].startswith("tcp://127.0.0.1:%d: connection refused (and 1 more) — not ready after " % closed), lines[0])
        self.assertTrue(lines[1].startswith("[-] tcp://127.0.0.1:%d: connect 127.0.0.1:%d: connection refused" % (closed, closed)), lines[1])
        self.assertIn("attempts", lines[1])
        self.assertTrue(lines[2].startswith("[-] file:///nonexistent/ready: file missing"), lines[2])
        self.assertTrue(lines[3].startswith("[+] " + dep.url), lines[3])
        self.assertIn("not ready after", r.stderr)

    def test_termination_message_stays_under_4096_bytes(self):
        targets = ["tcp://127.0.0.1:%d#name=%s" % (free_port(), "x" * 200 + str(i)) for i in range(40)]
        r = run(["wait", "--timeout", "1s", "--termination-log", self.termlog] + targets, timeout=20)
        self.assertEqual(r.returncode, 1)
        message = self.read_termlog()
        self.assertGreater(len(message), 3000)


class Configuration(WaitTestCase):
    def test_env_and_yaml_mean_the_same(self):
        dep = TcpListener()
        self.addCleanup(dep.stop)
        srv = HttpServer((200, "ok"))
        self.addCleanup(srv.stop)
        r = run(["wait"], env={"HEALTHGATE_TARGETS": "%s\n%s" % (dep.url, srv.url()),
                               "HEALTHGATE_TIMEOUT": "5s", "HEALTHGATE_TERMINATION_LOG": "none"})
        self.assertEqual(r.returncode, 0, r.stderr)
        config = os.path.join(self.dir, "wait.yaml")
        with open(config, "w") as f:
            f.write("timeout: 5s\ntermination_log: none\nbackoff: {initial: 50ms}\ntargets:\n"
                    "  - %s\n  - url: %s\n    status: 200\n    body: ok\n" % (dep.url, srv.url()))
        r = run(["wait", "--config", config])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_input_exits_2_with_one_line(self):
        config = os.path.join(self.dir, "bad.yaml")
        with open(config, "w") as f:
            f.write("timeout: 5s\ntargets:\n  - tcp://db:5432\n  - url: http://x/\n    status: 2xx\n")
        cases = [
            (["wait"], "no targets"),
            (["wait", "tcp://db"], "missing port"),
            (["wait", "--timeout", "forever", "tcp://a:1"], "--timeout"),
            (["wait", "--frobnicate", "tcp://a:1"], "unknown flag --frobnicate"),
            (["wait", "--config", config], config + ":5:"),
            (["wait", "--config", "/nonexistent.yaml"], "cannot open"),
            (["wait", "http://[::1/"], "unclosed"),
            (["wait", "tcp://a:1", "--log-format", "xml"], "xml"),
        ]
        for args, expect in cases:
            r = run(args, timeout=10)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(expect, r.stderr, args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        r = run(["wait"], env={"HEALTHGATE_BACKOFF_FACTOR": "fast", "HEALTHGATE_TARGETS": "tcp://a:1"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("HEALTHGATE_BACKOFF_FACTOR", r.stderr)

    def test_json_logs(self):
        dep = TcpListener(delay=0.5)
        self.addCleanup(dep.stop)
        r = run(["wait", "--log-format", "json", "--timeout", "10s"] + FAST + [dep.url], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        events = [json.loads(line) for line in r.stderr.strip().splitlines()]
        self.assertTrue(any(e["msg"] == "target ready" and e["target"] == dep.url for e in events))

    def test_help_and_version(self):
        r = run(["wait", "--help"])
        self.assertEqual(r.returncode, 0)
        for word in ("--timeout", "Exit codes", "HEALTHGATE_TARGETS", "status=", "128+N"):
            self.assertIn(word, r.stdout)
        r = run(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("healthgate "))
        r = run(["--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("wait", r.stdout)
        r = run(["frobnicate"])
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
