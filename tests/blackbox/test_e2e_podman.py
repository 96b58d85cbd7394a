"""End-to-end: healthgate as users run it, in a real container runtime.

podman (as root, runc, tests/e2e/containers.conf) runs the image built from
the project's Dockerfile (target `prebuilt`, with HEALTHGATE_BIN) next to
helper images made FROM scratch out of Debian's static busybox:
  - an init container holds the app back until a late dependency listens;
  - `healthgate run` records an OOM kill (peak and limit) and a crash's FATAL
    line in the termination message file, with the app's exit code;
  - `healthgate serve` in a pod answers /readyz on a hostPort from the host;
  - https:// checks in the image verify against the image's CA bundle.
Skipped, with the reason, without root, podman, runc, busybox-static or a
static HEALTHGATE_BIN. Everything created is named hg-e2e-<pid>-* and
removed afterwards, also when a test fails.
"""
import datetime
import json
import os
import re
import sys
import tarfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from podman_env import (DOCKERFILE, PodmanEnv, free_port, http_get, wait_for,  # noqa: E402
                        wait_http)

# Allocates 1 MiB at a time and touches it, until killed: no dependency on
# healthgate or busybox, a plain process the OOM killer picks.
HOG_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char** argv) {
    long mib = argc > 1 ? atol(argv[1]) : 1024;
    printf("allocating %ld MiB\n", mib);
    fflush(stdout);
    for (long i = 0; i < mib; ++i) {
        char* p = malloc(1 << 20);
        if (!p) { perror("malloc"); return 3; }
        memset(p, 1, 1 << 20);
    }
    puts("allocated without being killed");
    return 0;
}
"""

MEMORY_LIMIT_MIB = 48


class PodmanEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = PodmanEnv.create()
        cls.addClassCleanup(cls.env.cleanup)
        env = cls.env
        env.use_pause_image()
        cls.healthgate = env.healthgate_image()
        cls.busybox = env.busybox_image()
        hog = env.compile_static(HOG_C, "hog")
        # The app image bundles healthgate the way users do: COPY --from the image.
        # (Not via a named stage `FROM image AS x`: buildah 1.28 with
        # --layers=false deletes that stage's image, ours, after the build.)
        cls.app = env.build("app", "\n".join([
            "FROM scratch",
            f"COPY --from={cls.healthgate} /healthgate /usr/local/bin/healthgate",
            "COPY busybox /bin/busybox",
            "COPY busybox /bin/sh",
            "COPY hog /bin/hog",
            'ENTRYPOINT ["/usr/local/bin/healthgate", "run", "--"]',
        ]) + "\n", files=[("/bin/busybox", "busybox"), (hog, "hog")])

    # --- the image itself ---------------------------------------------------------
    def test_image_holds_only_the_binary_the_ca_bundle_and_the_sbom_as_non_root(self):
        env = self.env
        config = env.podman("image", "inspect", self.healthgate, "--format",
                            "{{json .Config.User}} {{json .Config.Entrypoint}}").stdout.split()
        self.assertEqual(json.loads(config[0]), "65532:65532")
        self.assertEqual(json.loads(config[1]), ["/healthgate"])
        archive = os.path.join(env.workdir, "image.tar")
        env.podman("save", "--format", "docker-archive", "-o", archive, self.healthgate)
        files = {}
        with tarfile.open(archive) as outer:
            for member in outer.getmembers():
                if member.name.endswith(".tar"):
                    with tarfile.open(fileobj=outer.extractfile(member)) as layer:
                        files.update({m.name.lstrip("./"): m for m in layer.getmembers() if m.isfile()})
        sbom = "usr/share/doc/healthgate/healthgate.cdx.json"
        self.assertEqual(sorted(files), ["etc/ssl/certs/ca-certificates.crt", "healthgate", sbom])
        self.assertEqual(files[sbom].size, os.path.getsize(os.environ["HEALTHGATE_BIN"] + ".cdx.json"))
        labels = json.loads(env.podman("image", "inspect", self.healthgate, "--format",
                                       "{{json .Config.Labels}}").stdout)
        self.assertEqual(labels["org.opencontainers.image.sbom"], "/" + sbom)
        self.assertEqual(labels["org.opencontainers.image.sbom.format"], "CycloneDX 1.5 JSON")
        self.assertEqual(files["healthgate"].size, os.path.getsize(os.environ["HEALTHGATE_BIN"]))
        self.assertTrue(files["healthgate"].mode & 0o111, "the binary is executable")
        result = env.podman("run", "--rm", self.healthgate, "--version")
        self.assertRegex(result.stdout, r"^healthgate \d+\.\d+\.\d+")

    # --- gate -----------------------------------------------------------------
    def test_init_container_holds_the_app_until_the_dependency_listens(self):
        env = self.env
        network = env.network("gate-net")
        postgres = env.register_container(env.name("gate-postgres"))
        # Running (its name resolves) but listening only after 6 s: connection refused first.
        env.podman("run", "-d", "--name", postgres, "--network", network, "--network-alias", "postgres",
                   self.busybox, "sh", "-c",
                   "sleep 6; echo listening; exec /bin/busybox httpd -f -p 5432 -h /")
        pod = env.name("gate")
        manifest = {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod},
            "spec": {
                "restartPolicy": "Never",
                "initContainers": [{
                    "name": "wait-for-postgres", "image": self.healthgate,
                    "args": ["wait", "--timeout=60s", "tcp://postgres:5432"],
                }],
                "containers": [{
                    "name": "app", "image": self.busybox,
                    "command": ["/bin/busybox", "sh", "-c", "echo app started; exec sleep 600"],
                }],
            },
        }
        init, app = f"{pod}-wait-for-postgres", f"{pod}-app"
        play = env.kube_play(manifest, network=network, background=True)
        self.addCleanup(env.stop_process, play)
        explain = lambda: env.pod_logs(pod)  # noqa: E731

        # While postgres refuses connections: the init container says so, the app is not started.
        def log():
            result = env.podman("logs", init, check=False)
            return result.stdout + result.stderr if result.returncode == 0 else ""
        waiting = wait_for(lambda: "connection refused" in log() and log(), 30,
                           what="the init container to log the refused connection", explain=explain)
        self.assertIn("postgres:5432", waiting)
        self.assertIn("not ready", waiting)
        self.assertNotEqual(env.state(app)["Status"], "running")
        self.assertIsNone(play.poll(), "kube play returned while the dependency was down")

        out, err = play.communicate(timeout=60)
        self.assertEqual(play.returncode, 0, f"kube play failed:\n{out}\n{err}\n{explain()}")
        wait_for(lambda: env.state(app)["Status"] == "running", 30, what="the app to run", explain=explain)
        self.assertEqual(env.state(init)["ExitCode"], 0)
        self.assertIn("target ready target=tcp://postgres:5432", env.logs(init))

        # The app started after postgres began listening, never before.
        listening = env.podman("logs", "--timestamps", postgres).stdout
        match = re.search(r"^(\S+) .*listening", listening, re.M)
        self.assertIsNotNone(match, listening)
        self.assertGreaterEqual(parse_time(env.state(app)["StartedAt"]), parse_time(match.group(1)))

    # --- sidecar: why it died ----------------------------------------------------
    def _run_app(self, what, args, memory_mib=None):
        """podman run of the app image (healthgate run -- ARGS) with a host file at
        /dev/termination-log, as the kubelet mounts it; returns (exit code, message)."""
        env = self.env
        message_file = os.path.join(env.workdir, f"{what}-termination-log")
        with open(message_file, "w"):
            pass
        os.chmod(message_file, 0o666)  # the kubelet's mode: writable by any user
        name = env.register_container(env.name(what))
        command = ["run", "--name", name, "-v", f"{message_file}:/dev/termination-log"]
        if memory_mib:
            command += ["--memory", f"{memory_mib}m", "--memory-swap", f"{memory_mib}m"]
        result = env.podman(*command, self.app, *args, check=False, timeout=120)
        with open(message_file, encoding="utf-8") as f:
            message = f.read()
        return result, message

    def test_oom_kill_is_reported_with_peak_and_limit(self):
        result, message = self._run_app("oom", ["/bin/hog", "1024"], memory_mib=MEMORY_LIMIT_MIB)
        details = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\nmessage:\n{message}"
        self.assertEqual(result.returncode, 137, details)
        self.assertNotIn("allocated without being killed", result.stdout, details)
        self.assertRegex(message, r"(?i)\bOOM", details)
        first_line = message.splitlines()[0] if message else ""
        self.assertRegex(first_line, r"(?i)oom", "the verdict comes first:\n" + details)
        self.assertRegex(message, r"(?i)peak", details)
        # The limit, in whatever unit the message uses.
        limit_forms = [f"{MEMORY_LIMIT_MIB}Mi", f"{MEMORY_LIMIT_MIB} MiB", f"{MEMORY_LIMIT_MIB}MiB",
                       str(MEMORY_LIMIT_MIB * 1024 * 1024)]
        self.assertTrue(any(form in message for form in limit_forms),
                        f"the limit ({MEMORY_LIMIT_MIB} MiB) is not in the message:\n{details}")
        self.assertLessEqual(len(message.encode()), 4096)

    def test_crash_shows_the_fatal_line_in_the_termination_message(self):
        script = 'echo "starting orders"; echo "FATAL: DATABASE_URL is not set" >&2; exit 1'
        result, message = self._run_app("crash", ["/bin/sh", "-c", script])
        details = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\nmessage:\n{message}"
        self.assertEqual(result.returncode, 1, details)
        self.assertIn("FATAL: DATABASE_URL is not set", message, details)
        self.assertLessEqual(len(message.encode()), 4096)

    # --- probe: serve in a pod ------------------------------------------------------
    def test_probe_server_answers_readyz_from_the_host(self):
        env = self.env
        port = free_port()
        pod = env.name("serve")
        manifest = {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod},
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "healthgate", "image": self.healthgate,
                        "args": ["serve", "--listen", ":8081", "--drain", "3s", "--interval", "1s", "--timeout", "500ms",
                                 "--readiness", "tcp://127.0.0.1:5432"],
                        "ports": [{"containerPort": 8081, "hostPort": port, "hostIP": "127.0.0.1"}],
                    },
                    {
                        # The pod's database, listening 5 s late on the pod's loopback.
                        "name": "db", "image": self.busybox,
                        "command": ["/bin/busybox", "sh", "-c",
                                    "sleep 5; exec /bin/busybox httpd -f -p 127.0.0.1:5432 -h /"],
                    },
                ],
            },
        }
        env.kube_play(manifest)
        base = f"http://127.0.0.1:{port}"
        explain = lambda: env.pod_logs(pod)  # noqa: E731
        # 503 with the reason once the first check has run (before: "no result yet").
        down = wait_http(base + "/readyz", 503, 30, explain, body="refused")
        self.assertRegex(down[1], r"\[-\]\S*127\.0\.0\.1:5432")
        status, body = http_get(base + "/livez")
        self.assertEqual(status, 200, body)

        up = wait_http(base + "/readyz", 200, 30, explain)
        self.assertEqual(up[1].strip(), "ok")

        # SIGTERM: readiness turns 503 at once, liveness keeps answering, then serve exits 0.
        serve = f"{pod}-healthgate"
        env.podman("kill", "--signal", "TERM", serve)
        wait_http(base + "/readyz", 503, 10, explain, interval=0.05)
        status, _ = http_get(base + "/livez")
        self.assertEqual(status, 200)
        state = env.wait_exited(serve, 30)
        self.assertEqual(state["ExitCode"], 0)


class ImageCaBundle(unittest.TestCase):
    """https:// checks in the image verify against the image's own CA bundle
    (/etc/ssl/certs/ca-certificates.crt, SSL_CERT_FILE): an image whose
    bundle is a test CA trusts a server signed by it; the image with Debian's
    bundle rejects that server. The server is on the host's loopback, the
    container in the host's network namespace."""

    @classmethod
    def setUpClass(cls):
        cls.env = PodmanEnv.create()
        cls.addClassCleanup(cls.env.cleanup)

    def test_https_check_uses_the_bundle_in_the_image(self):
        import peers
        env = self.env
        certs = peers.make_certs(os.path.join(env.workdir, "certs"), cn="localhost")
        server = peers.HttpServer((200, "ok"), tls=certs)
        self.addCleanup(server.stop)
        url = server.url("/healthz", host="localhost")
        with_test_ca = env.build(
            "healthgate-test-ca", None, dockerfile=DOCKERFILE, target="prebuilt",
            files=[(os.environ["HEALTHGATE_BIN"], "healthgate"), (certs.ca, "ca-certificates.crt"),
                   (os.environ["HEALTHGATE_BIN"] + ".cdx.json", "healthgate.cdx.json")])
        trusted = env.podman("run", "--rm", "--network", "host", with_test_ca, "probe", "--timeout", "5s", url,
                             check=False)
        self.assertEqual(trusted.returncode, 0, trusted.stdout + trusted.stderr)
        self.assertIn("[+]", trusted.stdout)

        debian = env.podman("run", "--rm", "--network", "host", env.healthgate_image(), "probe",
                            "--timeout", "5s", url, check=False)
        self.assertEqual(debian.returncode, 1, debian.stdout + debian.stderr)
        self.assertRegex(debian.stdout, r"\[-\].*(?i:verif|certificate)", debian.stderr)


def parse_time(text):
    """Seconds since the epoch of podman's RFC 3339 times (nanoseconds, Z or offset)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text.strip())
    if not match:
        raise AssertionError(f"not an RFC 3339 time: {text!r}")
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    whole = datetime.datetime.fromisoformat(match.group(1) + zone).timestamp()
    return whole + float("0." + (match.group(2) or "0"))


if __name__ == "__main__":
    unittest.main()
