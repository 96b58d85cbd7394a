"""Black-box tests of grpc:// and grpcs:// targets against a real gRPC server.

The server (tests/peers/grpc_health_server.cpp) is Debian's gRPC C++ library
with its default grpc.health.v1 service; the test sets each service's status
over its stdin. Built only when libgrpc++-dev is installed: otherwise these
tests skip, saying so.
"""
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from peers import BlackholeListener, HttpServer, free_port, make_certs, run, spawn


def server_binary():
    path = os.environ.get("HEALTHGATE_GRPC_SERVER", "")
    if not path or not os.access(path, os.X_OK):
        raise unittest.SkipTest("no gRPC test server: libgrpc++-dev was not found at build time")
    return path


class GrpcServer:
    """grpc_health_server on 127.0.0.1, a free port; set() changes a status."""

    def __init__(self, *args, command=None):
        self._proc = subprocess.Popen(command or [server_binary(), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self._reader = None
        line = self._proc.stdout.readline()
        if not line.startswith("port "):
            self.stop()
            raise RuntimeError("gRPC test server did not start: %r" % line)
        self.port = int(line.split()[1])
        self.lines = []
        self._answers = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self._proc.stdout:
            with self._cond:
                (self._answers if line.strip() in ("ok",) or line.startswith("error") else self.lines).append(line.strip())
                self._cond.notify_all()

    def set(self, service, status):
        with self._cond:
            before = len(self._answers)
            self._proc.stdin.write("set %s %s\n" % (service or "-", status))
            self._proc.stdin.flush()
            if not self._cond.wait_for(lambda: len(self._answers) > before, timeout=5):
                raise RuntimeError("gRPC test server did not answer")
            if self._answers[-1] != "ok":
                raise RuntimeError(self._answers[-1])

    def url(self, scheme="grpc", options=""):
        return "%s://127.0.0.1:%d%s" % (scheme, self.port, ("?" + options) if options else "")

    def stop(self):
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._reader:
            self._reader.join(2)
        self._proc.stdout.close()


LIST_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers", "grpc_list_server.py")


def list_server_command():
    """tests/peers/grpc_list_server.py under Debian's python3 (python3-grpcio)."""
    python = "/usr/bin/python3"
    probe_import = subprocess.run([python, "-c", "import grpc, google.protobuf"], capture_output=True)
    if probe_import.returncode != 0:
        raise unittest.SkipTest("no Health/List server: python3-grpcio and python3-protobuf are not installed")
    return [python, LIST_SERVER]


def probe(*targets, timeout="3s"):
    return run(["probe", "--timeout", timeout, *targets], timeout=20)


class GrpcTestCase(unittest.TestCase):
    def server(self, *args):
        srv = GrpcServer(*args)
        self.addCleanup(srv.stop)
        return srv

    def assertProbe(self, result, code, *fragments):
        self.assertEqual(result.returncode, code, result.stdout + result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, result.stdout + result.stderr)


class Plaintext(GrpcTestCase):
    def test_whole_server_serving_is_ready(self):
        srv = self.server()
        r = probe(srv.url())
        self.assertProbe(r, 0)
        self.assertEqual(r.stdout, "[+]%s ok\n" % srv.url())

    def test_not_serving_then_serving(self):
        srv = self.server()
        srv.set("db", "NOT_SERVING")
        self.assertProbe(probe(srv.url(options="service=db")), 1, 'service "db" is NOT_SERVING')
        srv.set("db", "SERVING")
        self.assertProbe(probe(srv.url(options="service=db")), 0)

    def test_unknown_service_is_named(self):
        srv = self.server()
        self.assertProbe(probe(srv.url(options="service=nosuch")), 1, 'service "nosuch" is unknown', "NOT_FOUND")

    def test_every_named_service_must_serve(self):
        srv = self.server()
        srv.set("a", "SERVING")
        srv.set("b", "NOT_SERVING")
        self.assertProbe(probe(srv.url(options="service=a,b")), 1, 'service "b" is NOT_SERVING')
        r = probe(srv.url(options="service=a,b"))
        self.assertNotIn('"a"', r.stdout)
        srv.set("b", "SERVING")
        self.assertProbe(probe(srv.url(options="service=a,b")), 0)

    def test_server_without_health_service_is_unimplemented(self):
        srv = self.server("--no-health")
        self.assertProbe(probe(srv.url()), 1, "has no grpc.health.v1.Health/Check", "UNIMPLEMENTED")

    def test_metadata_reaches_the_server(self):
        srv = self.server()
        self.assertProbe(probe(srv.url(options="header=X-Token:s3cret")), 0)
        self.assertIn("metadata x-token=s3cret", srv.lines)

    def test_list_falls_back_to_check_where_the_server_has_no_list(self):
        # Debian 12's gRPC (1.51) predates Health/List.
        srv = self.server()
        srv.set("db", "NOT_SERVING")
        self.assertProbe(probe(srv.url(options="list=true&service=db")), 1, 'service "db" is NOT_SERVING',
                         "the server has no Health/List")
        srv.set("db", "SERVING")
        self.assertProbe(probe(srv.url(options="list=true&service=db")), 0)

    def test_silent_peer_times_out_within_the_deadline(self):
        peer = BlackholeListener()
        self.addCleanup(peer.stop)
        r = probe("grpc://127.0.0.1:%d" % peer.port, timeout="1s")
        self.assertProbe(r, 1, "no gRPC answer from 127.0.0.1:%d" % peer.port)
        self.assertLess(r.duration, 3)

    def test_http1_server_is_named(self):
        srv = HttpServer((200, "ok"))
        self.addCleanup(srv.stop)
        self.assertProbe(probe("grpc://127.0.0.1:%d" % srv.port), 1, "not HTTP/2")

    def test_wait_gates_until_serving(self):
        srv = self.server()
        srv.set("db", "NOT_SERVING")
        threading.Timer(1.0, srv.set, ("db", "SERVING")).start()
        r = run(["wait", "--timeout", "10s", srv.url(options="service=db")], timeout=20)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_yaml_and_environment_forms(self):
        srv = self.server()
        srv.set("db", "SERVING")
        directory = tempfile.mkdtemp(prefix="hg-grpc-yaml-")
        self.addCleanup(shutil.rmtree, directory, True)
        config = os.path.join(directory, "wait.yaml")
        with open(config, "w") as f:
            f.write("timeout: 5s\ntargets:\n  - url: %s\n    service: [db, \"\"]\n    header: [\"X-Team: a\"]\n"
                    % srv.url())
        r = run(["wait", "--config", config], timeout=20)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("metadata x-team=a", srv.lines)
        r = run(["wait", "--timeout", "5s"], env={"HEALTHGATE_TARGETS": srv.url(options="service=db")}, timeout=20)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_serve_readiness_follows_the_service(self):
        srv = self.server()
        srv.set("db", "NOT_SERVING")
        directory = tempfile.mkdtemp(prefix="hg-grpc-serve-")
        self.addCleanup(shutil.rmtree, directory, True)
        port = free_port()
        config = os.path.join(directory, "serve.yaml")
        with open(config, "w") as f:
            f.write('listen: "127.0.0.1:%d"\nchecks:\n  - name: db\n    target: %s\n    interval: 300ms\n    timeout: 250ms\n'
                    % (port, srv.url(options="service=db")))
        proc = spawn(["serve", "--config", config])
        self.addCleanup(proc.stop)

        def readyz():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=2) as answer:
                    return answer.status, answer.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()
            except OSError:
                return 0, ""

        def until(status, text=""):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                code, body = readyz()
                if code == status and text in body:
                    return body
                time.sleep(0.1)
            self.fail("readyz never answered %d: %s" % (status, proc.stderr))

        until(503, 'service "db" is NOT_SERVING')
        srv.set("db", "SERVING")
        until(200)
        # A gRPC server on another host is a dependency: liveness is refused.
        with open(config, "w") as f:
            f.write('listen: "127.0.0.1:%d"\nchecks:\n  - name: db\n    target: grpc://10.1.2.3:50051\n'
                    '    probes: [liveness]\n' % free_port())
        r = run(["serve", "--config", config], timeout=10)
        self.assertProbe(r, 2, "not this pod")

    def test_bad_option_exits_2_naming_it(self):
        r = probe("grpc://127.0.0.1:1?ca=/x")
        self.assertProbe(r, 2, '"ca" does not apply to grpc://')
        self.assertProbe(probe("grpcs://127.0.0.1:1?cert=/x"), 2, "cert= and key= go together")


class Tls(GrpcTestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="hg-grpc-")
        cls.certs = make_certs(cls.dir)
        # A client certificate signed by the same CA, for mTLS.
        p = lambda name: os.path.join(cls.dir, name)  # noqa: E731
        key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        subprocess.run(["openssl", "req", "-new", *key, "-keyout", p("client.key"), "-out", p("client.csr"),
                        "-subj", "/CN=healthgate client"], check=True, capture_output=True)
        with open(p("client.ext"), "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        subprocess.run(["openssl", "x509", "-req", "-in", p("client.csr"), "-CA", cls.certs.ca, "-CAkey",
                        cls.certs.ca_key, "-CAcreateserial", "-out", p("client.pem"), "-days", "30", "-extfile",
                        p("client.ext")], check=True, capture_output=True)
        cls.client_cert, cls.client_key = p("client.pem"), p("client.key")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, True)

    def tls_server(self, mtls=False):
        args = ["--tls", self.certs.server_cert, self.certs.server_key]
        if mtls:
            args += ["--client-ca", self.certs.ca]
        return self.server(*args)

    def test_unknown_ca_fails_verification(self):
        srv = self.tls_server()
        self.assertProbe(probe(srv.url("grpcs")), 1, "certificate verify failed")

    def test_ca_option_passes(self):
        srv = self.tls_server()
        self.assertProbe(probe(srv.url("grpcs", "ca=" + self.certs.ca)), 0)

    def test_insecure_skips_verification(self):
        srv = self.tls_server()
        self.assertProbe(probe(srv.url("grpcs", "insecure=true")), 0)

    def test_sni_names_the_certificate(self):
        srv = self.tls_server()
        self.assertProbe(probe(srv.url("grpcs", "ca=%s&sni=test.example" % self.certs.ca)), 0)
        self.assertProbe(probe(srv.url("grpcs", "ca=%s&sni=other.example" % self.certs.ca)), 1, "wanted other.example")

    def test_plaintext_client_to_tls_server_fails(self):
        srv = self.tls_server()
        self.assertProbe(probe(srv.url("grpc")), 1, "[-]")

    def test_mtls_with_client_certificate(self):
        srv = self.tls_server(mtls=True)
        srv.set("db", "NOT_SERVING")
        options = "ca=%s&cert=%s&key=%s&service=db" % (self.certs.ca, self.client_cert, self.client_key)
        self.assertProbe(probe(srv.url("grpcs", options)), 1, 'service "db" is NOT_SERVING')
        srv.set("db", "SERVING")
        self.assertProbe(probe(srv.url("grpcs", options)), 0)

    def test_mtls_refused_without_client_certificate(self):
        srv = self.tls_server(mtls=True)
        r = probe(srv.url("grpcs", "ca=" + self.certs.ca))
        self.assertProbe(r, 1, "tls handshake", "client certificate? (cert= and key=)")


