"""Real test peers on loopback for the black-box tests of the healthgate binary.

Standard library only. Every peer binds 127.0.0.1 or ::1, picks a free port
unless told one, runs in daemon threads or a subprocess, starts in its
constructor, and is stopped by stop() (idempotent), by `with`, or at exit.

    with TcpListener(delay=2) as dep:                # appears 2 s late
        r = run(["wait", "--timeout", "10s", dep.url])
        assert r.returncode == 0 and dep.connections >= 1

    srv = HttpServer([(503, "warming"), (200, "ok")])  # 503 once, then 200
    self.addCleanup(srv.stop)

Peers:  TcpListener, BlackholeListener, ConnectTimeoutListener, HttpServer,
        UnixListener, UdpBlackhole, DnsRcodeServer, Dnsmasq (+ resolv_conf,
        dns_query).
Helpers: free_port, wait_port, binary, run / run_argv, spawn / spawn_argv,
        make_certs.
"""
import atexit
import collections
import http.server
import os
import pty
import random
import select
import shutil
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import termios
import threading
import time
import unittest

LOOPBACK4 = "127.0.0.1"
LOOPBACK6 = "::1"
DEFAULT_SEARCH = ("ns.svc.cluster.local", "svc.cluster.local", "cluster.local")

# Everything started here, so that a test that forgets stop() (or dies) does
# not leave servers or processes behind.
_live = set()
_live_lock = threading.Lock()


def _register(peer):
    with _live_lock:
        _live.add(peer)


def _unregister(peer):
    with _live_lock:
        _live.discard(peer)


def stop_all():
    """Stops every peer and process still running (also runs at exit)."""
    with _live_lock:
        peers = list(_live)
    for peer in peers:
        try:
            peer.stop()
        except Exception:
            pass


atexit.register(stop_all)


class _Peer:
    """Context manager + idempotent stop() shared by all peers."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        raise NotImplementedError


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _host_in_url(host):
    return "[%s]" % host if ":" in host else host


# ---------------------------------------------------------------- helpers

def free_port(host=LOOPBACK4, udp_too=False):
    """A port that is free for TCP (and UDP with udp_too) right now.

    Racy by nature (someone may take it before use); the kernel's ephemeral
    range makes a clash unlikely, and peers that bind later retry nothing.
    """
    for _ in range(50):
        with socket.socket(_family(host), socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if not udp_too:
            return port
        try:
            with socket.socket(_family(host), socket.SOCK_DGRAM) as u:
                u.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port found on %s" % host)


def wait_port(port, timeout=5.0, host=LOOPBACK4):
    """True once a TCP connect to host:port succeeds, False after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def binary():
    """Path of the healthgate binary under test: $HEALTHGATE_BIN, else build/healthgate."""
    path = os.environ.get("HEALTHGATE_BIN")
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "build", "healthgate")
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        raise RuntimeError("healthgate binary not found at %s (set HEALTHGATE_BIN)" % path)
    return path


Result = collections.namedtuple("Result", "returncode stdout stderr duration timed_out")
Result.__doc__ = """Outcome of a process: stdout/stderr as str (utf-8, replace), duration in
seconds, timed_out True when it was killed at the hard timeout (returncode is then -9)."""


def _env(env, inherit_env):
    if env is None:
        return None if inherit_env else {}
    merged = dict(os.environ) if inherit_env else {}
    for k, v in env.items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = str(v)
    return merged


