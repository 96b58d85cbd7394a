"""End-to-end: a Pod injected by `healthgate inject` runs in podman
(`podman kube play`, as tests/e2e/podman_env.py sets it up): the install
init container copies the binary into the emptyDir, the gate init container
waits for a dependency of the pod, and the app's command runs wrapped by
`healthgate run`, which reports its exit and keeps its history in the
emptyDir. And the serve sidecar with --exec-probes: the app's probe, an exec
of `probe --from` serve's socket, answers from serve's check of the app.
podman does not implement native sidecars (restartPolicy: Always), so that
test runs serve as one of the pod's containers. podman also refuses
annotation values over 63 bytes
(Kubernetes does not), so the record of what inject changed is dropped
before the pod is played. Skipped with the reason where podman cannot run.
"""
import os
import subprocess
import sys
import unittest

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from podman_env import PodmanEnv, wait_for  # noqa: E402

HG = os.environ.get("HEALTHGATE_BIN", "healthgate")


class InjectedPodInPodman(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = PodmanEnv.create()
        cls.addClassCleanup(cls.env.cleanup)
        cls.env.use_pause_image()
        cls.healthgate = cls.env.healthgate_image()
        cls.busybox = cls.env.busybox_image()

    def test_injected_pod_installs_gates_and_wraps_the_app(self):
        env = self.env
        pod = env.name("inject")
        original = {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod},
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {"name": "app", "image": self.busybox,
                     "command": ["/bin/busybox", "sh", "-c", "echo app ran; sleep 1; exit 3"]},
                    {"name": "other", "image": self.busybox,
                     "command": ["/bin/busybox", "sh", "-c", "echo not wrapped"]},
                ],
            },
        }
        r = subprocess.run([HG, "inject", "--image", self.healthgate, "--container", "app",
                            "--wait", "file:///healthgate", "-"],
                           input=yaml.safe_dump(original), capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        manifest = yaml.safe_load(r.stdout)
        # podman (4.3) refuses annotation values over 63 bytes, a limit of
        # label values that Kubernetes does not put on annotations; the record
        # of what inject changed is not needed to run the pod.
        del manifest["metadata"]["annotations"]["healthgate.dev/injected"]
        env.kube_play(manifest)
        explain = lambda: env.pod_logs(pod)  # noqa: E731
        app = f"{pod}-app"
        state = env.wait_exited(app, 60)
        self.assertEqual(state["ExitCode"], 3, explain())
        logs = env.logs(app)
        self.assertIn("app ran", logs)
        # Wrapped: the container ran `run`, whose exit code is the app's; by
        # default run adds nothing to the app's streams (the verdict goes to
        # the termination message), so the command line is what shows it.
        config = env.inspect(app)
        command = [config["Path"], *config["Args"]]
        self.assertEqual(command[:2], ["/hg/healthgate", "run"], command)
        self.assertEqual(command[-4:], ["/bin/busybox", "sh", "-c", "echo app ran; sleep 1; exit 3"], command)
        self.assertEqual(env.state(f"{pod}-healthgate-install")["ExitCode"], 0, explain())
        self.assertEqual(env.state(f"{pod}-healthgate-wait")["ExitCode"], 0, explain())
        other = env.wait_exited(f"{pod}-other", 30)
        self.assertEqual(other["ExitCode"], 0)
        other_config = env.inspect(f"{pod}-other")
        self.assertEqual(other_config["Path"], "/bin/busybox")  # --container app: left alone

    def test_serve_sidecar_answers_the_exec_probe_from_its_socket(self):
        """--exec-probes: the app's readiness probe becomes an exec of `probe
        --from` serve's socket in the shared emptyDir, which answers from
        serve's cached check of the app (over the pod's loopback). podman 4.3
        runs no native sidecar (an init container with restartPolicy:
        Always), so the test moves healthgate-serve to the pod's containers,
        where it runs the same way beside the app."""
        env = self.env
        pod = env.name("inject-serve")
        app_command = ["/bin/busybox", "sh", "-c",
                       "mkdir -p /www && echo ok > /www/healthz && /bin/busybox httpd -p 127.0.0.1:8080 -h /www "
                       "&& exec /bin/busybox sleep 600"]
        original = {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{
                    "name": "app", "image": self.busybox, "command": app_command,
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 1},
                }],
            },
        }
        r = subprocess.run([HG, "inject", "--image", self.healthgate, "--exec-probes", "--serve-config", "inline",
                            "-"], input=yaml.safe_dump(original), capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        manifest = yaml.safe_load(r.stdout)
        del manifest["metadata"]["annotations"]["healthgate.dev/injected"]
        spec = manifest["spec"]
        serve = next(c for c in spec["initContainers"] if c["name"] == "healthgate-serve")
        self.assertEqual(serve.pop("restartPolicy"), "Always")
        spec["initContainers"].remove(serve)
        spec["containers"].append(serve)
        probe = spec["containers"][0]["readinessProbe"]["exec"]["command"]
        self.assertEqual(probe, ["/hg/healthgate", "probe", "--from", "unix:///hg/serve.sock", "/app/readyz"])
        env.kube_play(manifest)
        explain = lambda: env.pod_logs(pod)  # noqa: E731
        app = f"{pod}-app"

        def probe_result(code):
            def answered():
                result = env.podman("exec", app, *probe, check=False)
                return result if result.returncode == code else None
            return answered

        ok = wait_for(probe_result(0), 60, what="serve's readyz through its socket", explain=explain)
        self.assertIn("readyz check passed", ok.stdout + ok.stderr)
        # The app stops answering 200: serve's cached check says why, and the
        # exec probe (what the kubelet puts in the event) shows it.
        env.podman("exec", app, "/bin/busybox", "rm", "/www/healthz")
        failed = wait_for(probe_result(1), 30, what="readyz to fail", explain=explain)
        self.assertIn("[-]readiness failed:", failed.stdout)
        self.assertIn("404", failed.stdout)


if __name__ == "__main__":
    unittest.main()
