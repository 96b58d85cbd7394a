"""Black-box tests of the protocol kinds (postgres, mysql, redis, amqp, memcached)
against the real servers, each started once per class on loopback in a temp
dir. A class whose server cannot start here is skipped with the reason."""
import glob
import os
import pwd
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest

from peers import free_port, make_certs, run, wait_port


def temp_dir(owner=None):
    d = tempfile.mkdtemp(prefix="hg-kinds-")
    os.chmod(d, 0o755)
    if owner:
        shutil.chown(d, owner, owner)
    return d


def as_user(user, argv):
    """argv run as `user` when we are root (servers refuse to run as root)."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", user, "--"] + argv


class Server:
    """A server process in its own session, stopped (with its children) at the end."""

    def __init__(self, argv, env=None, log=None):
        self.log = open(log or os.devnull, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 15)
                self.proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, 9)
                self.proc.wait(5)
        self.log.close()


def wait_ready(port, server, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise unittest.SkipTest("%s exited with %s at start" % (what, server.proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise unittest.SkipTest("%s did not listen within %ss" % (what, timeout))


def probe(*args, timeout=20):
    return run(["probe", "--timeout", "3s"] + list(args), timeout=timeout)


class KindTest(unittest.TestCase):
    servers = []
    dirs = []

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers:
            server.stop()
        for d in cls.dirs:
            shutil.rmtree(d, True)

    def assertReady(self, url):
        r = probe(url)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "[+]%s ok\n" % url.split("?")[0].split("#")[0])
        return r

    def assertNotReady(self, url, *texts):
        r = probe(url)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), 1, r.stdout)
        self.assertLess(len(r.stdout), 10 * 1024)
        for text in texts:
            self.assertIn(text, r.stdout)
        return r


def pg_bin(name):
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/" + name))
    return found[-1] if found else None


class Postgres(KindTest):
    @classmethod
    def setUpClass(cls):
        cls.servers, cls.dirs = [], []
        if not pg_bin("initdb"):
            raise unittest.SkipTest("postgresql is not installed")
        user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        base = temp_dir(user if os.geteuid() == 0 else None)
        cls.dirs.append(base)
        primary, standby = os.path.join(base, "primary"), os.path.join(base, "standby")
        init = subprocess.run(as_user(user, [pg_bin("initdb"), "-D", primary, "-U", "postgres", "--auth-local=trust",
                                             "--auth-host=scram-sha-256", "-N"]),
                              capture_output=True, text=True)
        if init.returncode != 0:
            raise unittest.SkipTest("initdb failed: " + init.stderr.strip()[-300:])
        subprocess.run(as_user(user, ["cp", "-a", primary, standby]), check=True)
        tls = os.path.join(base, "tls")
        subprocess.run(as_user(user, ["cp", "-a", primary, tls]), check=True)
        cls.certs = make_certs(os.path.join(base, "certs"))
        for path in (cls.certs.server_cert, cls.certs.server_key):
            shutil.chown(path, user, user) if os.geteuid() == 0 else None
            os.chmod(path, 0o600)
        os.chmod(os.path.join(base, "certs"), 0o755)
        open(os.path.join(standby, "standby.signal"), "w").close()
        shutil.chown(os.path.join(standby, "standby.signal"), user, user)
        cls.port, cls.standby_port, cls.tls_port = free_port(), free_port(), free_port()
        for datadir, port, extra in ((primary, cls.port, ["-c", "max_connections=2",
                                                          "-c", "superuser_reserved_connections=0"]),
                                     (standby, cls.standby_port, ["-c", "hot_standby=off"]),
                                     (tls, cls.tls_port, ["-c", "ssl=on", "-c", "ssl_cert_file=" + cls.certs.server_cert,
                                                          "-c", "ssl_key_file=" + cls.certs.server_key])):
            server = Server(as_user(user, [pg_bin("postgres"), "-D", datadir, "-p", str(port), "-k", base,
                                           "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"] + extra),
                            log=os.path.join(base, "log-%d" % port))
            cls.servers.append(server)
            wait_ready(port, server, 20, "postgres")
        # postgres listens before it accepts: wait until the primary asks for a password
        deadline = time.monotonic() + 20
        while probe("postgres://127.0.0.1:%d" % cls.port).returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.1)

    def test_asks_for_authentication_so_ready(self):
        self.assertReady("postgres://127.0.0.1:%d" % self.port)
        self.assertReady("postgresql://127.0.0.1:%d?user=nobody_here&database=none" % self.port)

    def test_hot_standby_off_is_starting_up(self):
        self.assertNotReady("postgres://127.0.0.1:%d" % self.standby_port, "server not ready", "57P03")

    def test_too_many_connections(self):
        held = []
        startup = b"user\0x\0database\0postgres\0\0"
        startup = struct.pack("!ii", len(startup) + 8, 196608) + startup
        for _ in range(2):  # both slots, each waiting for its password
            s = socket.create_connection(("127.0.0.1", self.port), 2)
            s.sendall(startup)
            self.assertEqual(s.recv(1)[:1], b"R")
            held.append(s)
        try:
            self.assertNotReady("postgres://127.0.0.1:%d" % self.port, "53300")
        finally:
            for s in held:
                s.close()

    def test_sslmode_require_without_tls_on_the_server(self):
        self.assertNotReady("postgres://127.0.0.1:%d?sslmode=require" % self.port, "does not do TLS")
        self.assertReady("postgres://127.0.0.1:%d?sslmode=prefer" % self.port)

    def test_tls(self):
        url = "postgres://127.0.0.1:%d" % self.tls_port
        self.assertReady(url + "?sslmode=require")
        self.assertReady(url + "?sslmode=verify-full&ca=" + self.certs.ca)
        self.assertNotReady(url + "?sslmode=verify-full", "tls verify")  # not signed by a system CA

    def test_wait_and_bad_option(self):
        r = run(["wait", "--timeout", "5s", "postgres://127.0.0.1:%d" % self.port], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        bad = run(["wait", "postgres://127.0.0.1:%d?sslmode=maybe" % self.port])
        self.assertEqual(bad.returncode, 2)
        self.assertEqual(len(bad.stderr.strip().splitlines()), 1, bad.stderr)
        self.assertIn("sslmode", bad.stderr)


class Redis(KindTest):
    @classmethod
    def setUpClass(cls):
        cls.servers, cls.dirs = [], []
        if not shutil.which("redis-server"):
            raise unittest.SkipTest("redis-server is not installed")
        cls.port, cls.auth_port = free_port(), free_port()
        base = temp_dir()
        cls.dirs.append(base)
        for port, extra in ((cls.port, []), (cls.auth_port, ["--requirepass", "s3cret"])):
            server = Server(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", base] + extra)
            cls.servers.append(server)
            wait_ready(port, server, 10, "redis-server")

    def test_pong(self):
        self.assertReady("redis://127.0.0.1:%d" % self.port)
        self.assertReady("redis://127.0.0.1:%d?role=master" % self.port)
        self.assertNotReady("redis://127.0.0.1:%d?role=replica" % self.port, "role is master, want replica")

    def test_rediss(self):
        d = temp_dir()
        self.addCleanup(shutil.rmtree, d, True)
        certs = make_certs(os.path.join(d, "certs"))
        port = free_port()
        server = Server(["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--save", "",
                         "--dir", d, "--tls-cert-file", certs.server_cert, "--tls-key-file", certs.server_key,
                         "--tls-ca-cert-file", certs.ca, "--tls-auth-clients", "no"])
        self.addCleanup(server.stop)
        wait_ready(port, server, 10, "redis-server with TLS")
        self.assertReady("rediss://127.0.0.1:%d?ca=%s" % (port, certs.ca))
        self.assertNotReady("rediss://127.0.0.1:%d" % port, "tls verify")
        self.assertReady("rediss://127.0.0.1:%d?insecure=true&role=master" % port)

    def test_loading_is_not_ready(self):
        d = temp_dir()
        self.addCleanup(shutil.rmtree, d, True)
        port = free_port()
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "",
                "--appendonly", "no", "--enable-debug-command", "yes",
                "--loading-process-events-interval-bytes", "1024"]
        server = Server(argv)
        self.addCleanup(server.stop)
        wait_ready(port, server, 10, "redis-server")
        with socket.create_connection(("127.0.0.1", port), 60) as s:  # a large RDB: loading takes a while
            s.sendall(b"DEBUG POPULATE 2000000 key 32\r\nSAVE\r\n")
            answer = b""
            while answer.count(b"\r\n") < 2:
                answer += s.recv(100)
            self.assertEqual(answer, b"+OK\r\n+OK\r\n")
        server.stop()
        server = Server(argv)
        self.addCleanup(server.stop)
        wait_ready(port, server, 10, "redis-server")
        self.assertNotReady("redis://127.0.0.1:%d" % port, "server not ready", "LOADING")

    def test_masterdown_is_not_ready(self):
        # A replica whose master is gone, told not to serve stale data.
        d = temp_dir()
        self.addCleanup(shutil.rmtree, d, True)
        port = free_port()
        server = Server(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "",
                         "--appendonly", "no", "--replicaof", "127.0.0.1", str(free_port()),
                         "--replica-serve-stale-data", "no"])
        self.addCleanup(server.stop)
        wait_ready(port, server, 10, "redis-server replica")
        self.assertNotReady("redis://127.0.0.1:%d" % port, "server not ready", "MASTERDOWN")

    def test_busy_script_is_not_ready(self):
        d = temp_dir()
        self.addCleanup(shutil.rmtree, d, True)
        port = free_port()
        server = Server(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "",
                         "--appendonly", "no", "--busy-reply-threshold", "100"])
        self.addCleanup(server.stop)
        wait_ready(port, server, 10, "redis-server")
        busy = socket.create_connection(("127.0.0.1", port), 10)
        self.addCleanup(busy.close)
        busy.sendall(b'EVAL "while true do end" 0\r\n')  # a script that never ends
        time.sleep(0.3)
        self.assertNotReady("redis://127.0.0.1:%d" % port, "server not ready", "BUSY")
        with socket.create_connection(("127.0.0.1", port), 10) as s:
            s.sendall(b"SCRIPT KILL\r\n")
            self.assertEqual(s.recv(100), b"+OK\r\n")
        self.assertReady("redis://127.0.0.1:%d" % port)

    def test_auth(self):
        self.assertReady("redis://127.0.0.1:%d" % self.auth_port)  # NOAUTH: it is up
        self.assertReady("redis://127.0.0.1:%d?password=s3cret&role=master" % self.auth_port)
        r = self.assertNotReady("redis://127.0.0.1:%d?password=wrong" % self.auth_port, "AUTH refused")
        self.assertNotIn("wrong", r.stdout.replace("WRONGPASS", ""))


class Memcached(KindTest):
    @classmethod
    def setUpClass(cls):
        cls.servers, cls.dirs = [], []
        if not shutil.which("memcached"):
            raise unittest.SkipTest("memcached is not installed")
        cls.port = free_port()
        argv = ["memcached", "-l", "127.0.0.1", "-p", str(cls.port), "-U", "0", "-m", "8"]
        if os.geteuid() == 0:
            argv += ["-u", "nobody"]
        server = Server(argv)
        cls.servers.append(server)
        wait_ready(cls.port, server, 10, "memcached")

    def test_version(self):
        self.assertReady("memcached://127.0.0.1:%d" % self.port)
        self.assertNotReady("memcached://127.0.0.1:%d" % free_port(), "connection refused")

    def test_another_protocol_is_named(self):
        self.assertNotReady("redis://127.0.0.1:%d" % self.port, "protocol error", "is it a redis server?")


def mysql_login(sock, user, password):
    """Logs in with mysql_native_password; returns the server's answer packet."""
    import hashlib
    greeting = sock.recv(4096)[4:]
    rest = greeting[greeting.index(b"\0", 1) + 1:]
    salt = rest[4:12] + rest[31:43]
    h1 = hashlib.sha1(password.encode()).digest()
    h2 = hashlib.sha1(salt + hashlib.sha1(h1).digest()).digest()
    scramble = bytes(a ^ b for a, b in zip(h1, h2))
    payload = (struct.pack("<IIB", 0x1 | 0x200 | 0x8000 | 0x80000, 1 << 24, 33) + bytes(23) + user.encode() + b"\0" +
               bytes([len(scramble)]) + scramble + b"mysql_native_password\0")
    sock.sendall(struct.pack("<I", len(payload))[:3] + b"\x01" + payload)
    return sock.recv(4096)