class Process(_Peer):
    """A spawned process with its output collected by reader threads.

    Runs in its own session so stop() can kill the whole group (a command
    started by `healthgate wait -- CMD` or `run` included).
    """

    def __init__(self, argv, env=None, inherit_env=True, cwd=None, stdin=None, new_session=True):
        self.argv = [str(a) for a in argv]
        self.started_at = time.monotonic()
        self._proc = subprocess.Popen(
            self.argv, env=_env(env, inherit_env), cwd=cwd,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=new_session)
        self.pid = self._proc.pid
        self._new_session = new_session
        self._out = bytearray()
        self._err = bytearray()
        self._cond = threading.Condition()
        self._readers = [
            threading.Thread(target=self._pump, args=(self._proc.stdout, self._out), daemon=True),
            threading.Thread(target=self._pump, args=(self._proc.stderr, self._err), daemon=True),
        ]
        for t in self._readers:
            t.start()
        if stdin is not None:
            data = stdin.encode() if isinstance(stdin, str) else stdin
            try:
                self._proc.stdin.write(data)
                self._proc.stdin.close()
            except OSError:
                pass
        self.ended_at = None
        self.timed_out = False
        _register(self)

    def _pump(self, pipe, buf):
        while True:
            chunk = pipe.read1(65536) if hasattr(pipe, "read1") else pipe.read(65536)
            if not chunk:
                break
            with self._cond:
                buf.extend(chunk)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def stdout(self):
        with self._cond:
            return self._out.decode("utf-8", "replace")

    @property
    def stderr(self):
        with self._cond:
            return self._err.decode("utf-8", "replace")

    def _exited(self):
        """True once the process has exited; it stays unreaped (a zombie) so its pid
        and group id cannot be reused before we kill what is left of the group."""
        if self._proc.returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        if info is None:
            return False
        if self.ended_at is None:
            self.ended_at = time.monotonic()
        return True

    def poll(self):
        """Return code, or None while running."""
        if not self._exited():
            return None
        self._reap()
        return self._proc.returncode

    def _reap(self):
        # Children left in the group (e.g. of `wait -- CMD`) must not outlive it.
        if self._proc.returncode is None:
            self._kill_group(signal.SIGKILL)
        self._proc.wait()

    def wait_output(self, text, timeout=5.0, stream="any"):
        """True once `text` appeared on stdout/stderr/any, False on timeout or exit."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                out = self._out.decode("utf-8", "replace") if stream in ("any", "stdout") else ""
                err = self._err.decode("utf-8", "replace") if stream in ("any", "stderr") else ""
                if text in out or text in err:
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or (self._exited() and not any(t.is_alive() for t in self._readers)):
                    return False
                self._cond.wait(min(left, 0.05))

    def send_signal(self, sig):
        """Signal the process itself (not its group)."""
        if not self._exited():
            os.kill(self.pid, sig)

    def _kill_group(self, sig):
        try:
            if self._new_session:
                os.killpg(self.pid, sig)
            else:
                os.kill(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, timeout=30.0):
        """Waits for exit; on timeout kills the group (SIGKILL) and marks timed_out.

        Never hangs: returns a Result in every case.
        """
        deadline = time.monotonic() + timeout
        while not self._exited():
            if time.monotonic() >= deadline:
                self.timed_out = True
                self._kill_group(signal.SIGKILL)
                self._proc.wait()
                break
            time.sleep(0.005)
        if self.ended_at is None:
            self.ended_at = time.monotonic()
        self._reap()
        for t in self._readers:
            t.join(timeout=2.0)
        for pipe in (self._proc.stdout, self._proc.stderr):
            try:
                pipe.close()
            except OSError:
                pass
        _unregister(self)
        return Result(self._proc.returncode, self.stdout, self.stderr,
                      self.ended_at - self.started_at, self.timed_out)

    def stop(self, grace=2.0):
        """SIGTERM to the group, SIGKILL after `grace` seconds; returns the Result."""
        if not self._exited():
            self._kill_group(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while not self._exited() and time.monotonic() < deadline:
                time.sleep(0.005)
        return self.wait(timeout=0 if self._exited() else 5.0)



def pty_run(argv, send=b"", timeout=10.0, after_start=None, output_processing=False):
    """Runs argv on a new pseudo-terminal (as its session leader, like a
    container started with -it), without echo; returns (exit status, everything
    it printed, [(seconds since start, chunk)]). `after_start(pid, fd)` may act
    first and return output of its own; with output_processing the terminal
    keeps OPOST (the app's "\n" arrives as "\r\n")."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    attrs = termios.tcgetattr(fd)
    if not output_processing:
        attrs[1] &= ~termios.OPOST
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    output, arrivals = b"", []
    if after_start:
        output += after_start(pid, fd)
    if send:
        os.write(fd, send)
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the terminal's other side is gone
                break
            if not chunk:
                break
            output += chunk
            arrivals.append((time.monotonic() - started, chunk))
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output, arrivals

def spawn_argv(argv, env=None, inherit_env=True, cwd=None, stdin=None, new_session=True):
    """Starts any command in the background; returns a Process."""
    return Process(argv, env=env, inherit_env=inherit_env, cwd=cwd, stdin=stdin, new_session=new_session)


def spawn(args, **kw):
    """Starts `healthgate ARGS...` in the background; returns a Process."""
    return spawn_argv([binary()] + list(args), **kw)


def run_argv(argv, env=None, timeout=30.0, inherit_env=True, cwd=None, stdin=None):
    """Runs any command to completion with a hard timeout; returns a Result."""
    return spawn_argv(argv, env=env, inherit_env=inherit_env, cwd=cwd, stdin=stdin).wait(timeout)


def run(args, env=None, timeout=30.0, **kw):
    """Runs `healthgate ARGS...` to completion with a hard timeout; returns a Result.

    env entries are merged over os.environ (a None value removes a variable);
    pass inherit_env=False for exactly `env`.
    """
    return run_argv([binary()] + list(args), env=env, timeout=timeout, **kw)


# ---------------------------------------------------------------- TCP peers

class _ThreadPeer(_Peer):
    def __init__(self):
        self._stop = threading.Event()
        self._threads = []
        self._lock = threading.Lock()
        _register(self)

    def _start_thread(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        self._threads.append(t)
        t.start()

    def _accept_and_close(self, s):
        """Marks the listener up, then accepts and closes connections, counting
        them, until stop(). Used by the peers that only need to be connectable."""
        s.settimeout(0.05)
        self.listened_at = time.monotonic()
        self.listening.set()
        while not self._stop.is_set():
            try:
                c, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            with self._lock:
                self.connections += 1
            c.close()
        s.close()

    def _join(self):
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=2.0)
        _unregister(self)


class TcpListener(_ThreadPeer):
    """Listens on host:port after `delay` seconds; accepts and closes each connection.

    `listening` is an Event set right after listen(); `listened_at` is the
    time.monotonic() of that listen(); `connections` counts accepted ones.
    """

    def __init__(self, port=None, delay=0.0, host=LOOPBACK4):
        super().__init__()
        self.host = host
        self.port = port or free_port(host)
        self.delay = delay
        self.connections = 0
        self.listening = threading.Event()
        self.listened_at = None
        self.error = None
        self._sock = None
        self._start_thread(self._serve)
        if delay <= 0 and not self.listening.wait(5.0):
            raise RuntimeError("TcpListener did not start: %s" % self.error)

    @property
    def url(self):
        return "tcp://%s:%d" % (_host_in_url(self.host), self.port)

    def _serve(self):
        if self._stop.wait(self.delay):
            return
        try:
            s = socket.socket(_family(self.host), socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((self.host, self.port))
            s.listen(128)
        except OSError as e:
            self.error = e
            return
        self._sock = s
        self._accept_and_close(s)

    def stop(self):
        self._stop.set()
        self._join()


class BlackholeListener(_ThreadPeer):
    """Listens and accepts, then never sends a byte: a read timeout for any client.

    Accepted connections are held open (and what they send is read and kept
    in `received`) until stop(). `connections` counts them. For a connect
    that never completes, see ConnectTimeoutListener.
    """

    def __init__(self, port=None, host=LOOPBACK4):
        super().__init__()
        self.host = host
        self.port = port or free_port(host)
        self.connections = 0
        self.received = b""
        self._conns = []
        s = socket.socket(_family(host), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, self.port))
        s.listen(128)
        s.settimeout(0.05)
        self._sock = s
        self._start_thread(self._serve)

    @property
    def url(self):
        return "tcp://%s:%d" % (_host_in_url(self.host), self.port)

    def _serve(self):
        while not self._stop.is_set():
            try:
                c, _ = self._sock.accept()
                c.setblocking(False)
                with self._lock:
                    self.connections += 1
                    self._conns.append(c)
            except socket.timeout:
                pass
            except OSError:
                break
            for conn in self._conns:
                try:
                    data = conn.recv(65536)
                    if data:
                        with self._lock:
                            self.received += data
                except OSError:
                    pass
        self._sock.close()
        for c in self._conns:
            c.close()

    def stop(self):
        self._stop.set()
        self._join()


class ConnectTimeoutListener(_ThreadPeer):
    """A port whose connect() never completes: the client's SYN goes unanswered.

    A closed or filtered port cannot be made on loopback without firewall
    rules (a closed port answers RST at once). Linux, however, drops a SYN
    while the listener's accept queue is full: this listens with backlog 0,
    fills the queue with one connection of its own and never accepts, so
    every further connect() retransmits SYNs until the client gives up
    (net.ipv4.tcp_abort_on_overflow must be 0, the default). Linux only.
    """

    def __init__(self, port=None, host=LOOPBACK4):
        super().__init__()
        self.host = host
        self.port = port or free_port(host)
        s = socket.socket(_family(host), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, self.port))
        s.listen(0)
        self._sock = s
        self._fillers = []
        # Backlog 0 still admits one queued connection (the kernel tests
        # "queued > backlog"); fill until a connect stalls.
        for _ in range(4):
            c = socket.socket(_family(host), socket.SOCK_STREAM)
            c.settimeout(0.3)
            try:
                c.connect((host, self.port))
                self._fillers.append(c)
            except (socket.timeout, OSError):
                c.close()
                break
        else:
            self.stop()
            raise RuntimeError("ConnectTimeoutListener: accept queue did not fill "
                               "(net.ipv4.tcp_abort_on_overflow=1?)")

    @property
    def url(self):
        return "tcp://%s:%d" % (_host_in_url(self.host), self.port)

    def stop(self):
        for c in self._fillers:
            c.close()
        self._fillers = []
        self._sock.close()
        _unregister(self)


