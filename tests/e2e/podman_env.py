"""A private podman environment for the end-to-end tests (standard library only).

No registry is reachable, so every image is built FROM scratch out of local
files: the healthgate image from the project's Dockerfile (target `prebuilt`,
with HEALTHGATE_BIN), helper images from Debian's static busybox. podman runs
as root with tests/e2e/containers.conf (through CONTAINERS_CONF, never /etc)
plus an infra (pause) image of our own.

Every pod, container, volume, network and image is named
hg-e2e-<pid>-<what> and removed by cleanup(), which the tests register before
creating anything; leftovers of a run that was killed (its pid is gone) are
swept at the start of the next one.

    env = PodmanEnv.create()          # raises unittest.SkipTest with the reason
    self.addClassCleanup(env.cleanup)
    hg = env.healthgate_image()
    env.kube_play({...manifest...})
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CONTAINERS_CONF = os.path.join(HERE, "containers.conf")
DOCKERFILE = os.path.join(REPO, "Dockerfile")
BUSYBOX = "/bin/busybox"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
NAME_RE = re.compile(r"hg-e2e-(\d+)-")

# The pod's infra container only holds the namespaces; it must stop on SIGTERM
# (a shell as PID 1 ignores signals it does not trap).
PAUSE_ENTRYPOINT = ["/bin/busybox", "sh", "-c",
                    "trap 'exit 0' TERM INT; while :; do /bin/busybox sleep 3600 & wait $!; done"]


def is_static_elf(path):
    """True when the ELF file has no PT_INTERP (no dynamic loader needed FROM scratch)."""
    with open(path, "rb") as f:
        header = f.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2:  # 64-bit only
            return False
        little = header[5] == 1
        order = "little" if little else "big"
        phoff = int.from_bytes(header[32:40], order)
        phentsize = int.from_bytes(header[54:56], order)
        phnum = int.from_bytes(header[56:58], order)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    for i in range(phnum):
        if int.from_bytes(table[i * phentsize:i * phentsize + 4], order) == 3:  # PT_INTERP
            return False
    return True


def free_port():
    """A TCP port free on 127.0.0.1 right now (for hostPort / --publish)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, interval=0.2, what="condition", explain=None):
    """Polls predicate() until it returns a true value; returns it or raises
    AssertionError, with explain() (e.g. the containers' logs) appended."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            details = f"\n{explain()}" if explain else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}{details}")
        time.sleep(interval)


def http_get(url, timeout=3):
    """(status, body) of a GET; HTTP errors are results, not exceptions; no answer is (None, "")."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None, ""


