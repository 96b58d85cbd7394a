"""Self-test of the test peers: a broken peer must show up here, not as a
mysterious failure of a healthgate test."""
import http.client
import os
import socket
import ssl
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import peers


def _ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def _get(url, timeout=3.0, context=None, method="GET"):
    """(status, body, headers) without following redirects."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    handlers = [NoRedirect()]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(url, method=method, headers={"X-Test": "yes"})
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


class ProcessHelpers(unittest.TestCase):
    def test_run_collects_output_and_exit_code(self):
        r = peers.run_argv(["sh", "-c", "echo out; echo err >&2; exit 3"])
        self.assertEqual((r.returncode, r.stdout, r.stderr, r.timed_out), (3, "out\n", "err\n", False))

    def test_run_kills_at_the_hard_timeout(self):
        r = peers.run_argv(["sleep", "30"], timeout=0.3)
        self.assertTrue(r.timed_out)
        self.assertEqual(r.returncode, -9)
        self.assertLess(r.duration, 5)

    def test_env_is_merged_and_can_remove(self):
        os.environ["PEERS_SELFTEST_GONE"] = "x"
        try:
            r = peers.run_argv(["sh", "-c", 'echo "$PEERS_A-${PEERS_SELFTEST_GONE:-unset}"'],
                               env={"PEERS_A": 1, "PEERS_SELFTEST_GONE": None})
        finally:
            del os.environ["PEERS_SELFTEST_GONE"]
        self.assertEqual(r.stdout, "1-unset\n")

    def test_spawn_wait_output_and_stop_kills_the_group(self):
        p = peers.spawn_argv(["sh", "-c", "sleep 60 & echo child $!; wait"])
        self.addCleanup(p.stop)
        self.assertTrue(p.wait_output("child ", timeout=5))
        time.sleep(0.1)
        child = int(p.stdout.split()[1])
        self.assertIsNone(p.poll())
        r = p.stop()
        self.assertEqual(r.returncode, -15)
        deadline = time.monotonic() + 3
        while os.path.exists("/proc/%d" % child) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertFalse(os.path.exists("/proc/%d" % child), "child of the spawned shell survived")

    def test_binary_runs(self):
        try:
            path = peers.binary()
        except RuntimeError as e:
            self.skipTest(str(e))
        r = peers.run(["--version"], timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("healthgate", r.stdout)
        self.assertTrue(os.path.isabs(path))


class TcpPeers(unittest.TestCase):
    def test_free_port_is_refused_then_listener_appears_late(self):
        port = peers.free_port()
        start = time.monotonic()
        with peers.TcpListener(port=port, delay=0.5) as dep:
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            self.assertTrue(peers.wait_port(port, timeout=5))
            self.assertGreaterEqual(dep.listened_at - start, 0.45)
            with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                self.assertEqual(c.recv(1), b"")  # accepted and closed
            deadline = time.monotonic() + 2
            while dep.connections < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertEqual(dep.connections, 2)
            self.assertEqual(dep.url, "tcp://127.0.0.1:%d" % port)
        self.assertFalse(peers.wait_port(port, timeout=0.2))

    def test_wait_port_gives_up(self):
        self.assertFalse(peers.wait_port(peers.free_port(), timeout=0.2))

    @unittest.skipUnless(_ipv6_loopback(), "no IPv6 loopback")
    def test_ipv6_listener(self):
        with peers.TcpListener(host="::1") as dep:
            self.assertTrue(peers.wait_port(dep.port, host="::1", timeout=2))
            self.assertEqual(dep.url, "tcp://[::1]:%d" % dep.port)

    def test_blackhole_accepts_and_never_answers(self):
        with peers.BlackholeListener() as hole:
            with socket.create_connection(("127.0.0.1", hole.port), timeout=1) as c:
                c.sendall(b"GET / HTTP/1.1\r\n\r\n")
                c.settimeout(0.3)
                with self.assertRaises(socket.timeout):
                    c.recv(1)
                deadline = time.monotonic() + 2
                while b"GET /" not in hole.received and time.monotonic() < deadline:
                    time.sleep(0.01)
            self.assertIn(b"GET /", hole.received)
            self.assertEqual(hole.connections, 1)

    def test_connect_timeout_listener_never_completes_a_connect(self):
        with peers.ConnectTimeoutListener() as lis:
            c = socket.socket()
            c.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                c.connect(("127.0.0.1", lis.port))
            c.close()

    def test_unix_listener_appears_late(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "app.sock")
            with peers.UnixListener(path, delay=0.3) as lis:
                self.assertFalse(os.path.exists(path))
                self.assertTrue(lis.listening.wait(3))
                with socket.socket(socket.AF_UNIX) as c:
                    c.connect(path)
                    self.assertEqual(c.recv(1), b"")
                self.assertEqual(lis.url, "unix://" + path)
            self.assertFalse(os.path.exists(path))


class HttpPeers(unittest.TestCase):
    def test_scripted_sequence_repeats_the_last(self):
        with peers.HttpServer([(503, "warming"), (200, "ok", {"X-A": "1"})]) as srv:
            self.assertEqual(_get(srv.url("/healthz"))[:2], (503, b"warming"))
            status, body, headers = _get(srv.url("/healthz"))
            self.assertEqual((status, body, headers["X-A"]), (200, b"ok", "1"))
            self.assertEqual(_get(srv.url("/healthz"))[:2], (200, b"ok"))
            self.assertEqual(srv.hits("/healthz"), 3)
            self.assertEqual(srv.requests[0].method, "GET")
            self.assertEqual(srv.requests[0].headers["x-test"], "yes")

    def test_routes_handler_redirect_head_and_chunked(self):
        routes = {
            "/ready": [500, 204],
            "/echo": lambda req: (200, req.path + " " + req.headers.get("x-test", "")),
            "/old": peers.redirect("/ready", 301),
            "/chunked": peers.Response(200, "a chunked body of some length", chunked=True),
        }
        with peers.HttpServer(routes=routes) as srv:
            self.assertEqual(_get(srv.url("/ready"))[0], 500)
            self.assertEqual(_get(srv.url("/ready"))[0], 204)
            self.assertEqual(_get(srv.url("/echo?x=1"))[:2], (200, b"/echo?x=1 yes"))
            status, _, headers = _get(srv.url("/old"))
            self.assertEqual((status, headers["Location"]), (301, "/ready"))
            self.assertEqual(_get(srv.url("/chunked"))[1], b"a chunked body of some length")
            self.assertEqual(_get(srv.url("/other"))[:2], (200, b"ok"))
            status, body, headers = _get(srv.url("/other"), method="HEAD")
            self.assertEqual((status, body, headers["Content-Length"]), (200, b"", "2"))

    def test_slow_close_and_hang(self):
        with peers.HttpServer(routes={"/close": peers.CLOSE, "/hang": peers.HANG}, delay=0.4) as srv:
            start = time.monotonic()
            self.assertEqual(_get(srv.url("/"))[0], 200)
            self.assertGreaterEqual(time.monotonic() - start, 0.38)
            with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
                _get(srv.url("/close"))
            with self.assertRaises((socket.timeout, urllib.error.URLError)):
                _get(srv.url("/hang"), timeout=1.0)

    def test_https_with_ca_and_self_signed(self):
        with tempfile.TemporaryDirectory() as d:
            certs = peers.make_certs(d)
            ca = ssl.create_default_context(cafile=certs.ca)
            with peers.HttpServer((200, "secure"), tls=certs) as srv:
                self.assertTrue(srv.url().startswith("https://127.0.0.1:"))
                self.assertEqual(_get(srv.url(), context=ca)[:2], (200, b"secure"))
                self.assertEqual(_get(srv.url(host="localhost"), context=ca)[0], 200)
                # The name in the certificate: SNI + verification as test.example.
                with socket.create_connection(("127.0.0.1", srv.port), timeout=3) as raw:
                    with ca.wrap_socket(raw, server_hostname="test.example") as tls:
                        self.assertEqual(tls.getpeercert()["subject"][0][0], ("commonName", "test.example"))
                with socket.create_connection(("127.0.0.1", srv.port), timeout=3) as raw:
                    with self.assertRaises(ssl.SSLCertVerificationError):
                        ca.wrap_socket(raw, server_hostname="other.example")
            with peers.HttpServer(tls=(certs.self_signed_cert, certs.self_signed_key)) as srv:
                with self.assertRaises(urllib.error.URLError) as e:
                    _get(srv.url(), context=ca)
                self.assertIsInstance(e.exception.reason, ssl.SSLCertVerificationError)
                insecure = ssl._create_unverified_context()
                self.assertEqual(_get(srv.url(), context=insecure)[0], 200)


class DnsPeers(unittest.TestCase):
    def test_udp_blackhole_never_answers(self):
        with peers.UdpBlackhole() as hole:
            with self.assertRaises(socket.timeout):
                peers.dns_query("x.test", port=hole.port, timeout=0.3)

    def test_rcode_server(self):
        for rcode in ("SERVFAIL", "REFUSED"):
            with peers.DnsRcodeServer(rcode) as srv:
                self.assertEqual(peers.dns_query("db.test", "SRV", port=srv.port), (rcode, []))
                self.assertEqual(srv.queries, 1)

    def test_dnsmasq_records(self):
        records = {
            "db.ns.svc.cluster.local": ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
            "v6.ns.svc.cluster.local": "fd00::1",
            "both.test": ["10.1.1.1", "fd00::2"],
        }
        srv = [("_pg._tcp.db.ns.svc.cluster.local", "db.ns.svc.cluster.local", 5432, 0, 10)]
        with peers.Dnsmasq(records=records, srv=srv, cname={"alias.test": "both.test"},
                           servfail=["broken.test"]) as dns:
            rcode, answers = dns.query("db.ns.svc.cluster.local")
            self.assertEqual((rcode, sorted(answers)), ("NOERROR", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]))
            self.assertEqual(dns.query("v6.ns.svc.cluster.local", "AAAA"), ("NOERROR", ["fd00::1"]))
            self.assertEqual(dns.query("v6.ns.svc.cluster.local", "A"), ("NOERROR", []))  # NODATA
            self.assertEqual(dns.query("both.test", "A"), ("NOERROR", ["10.1.1.1"]))
            self.assertEqual(dns.query("_pg._tcp.db.ns.svc.cluster.local", "SRV"),
                             ("NOERROR", ["0 10 5432 db.ns.svc.cluster.local"]))
            rcode, answers = dns.query("alias.test")
            self.assertEqual((rcode, answers), ("NOERROR", ["both.test", "10.1.1.1"]))
            self.assertEqual(dns.query("db"), ("NXDOMAIN", []))
            self.assertEqual(dns.query("missing.ns.svc.cluster.local"), ("NXDOMAIN", []))
            self.assertEqual(dns.query("x.broken.test"), ("SERVFAIL", []))
            self.assertEqual(dns.query("late.test"), ("NXDOMAIN", []))
            dns.add_record("late.test", "10.9.9.9")
            self.assertEqual(dns.query("late.test"), ("NOERROR", ["10.9.9.9"]))
            self.assertIn("query[A] late.test", dns.log)
            with tempfile.TemporaryDirectory() as d:
                path = dns.resolv_conf(d)
                with open(path) as f:
                    self.assertEqual(f.read(), "nameserver 127.0.0.1:%d\n"
                                     "search ns.svc.cluster.local svc.cluster.local cluster.local\n"
                                     "options ndots:5\n" % dns.port)
                path = peers.resolv_conf(d, None, search=(), ndots=1, options=["timeout:1"], name="r2")
                with open(path) as f:
                    self.assertEqual(f.read(), "nameserver 127.0.0.1\noptions ndots:1 timeout:1\n")
        with self.assertRaises(OSError):  # stopped: refused (ICMP) or timeout
            peers.dns_query("late.test", port=dns.port, timeout=0.3)


if __name__ == "__main__":
    unittest.main()