class UnixListener(_ThreadPeer):
    """A unix stream socket at `path`, created after `delay` seconds; accepts and closes."""

    def __init__(self, path, delay=0.0):
        super().__init__()
        self.path = str(path)
        self.delay = delay
        self.connections = 0
        self.listening = threading.Event()
        self.listened_at = None
        self.error = None
        self._start_thread(self._serve)
        if delay <= 0 and not self.listening.wait(5.0):
            raise RuntimeError("UnixListener did not start: %s" % self.error)

    @property
    def url(self):
        return "unix://" + self.path

    def _serve(self):
        if self._stop.wait(self.delay):
            return
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(self.path)
            s.listen(128)
        except OSError as e:
            self.error = e
            return
        self._accept_and_close(s)

    def stop(self):
        self._stop.set()
        self._join()
        if self.listening.is_set():
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass


class UdpBlackhole(_Peer):
    """A bound UDP port that never answers: a DNS server that times out.

    (A UDP port with nothing bound answers ICMP port-unreachable instead,
    which a resolver sees at once as "connection refused".)
    """

    def __init__(self, port=None, host=LOOPBACK4):
        self.host = host
        self.port = port or free_port(host, udp_too=True)
        self._sock = socket.socket(_family(host), socket.SOCK_DGRAM)
        self._sock.bind((host, self.port))
        _register(self)

    def stop(self):
        self._sock.close()
        _unregister(self)