class Mysql(KindTest):
    @classmethod
    def setUpClass(cls):
        cls.servers, cls.dirs = [], []
        if not shutil.which("mariadbd") or not shutil.which("mariadb-install-db"):
            raise unittest.SkipTest("mariadb-server is not installed")
        base = temp_dir("mysql" if os.geteuid() == 0 else None)
        cls.dirs.append(base)
        datadir = os.path.join(base, "data")
        user = ["--user=mysql"] if os.geteuid() == 0 else []
        init = subprocess.run(["mariadb-install-db", "--no-defaults", "--datadir=" + datadir, "--skip-test-db",
                               "--auth-root-authentication-method=socket"] + user, capture_output=True, text=True)
        if init.returncode != 0:
            raise unittest.SkipTest("mariadb-install-db failed: " + init.stderr.strip()[-300:])
        cls.port = free_port()
        init_sql = os.path.join(base, "init.sql")
        with open(init_sql, "w") as f:  # a user from any host, so that 127.0.0.1 gets a greeting
            f.write("CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'pw';\n")
        server = Server(["mariadbd", "--no-defaults", "--init-file=" + init_sql, "--datadir=" + datadir, "--socket=" + os.path.join(base, "sock"),
                         "--port=%d" % cls.port, "--bind-address=127.0.0.1", "--max-connections=10",
                         "--skip-log-bin", "--innodb-buffer-pool-size=16M", "--pid-file=" + os.path.join(base, "pid"),
                         "--skip-name-resolve"] + user, log=os.path.join(base, "log"))
        cls.servers.append(server)
        wait_ready(cls.port, server, 30, "mariadbd")

    def test_greeting_and_login(self):
        self.assertReady("mysql://127.0.0.1:%d" % self.port)
        r = run(["wait", "--timeout", "10s", "mysql://127.0.0.1:%d" % self.port], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("MariaDB", r.stderr)  # target ready ... server="handles logins (1045 Access denied ...)"

    def test_too_many_connections(self):
        held = []
        try:
            for _ in range(15):  # max_connections=10 (its minimum), and a slot kept for an administrator
                s = socket.create_connection(("127.0.0.1", self.port), 2)
                held.append(s)
                if b"Too many" in mysql_login(s, "app", "pw"):
                    break
            else:
                self.fail("the server never said too many connections")
            # A user who cannot log in hears of it only once the slot kept for
            # an administrator is taken too: then in place of the greeting.
            for _ in range(3):
                s = socket.create_connection(("127.0.0.1", self.port), 2)
                held.append(s)
                if b"Too many" in s.recv(1024):
                    break
            self.assertNotReady("mysql://127.0.0.1:%d" % self.port, "1040", "server not ready")
        finally:
            for s in held:
                s.close()


class Amqp(KindTest):
    @classmethod
    def setUpClass(cls):
        cls.servers, cls.dirs = [], []
        server_bin = "/usr/lib/rabbitmq/bin/rabbitmq-server"
        if not os.path.exists(server_bin):
            raise unittest.SkipTest("rabbitmq-server is not installed")
        base = temp_dir()
        cls.dirs.append(base)
        cls.port, dist, epmd = free_port(), free_port(), free_port()
        env = dict(os.environ, HOME=base, RABBITMQ_NODENAME="hg%d@localhost" % cls.port,
                   RABBITMQ_NODE_IP_ADDRESS="127.0.0.1", RABBITMQ_NODE_PORT=str(cls.port),
                   RABBITMQ_DIST_PORT=str(dist), ERL_EPMD_PORT=str(epmd), RABBITMQ_MNESIA_BASE=base + "/mnesia",
                   RABBITMQ_LOG_BASE=base + "/log", RABBITMQ_CONFIG_FILE=base + "/rabbitmq",
                   RABBITMQ_ENABLED_PLUGINS_FILE=base + "/plugins", RABBITMQ_PID_FILE=base + "/pid")
        with open(base + "/plugins", "w") as f:
            f.write("[].\n")
        server = Server([server_bin], env=env, log=base + "/out")
        cls.servers.append(server)
        cls.epmd_port = epmd
        try:
            wait_ready(cls.port, server, 60, "rabbitmq-server")
        finally:
            # epmd was started by the node on its own port: stop it with the class
            cls.servers.append(_Epmd(epmd))

    def test_connection_start(self):
        self.assertReady("amqp://127.0.0.1:%d" % self.port)
        r = run(["wait", "--timeout", "10s", "amqp://127.0.0.1:%d" % self.port], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("RabbitMQ", r.stderr)  # target ready ... server="RabbitMQ 3.x"


class Forms(unittest.TestCase):
    """The new kinds in YAML, the environment and serve's liveness rule (no server needed)."""

    def write(self, text):
        fd, path = tempfile.mkstemp(prefix="hg-kinds-", suffix=".yaml")
        self.addCleanup(os.remove, path)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def test_remote_dependency_is_readiness_not_liveness(self):
        bad = self.write('checks:\n  - {name: db, target: "postgres://db.example?user=app", probes: [liveness]}\n')
        r = run(["config", "check", bad])
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("liveness depends on db.example:5432", r.stdout + r.stderr)
        good = self.write('checks:\n  - {name: db, target: "postgres://db.example", probes: [readiness]}\n'
                          '  - {name: cache, target: "redis://127.0.0.1", probes: [liveness]}\n')
        r = run(["config", "check", good])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_yaml_option_errors_name_the_option_and_hide_secrets(self):
        path = self.write("targets:\n  - url: redis://127.0.0.1:1\n    password: s3cret\n    role: leader\n")
        r = run(["wait", "--config", path])
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.strip().count("\n"), 0, r.stderr)
        self.assertIn(':4: option role="leader": expected master or replica', r.stderr)
        r = run(["wait", "redis://127.0.0.1:1?password=" + "s3cret" * 300])
        self.assertEqual(r.returncode, 2)
        self.assertIn("option password=<secret>", r.stderr)
        self.assertNotIn("s3cret", r.stderr)

    def test_environment_targets(self):
        r = run(["wait", "--timeout", "500ms"], env={"HEALTHGATE_TARGETS": "memcached://127.0.0.1:%d" % free_port()})
        self.assertEqual(r.returncode, 1)
        self.assertIn("memcached://127.0.0.1", r.stderr)
        self.assertIn("connection refused", r.stderr)


class _Epmd:
    def __init__(self, port):
        self.port = port

    def stop(self):
        subprocess.run(["epmd", "-port", str(self.port), "-kill"], capture_output=True,
                       env=dict(os.environ, ERL_EPMD_PORT=str(self.port)))


if __name__ == "__main__":
    unittest.main()