class HealthList(GrpcTestCase):
    """list=true against a server that has Health/List (protobuf's own encoding)."""

    def server(self):
        srv = GrpcServer(command=list_server_command())
        self.addCleanup(srv.stop)
        return srv

    def test_one_line_a_service(self):
        srv = self.server()
        srv.set("orders", "SERVING")
        srv.set("users", "NOT_SERVING")
        r = probe(srv.url(options="list=true"))
        self.assertProbe(r, 1, 'service "users" is NOT_SERVING (Health/List at')
        url = srv.url()
        self.assertIn("[+]%s service=orders ok\n" % url, r.stdout)
        self.assertIn("[-]%s service=users failed: NOT_SERVING\n" % url, r.stdout)
        self.assertIn("[+]%s service= ok\n" % url, r.stdout)  # the whole server
        self.assertNotIn("has no Health/List", r.stdout)
        srv.set("users", "SERVING")
        r = probe(srv.url(options="list=true"))
        self.assertProbe(r, 0, "[+]%s service=users ok" % url)

    def test_named_services_only(self):
        srv = self.server()
        srv.set("orders", "SERVING")
        srv.set("users", "NOT_SERVING")
        r = probe(srv.url(options="list=true&service=orders"))
        self.assertProbe(r, 0, "service=orders ok")
        self.assertNotIn("users", r.stdout)
        self.assertProbe(probe(srv.url(options="list=true&service=orders,nosuch")), 1,
                         'service "nosuch" is not listed')

    def test_check_agrees_with_list(self):
        srv = self.server()
        srv.set("users", "NOT_SERVING")
        self.assertProbe(probe(srv.url(options="service=users")), 1, 'service "users" is NOT_SERVING')
        self.assertProbe(probe(srv.url(options="service=gone")), 1, 'service "gone" is unknown')
        srv.set("users", "SERVING")
        self.assertProbe(probe(srv.url(options="service=users")), 0)

    def test_serve_shows_one_line_a_service(self):
        srv = self.server()
        srv.set("users", "NOT_SERVING")
        port = free_port()
        proc = spawn(["serve", "--listen", "127.0.0.1:%d" % port, "--interval", "500ms", "--timeout", "400ms",
                      "--readiness", srv.url(options="list=true")])
        self.addCleanup(proc.stop)
        deadline = time.monotonic() + 10
        body = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=2) as answer:
                    body = answer.read().decode()
            except urllib.error.HTTPError as e:
                body = e.read().decode()
            except OSError:
                pass
            if "service=users failed: NOT_SERVING" in body:
                break
            time.sleep(0.1)
        self.assertIn("service=users failed: NOT_SERVING", body, proc.stderr)
        self.assertIn("service= ok", body)


if __name__ == "__main__":
    unittest.main()