# ---------------------------------------------------------------- HTTP

class Response:
    """A scripted HTTP answer.

    action: None (answer), "close" (close the connection without answering),
    "hang" (keep the connection open and never answer, until stop()).
    delay: seconds to sleep before answering (a slow server).
    chunked: send the body with Transfer-Encoding: chunked.
    """

    def __init__(self, status=200, body=b"", headers=None, delay=0.0, action=None, chunked=False):
        self.status = status
        self.body = body.encode() if isinstance(body, str) else bytes(body)
        self.headers = list((headers or {}).items()) if isinstance(headers, dict) else list(headers or [])
        self.delay = delay
        self.action = action
        self.chunked = chunked

    @classmethod
    def of(cls, spec):
        """Accepts a Response, an int status, or a tuple (status, body[, headers[, delay]])."""
        if isinstance(spec, Response):
            return spec
        if isinstance(spec, int):
            return cls(spec)
        return cls(*spec)


def redirect(location, status=302):
    """A redirect response to `location` (absolute URL or path)."""
    return Response(status, b"", {"Location": location})


CLOSE = Response(action="close")
HANG = Response(action="hang")

Request = collections.namedtuple("Request", "method path headers body time")
Request.__doc__ = """A request seen by HttpServer: headers is a dict with lower-case names
(the last value wins; `raw_headers` of the server log keeps all), time is time.monotonic()."""