def wait_http(url, status, timeout, explain=None, interval=0.2, body=""):
    """Polls url until it answers `status` with `body` in the body; returns (status, body)."""
    def answered():
        result = http_get(url)
        return result if result[0] == status and body in result[1] else None
    return wait_for(answered, timeout, interval=interval, what=f"{url} to answer {status} {body}".rstrip(),
                    explain=explain)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PodmanEnv:
    def __init__(self, workdir):
        self.workdir = workdir
        self.prefix = f"hg-e2e-{os.getpid()}-"
        self.conf = os.path.join(workdir, "containers.conf")
        self.env = dict(os.environ, CONTAINERS_CONF=self.conf)
        # What to remove, by kind; removed in reverse dependency order.
        self.created = {"pod": [], "container": [], "volume": [], "network": [], "image": []}
        self._shared = {}  # images and the network built once per run

    # --- set-up -------------------------------------------------------------
    @staticmethod
    def skip_reason():
        """Why the e2e tests cannot run here, or None."""
        if os.geteuid() != 0:
            return "podman e2e tests run podman as root (rootless podman is not set up here)"
        for tool in ("podman", "runc"):
            if shutil.which(tool) is None:
                return f"{tool} not installed (apt-get install podman runc)"
        if not os.path.exists(BUSYBOX) or not is_static_elf(BUSYBOX):
            return f"{BUSYBOX} is missing or not static (apt-get install busybox-static)"
        binary = os.environ.get("HEALTHGATE_BIN")
        if not binary or not os.path.exists(binary):
            return "HEALTHGATE_BIN is not set to the built binary"
        if not is_static_elf(binary):
            return f"{binary} is dynamically linked; a FROM scratch image needs HEALTHGATE_STATIC=ON"
        return None

    @classmethod
    def create(cls):
        """A ready environment, or unittest.SkipTest naming what is missing."""
        reason = cls.skip_reason()
        if reason:
            raise unittest.SkipTest(reason)
        env = cls(tempfile.mkdtemp(prefix="hg-e2e-"))
        env._write_conf(infra_image=None)
        info = env.podman("info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}}",
                          check=False, timeout=60)
        if info.returncode != 0:
            shutil.rmtree(env.workdir, ignore_errors=True)
            raise unittest.SkipTest(f"podman info failed: {info.stderr.strip()[-300:]}")
        env.sweep_stale()
        return env

    def _write_conf(self, infra_image):
        with open(CONTAINERS_CONF) as f:
            text = f.read()
        if infra_image:
            text = text.replace("[engine]\n", f'[engine]\ninfra_image = "{infra_image}"\n', 1)
        with open(self.conf, "w") as f:
            f.write(text)

    def name(self, what):
        """A unique, lowercase resource name: hg-e2e-<pid>-<what>."""
        return f"{self.prefix}{what}"

    # --- running podman -----------------------------------------------------
    def podman(self, *args, check=True, timeout=120, input=None):
        # In the work directory: with cgroup v1, conmon writes a file named
        # "oom" into its working directory when a container is OOM-killed.
        result = subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True,
                                timeout=timeout, input=input, cwd=self.workdir)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        return result

    @staticmethod
    def stop_process(process):
        """Kills a background podman command if still running and reaps it."""
        if process.poll() is None:
            process.kill()
        process.communicate()

    def popen(self, *args):
        """A podman command in the background (kube play blocks while init containers run)."""
        return subprocess.Popen(["podman", *args], env=self.env, cwd=self.workdir, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

    # --- images -------------------------------------------------------------
    def build(self, what, containerfile, files=(), target=None, build_args=None, dockerfile=None):
        """Builds localhost/hg-e2e-<pid>-<what>:test from a context of local files.

        files: (source path, name in context) pairs. containerfile: its text,
        or None with dockerfile= a path outside the context."""
        ref = f"localhost/{self.name(what)}:test"
        context = tempfile.mkdtemp(prefix="ctx-", dir=self.workdir)
        for source, name in files:
            shutil.copy2(source, os.path.join(context, name))
        if dockerfile is None:
            dockerfile = os.path.join(context, "Containerfile")
            with open(dockerfile, "w") as f:
                f.write(containerfile)
        args = ["build", "--layers=false", "--pull=never", "-f", dockerfile, "-t", ref]
        if target:
            args += ["--target", target]
        for key, value in (build_args or {}).items():
            args += ["--build-arg", f"{key}={value}"]
        self.created["image"].append(ref)
        self.podman(*args, context, timeout=300)
        shutil.rmtree(context, ignore_errors=True)
        return ref

    def healthgate_image(self):
        """The project's image, Dockerfile target `prebuilt`, from HEALTHGATE_BIN."""
        if "healthgate" not in self._shared:
            self._shared["healthgate"] = self.build(
                "healthgate", None, dockerfile=DOCKERFILE, target="prebuilt",
                files=[(os.environ["HEALTHGATE_BIN"], "healthgate"), (CA_BUNDLE, "ca-certificates.crt"),
                       (os.environ["HEALTHGATE_BIN"] + ".cdx.json", "healthgate.cdx.json")])
        return self._shared["healthgate"]

    def busybox_image(self, what="busybox", extra_files=(), lines=()):
        """FROM scratch with /bin/busybox (its shell runs applets without links)."""
        body = ["FROM scratch", f"COPY busybox {BUSYBOX}", f"COPY busybox /bin/sh"]
        body += [f"COPY {name} /bin/{name}" for _, name in extra_files]
        body += list(lines) or [f'ENTRYPOINT ["{BUSYBOX}"]']
        return self.build(what, "\n".join(body) + "\n", files=[(BUSYBOX, "busybox"), *extra_files])

    def use_pause_image(self):
        """Builds our pause image and makes it the infra image of every pod."""
        if "pause" not in self._shared:
            ref = self.busybox_image("pause", lines=[f"ENTRYPOINT {json.dumps(PAUSE_ENTRYPOINT)}"])
            self._shared["pause"] = ref
            self._write_conf(infra_image=ref)
        return self._shared["pause"]

    def compile_static(self, source_text, name):
        """gcc -static of a small C program; returns the path (for a helper image)."""
        src = os.path.join(self.workdir, name + ".c")
        out = os.path.join(self.workdir, name)
        with open(src, "w") as f:
            f.write(source_text)
        result = subprocess.run(["gcc", "-static", "-O2", "-o", out, src], capture_output=True, text=True)
        if result.returncode != 0:
            raise AssertionError(f"gcc -static {name}.c failed:\n{result.stderr}")
        return out

    # --- pods, containers, networks -------------------------------------------
    def network(self, what="net"):
        """A bridge network with DNS (aardvark): containers find each other by name."""
        name = self.name(what)
        self.created["network"].append(name)
        self.podman("network", "create", name)
        return name

    def default_network(self):
        if "network" not in self._shared:
            self._shared["network"] = self.network("net")
        return self._shared["network"]

    def register_container(self, name):
        self.created["container"].append(name)
        return name

    def register_pod(self, manifest):
        """Records the pod and its emptyDir volumes for cleanup (before play),
        and keeps its init containers: by default kube play removes one, log
        and exit code included, as soon as it succeeds."""
        annotations = manifest["metadata"].setdefault("annotations", {})
        annotations["io.podman.annotations.init.container.type"] = "always"
        name = manifest["metadata"]["name"]
        self.created["pod"].append(name)
        for volume in manifest.get("spec", {}).get("volumes", []) or []:
            if "emptyDir" in volume or "persistentVolumeClaim" in volume:
                self.created["volume"].append(volume["name"])
        return name

    def write_manifest(self, manifest):
        path = os.path.join(self.workdir, manifest["metadata"]["name"] + ".json")
        with open(path, "w") as f:
            json.dump(manifest, f, indent=1)  # YAML is a superset of JSON
        return path

    def kube_play(self, manifest, network=None, background=False, timeout=120):
        """podman kube play of one Pod (a dict). Blocks while init containers run,
        unless background=True (then returns the Popen)."""
        self.register_pod(manifest)
        # Always a network of ours: without one, kube play creates (and keeps)
        # podman-default-kube-network.
        args = ["kube", "play", "--network", network or self.default_network()]
        args.append(self.write_manifest(manifest))
        if background:
            return self.popen(*args)
        return self.podman(*args, timeout=timeout)

    def inspect(self, name):
        result = self.podman("container", "inspect", name)
        return json.loads(result.stdout)[0]

    def state(self, name):
        return self.inspect(name)["State"]

    def logs(self, name):
        result = self.podman("logs", name)
        return result.stdout + result.stderr

    def pod_logs(self, pod):
        """Every container's state and log in a pod, for failure messages."""
        listing = self.podman("ps", "-a", "--filter", f"pod={pod}", "--format", "{{.Names}}", check=False)
        parts = []
        for name in listing.stdout.split():
            result = self.podman("logs", name, check=False)
            state = self.podman("container", "inspect", "--format",
                                "{{.State.Status}} exit={{.State.ExitCode}}", name, check=False)
            parts.append(f"--- {name} ({state.stdout.strip()}):\n{result.stdout}{result.stderr}")
        return "\n".join(parts)

    def wait_exited(self, name, timeout):
        def exited():
            state = self.state(name)
            return state if state["Status"] in ("exited", "stopped") else None
        return wait_for(exited, timeout, what=f"container {name} to exit")

    # --- cleanup --------------------------------------------------------------
    def cleanup(self):
        """Removes everything this run created; reports what could not be removed."""
        failures = []
        commands = [("pod", ["pod", "rm", "-f", "-t", "0"]),
                    ("container", ["rm", "-f", "-t", "0"]),
                    ("volume", ["volume", "rm", "-f"]),
                    ("network", ["network", "rm", "-f"]),
                    ("image", ["rmi", "-f"])]
        for kind, command in commands:
            names = list(dict.fromkeys(self.created[kind]))
            for name in reversed(names):
                result = self.podman(*command, name, check=False, timeout=120)
                if result.returncode != 0 and "no such" not in result.stderr.lower() \
                        and "not found" not in result.stderr.lower():
                    failures.append(f"podman {' '.join(command)} {name}: {result.stderr.strip()}")
            self.created[kind].clear()
        shutil.rmtree(self.workdir, ignore_errors=True)
        if failures:
            raise AssertionError("cleanup failed:\n" + "\n".join(failures))

    def sweep_stale(self):
        """Removes hg-e2e-<pid>-* resources whose test process no longer runs."""
        listings = [("pod", ["pod", "ls", "--format", "{{.Name}}"], ["pod", "rm", "-f", "-t", "0"]),
                    ("container", ["ps", "-a", "--format", "{{.Names}}"], ["rm", "-f", "-t", "0"]),
                    ("volume", ["volume", "ls", "--format", "{{.Name}}"], ["volume", "rm", "-f"]),
                    ("network", ["network", "ls", "--format", "{{.Name}}"], ["network", "rm", "-f"]),
                    ("image", ["images", "--format", "{{.Repository}}:{{.Tag}}"], ["rmi", "-f"])]
        for _, listing, remove in listings:
            result = self.podman(*listing, check=False)
            for line in result.stdout.split():
                match = NAME_RE.search(line)
                if match and not _pid_alive(int(match.group(1))):
                    self.podman(*remove, line, check=False)