class _Script:
    """Responses served in order, the last one repeating forever."""

    def __init__(self, spec):
        if callable(spec):
            self.handler, self.items = spec, None
        else:
            # A list is a sequence; a tuple starting with a status is one response.
            single = not isinstance(spec, (list, tuple)) or (isinstance(spec, tuple) and spec
                                                             and isinstance(spec[0], int))
            items = [spec] if single else list(spec)
            self.handler, self.items = None, [Response.of(s) for s in items]
        self.index = 0

    def next(self, request):
        if self.handler:
            return Response.of(self.handler(request))
        r = self.items[min(self.index, len(self.items) - 1)]
        self.index += 1
        return r


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _handle(self):
        server = self.server.peer
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                      body, time.monotonic())
        response = server._respond(req, list(self.headers.items()))
        if response.delay and server._stop.wait(response.delay):
            return
        if response.action == "close":
            self.close_connection = True
            return
        if response.action == "hang":
            server._stop.wait()
            self.close_connection = True
            return
        self.send_response(response.status)
        names = {k.lower() for k, _ in response.headers}
        for k, v in response.headers:
            self.send_header(k, v)
        if response.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif "content-length" not in names:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if response.chunked:
            for i in range(0, len(response.body), 7):
                part = response.body[i:i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(response.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle


class _HTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, family, ssl_context, peer):
        self.address_family = family
        self.ssl_context = ssl_context
        self.peer = peer
        super().__init__(addr, _Handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_context:
            # Handshake later, in the connection's thread, so one stalled
            # client cannot block the accept loop.
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        self.peer.errors += 1  # TLS handshakes a client rejected, resets: expected in tests


class HttpServer(_Peer):
    """A threaded HTTP(S) server with scripted behaviour and a request log.

    responses: what "/" and every unrouted path answer: a list of responses
      served in order, the last repeating (e.g. [(503, "warming"), (200, "ok")]),
      a single response (200, (200, "ok"), Response(...)), or a handler
      function(Request) -> response. Default: 200 "ok".
    routes: {path: responses-or-handler}; matched on the path without query
      first as written, else without the query string. Unknown paths get
      `responses`.
    delay: seconds every answer is delayed (slow mode), on top of a Response's own.
    tls: (certfile, keyfile) or a Certs from make_certs: serves HTTPS.
    `requests` is the log of Request tuples; `hits(path)` counts one path.
    """

    def __init__(self, responses=None, routes=None, delay=0.0, tls=None, host=LOOPBACK4, port=None):
        self.host = host
        self.delay = delay
        self.requests = []
        self.raw_headers = []
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._default = _Script(responses if responses is not None else (200, "ok"))
        self._routes = {p: _Script(r) for p, r in (routes or {}).items()}
        ctx = None
        if tls is not None:
            certfile, keyfile = (tls.server_cert, tls.server_key) if isinstance(tls, Certs) else tls
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
        self.scheme = "https" if ctx else "http"
        self._server = _HTTPServer((host, port or 0), _family(host), ctx, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        _register(self)

    def url(self, path="/", host=None):
        """http(s)://127.0.0.1:PORT/path (host overrides the name, e.g. "localhost")."""
        return "%s://%s:%d%s" % (self.scheme, _host_in_url(host or self.host), self.port, path)

    def _respond(self, req, raw_headers):
        with self._lock:
            self.requests.append(req)
            self.raw_headers.append(raw_headers)
            script = self._routes.get(req.path) or self._routes.get(req.path.split("?")[0]) or self._default
            response = script.next(req)
        if self.delay:
            response = Response(response.status, response.body, response.headers,
                                response.delay + self.delay, response.action, response.chunked)
        return response

    def hits(self, path=None):
        with self._lock:
            return sum(1 for r in self.requests if path is None or r.path == path)

    def stop(self):
        if not self._stop.is_set():
            self._stop.set()
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=2.0)
        _unregister(self)


# ---------------------------------------------------------------- TLS material

Certs = collections.namedtuple("Certs", "ca ca_key server_cert server_key self_signed_cert self_signed_key")
Certs.__doc__ = """Paths made by make_certs: a CA (ca, ca_key), a server certificate signed
by it (server_cert, server_key) and a plain self-signed one (self_signed_cert, _key)."""


def make_certs(directory, cn="test.example", san="DNS:test.example,DNS:localhost,IP:127.0.0.1,IP:::1",
               days=30):
    """Runs `openssl` to make a CA, a server cert signed by it, and a self-signed cert.

    Keys are EC P-256 (fast). `san` is an openssl subjectAltName value.
    """
    openssl = shutil.which("openssl")
    if not openssl:
        raise unittest.SkipTest("openssl command not installed")
    os.makedirs(directory, exist_ok=True)
    p = lambda name: os.path.join(directory, name)  # noqa: E731

    def sh(*args):
        r = subprocess.run([openssl] + list(args), capture_output=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (args[0], r.stderr.decode(errors="replace")))

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    sh("req", "-x509", *key, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", str(days),
       "-subj", "/CN=healthgate test CA",
       "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    sh("req", "-new", *key, "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=" + cn)
    with open(p("server.ext"), "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n" % san)
    sh("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
       "-CAcreateserial", "-out", p("server.pem"), "-days", str(days), "-extfile", p("server.ext"))
    sh("req", "-x509", *key, "-keyout", p("selfsigned.key"), "-out", p("selfsigned.pem"),
       "-days", str(days), "-subj", "/CN=" + cn, "-addext", "subjectAltName=" + san)
    return Certs(p("ca.pem"), p("ca.key"), p("server.pem"), p("server.key"),
                 p("selfsigned.pem"), p("selfsigned.key"))


# ---------------------------------------------------------------- DNS

DNSMASQ = "/usr/sbin/dnsmasq"
_QTYPES = {"A": 1, "AAAA": 28, "SRV": 33, "CNAME": 5, "TXT": 16}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def _read_name(msg, off):
    labels, jumped, end = [], False, off
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = off + 2
            off, jumped = ((n & 0x3F) << 8) | msg[off + 1], True
            continue
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n
    return ".".join(labels), (end if jumped else off)


def dns_query(name, qtype="A", port=53, server=LOOPBACK4, timeout=1.0):
    """One UDP query; returns (rcode name, [answers]) with answers as strings:
    "10.0.0.1", "fd00::1", "0 10 5432 target" (SRV), the name (CNAME).
    Raises socket.timeout when nothing answers. For checking peers, not healthgate.
    """
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", _QTYPES[qtype], 1)
    with socket.socket(_family(server), socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(q, (server, port))
        while True:
            msg, _ = s.recvfrom(4096)
            if struct.unpack("!H", msg[:2])[0] == qid:
                break
    flags, qd, an = struct.unpack("!HHH", msg[2:8])
    off = 12
    for _ in range(qd):
        _, off = _read_name(msg, off)
        off += 4
    answers = []
    for _ in range(an):
        _, off = _read_name(msg, off)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        rdata = msg[off:off + rdlen]
        if rtype == 1:
            answers.append(socket.inet_ntop(socket.AF_INET, rdata))
        elif rtype == 28:
            answers.append(socket.inet_ntop(socket.AF_INET6, rdata))
        elif rtype == 33:
            prio, weight, sport = struct.unpack("!HHH", rdata[:6])
            answers.append("%d %d %d %s" % (prio, weight, sport, _read_name(msg, off + 6)[0]))
        elif rtype == 5:
            answers.append(_read_name(msg, off)[0])
        off += rdlen
    return RCODES.get(flags & 0xF, str(flags & 0xF)), answers


def resolv_conf(directory, port, search=DEFAULT_SEARCH, ndots=5, nameserver=LOOPBACK4, options=(),
                name="resolv.conf"):
    """Writes a pod-like resolv.conf; returns its path.

    `nameserver 127.0.0.1:PORT` (or `[::1]:PORT`) is healthgate's documented
    extension, so a test server need not own port 53. port=None writes a plain
    `nameserver ADDR`. Extra `options` lines (e.g. "timeout:1") are appended
    to the options line.
    """
    if port is None:
        ns = nameserver
    else:
        ns = "%s:%d" % (_host_in_url(nameserver), port)
    lines = ["nameserver " + ns]
    if search:
        lines.append("search " + " ".join(search))
    lines.append("options " + " ".join(["ndots:%d" % ndots] + list(options)))
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


class DnsRcodeServer(_ThreadPeer):
    """A UDP DNS server answering every query with one rcode and no records:
    "SERVFAIL" (default), "REFUSED", "NXDOMAIN", ... Used directly as a
    nameserver, or behind Dnsmasq(servfail=[domain])."""

    def __init__(self, rcode="SERVFAIL", port=None, host=LOOPBACK4):
        super().__init__()
        codes = {v: k for k, v in RCODES.items()}
        self.rcode = codes[rcode] if isinstance(rcode, str) else int(rcode)
        self.host = host
        self.port = port or free_port(host, udp_too=True)
        self.queries = 0
        self._sock = socket.socket(_family(host), socket.SOCK_DGRAM)
        self._sock.bind((host, self.port))
        self._sock.settimeout(0.05)
        self._start_thread(self._serve)

    def _serve(self):
        while not self._stop.is_set():
            try:
                msg, addr = self._sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if len(msg) < 12:
                continue
            qid, flags, qd = struct.unpack("!HHH", msg[:6])
            off = 12
            try:
                for _ in range(qd):
                    _, off = _read_name(msg, off)
                    off += 4
            except (IndexError, struct.error):
                continue
            with self._lock:
                self.queries += 1
            # QR=1, opcode and RD copied, RA=1, the configured rcode; the question echoed.
            reply_flags = 0x8000 | (flags & 0x7900) | 0x0080 | self.rcode
            reply = struct.pack("!HHHHHH", qid, reply_flags, qd, 0, 0, 0) + msg[12:off]
            try:
                self._sock.sendto(reply, addr)
            except OSError:
                pass
        self._sock.close()

    def stop(self):
        self._stop.set()
        self._join()


def have_dnsmasq():
    return os.access(DNSMASQ, os.X_OK)


class Dnsmasq(_Peer):
    """Debian's dnsmasq in the foreground on 127.0.0.1:PORT (UDP and TCP), authoritative
    for what it is given and NXDOMAIN for every other name (no upstream at all).

    records: {name: address or [addresses]}: A for IPv4, AAAA for IPv6; several
      addresses give several answers. Names are absolute ("db.ns.svc.cluster.local").
    srv: [(service_name, target, port[, priority[, weight]])],
      e.g. ("_pg._tcp.db.ns.svc.cluster.local", "db.ns.svc.cluster.local", 5432).
    cname: {alias: target}.
    servfail: [domain]: queries below these are forwarded to a DnsRcodeServer
      answering SERVFAIL, which dnsmasq passes on.
    add_record(name, address) adds an answer while running (SIGHUP reload):
    a name that appears late.
    Skips the test (unittest.SkipTest) when dnsmasq is not installed.
    """

    def __init__(self, records=None, srv=(), cname=None, servfail=(), port=None, directory=None):
        if not have_dnsmasq():
            raise unittest.SkipTest("%s not installed (Debian package dnsmasq-base)" % DNSMASQ)
        import tempfile
        self._own_dir = directory is None
        self.directory = directory or tempfile.mkdtemp(prefix="hg-dnsmasq-")
        self.port = port or free_port(LOOPBACK4, udp_too=True)
        self.hosts_path = os.path.join(self.directory, "dnsmasq.hosts")
        self.log_path = os.path.join(self.directory, "dnsmasq.log")
        with open(self.hosts_path, "w") as f:
            for name, addrs in (records or {}).items():
                for a in ([addrs] if isinstance(addrs, str) else addrs):
                    f.write("%s %s\n" % (a, name))
        argv = [DNSMASQ, "--keep-in-foreground", "--port=%d" % self.port,
                "--listen-address=" + LOOPBACK4, "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--no-poll", "--pid-file=", "--conf-file=/dev/null", "--addn-hosts=" + self.hosts_path,
                "--log-queries", "--log-facility=" + self.log_path, "--cache-size=0"]
        if os.geteuid() == 0:
            argv.append("--user=root")
        for entry in srv:
            argv.append("--srv-host=" + ",".join(str(x) for x in entry))
        for alias, target in (cname or {}).items():
            argv.append("--cname=%s,%s" % (alias, target))
        self._servfail = DnsRcodeServer("SERVFAIL") if servfail else None
        for domain in servfail:
            argv.append("--server=/%s/127.0.0.1#%d" % (domain, self._servfail.port))
        # Every name not answered above: NXDOMAIN, as a cluster DNS says for a missing Service.
        argv.append("--local=/#/")
        self.argv = argv
        self._proc = Process(argv, new_session=True)
        _register(self)
        deadline = time.monotonic() + 5.0
        while True:
            try:
                dns_query("healthgate-startup-probe.invalid", port=self.port, timeout=0.2)
                break
            except OSError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    r = self._proc.stop()
                    raise RuntimeError("dnsmasq did not start: rc=%s %s" % (r.returncode, r.stderr.strip()))

    def resolv_conf(self, directory, search=DEFAULT_SEARCH, ndots=5, options=()):
        """A resolv.conf in `directory` pointing at this server (see resolv_conf())."""
        return resolv_conf(directory, self.port, search=search, ndots=ndots, options=options)

    def add_record(self, name, address):
        with open(self.hosts_path, "a") as f:
            f.write("%s %s\n" % (address, name))
        self._proc.send_signal(signal.SIGHUP)
        # The reload is asynchronous; wait until the new answer is served.
        qtype = "AAAA" if ":" in address else "A"
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            try:
                if address in dns_query(name, qtype, port=self.port, timeout=0.2)[1]:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("dnsmasq did not pick up %s %s" % (name, address))

    def query(self, name, qtype="A"):
        return dns_query(name, qtype, port=self.port)

    @property
    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self):
        self._proc.stop()
        if self._servfail:
            self._servfail.stop()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)
        _unregister(self)
