"""The examples/ directory: every manifest parses and is well formed, every
healthgate config in it is accepted by `healthgate config check`, and the
examples run in podman with local stand-ins for their images (busybox
listeners for Postgres, Redis and the HTTP API; a busybox app).

Parsing needs python3-yaml (Debian's PyYAML); the runs need what
test_e2e_podman needs (root, podman, runc, busybox-static, a static
HEALTHGATE_BIN) and are skipped with the reason otherwise.
"""
import glob
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from podman_env import PodmanEnv, free_port, http_get, wait_for, wait_http  # noqa: E402

try:
    import yaml
except ImportError:  # reported by every test below
    yaml = None

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "examples")
HEALTHGATE_IMAGE = "registry.example.com/healthgate:0.1.0"
SUBCOMMANDS = {"wait", "probe", "serve", "config", "run", "install"}


def need_yaml():
    if yaml is None:
        raise unittest.SkipTest("python3-yaml is not installed (apt-get install python3-yaml)")


def example_dirs():
    return sorted(d for d in glob.glob(os.path.join(EXAMPLES, "*")) if os.path.isdir(d))


def manifest_files():
    return sorted(glob.glob(os.path.join(EXAMPLES, "*", "*.yaml")) +
                  glob.glob(os.path.join(EXAMPLES, "*", "*.yml")))


def load_documents(path):
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def load_example(name):
    """The documents of examples/<name>/*.yaml, by kind."""
    docs = []
    for path in sorted(glob.glob(os.path.join(EXAMPLES, name, "*.yaml"))):
        docs += load_documents(path)
    return docs


def pod_spec(doc):
    """The pod spec of a Pod or of a workload's template, else None."""
    kind = doc.get("kind")
    if kind == "Pod":
        return doc["spec"]
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return doc["spec"]["template"]["spec"]
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def all_containers(spec):
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def healthgate_argv(container):
    """The healthgate command line a container runs, or None: the image's
    entrypoint with args, or an explicit /…/healthgate command."""
    command = list(container.get("command") or [])
    args = list(container.get("args") or [])
    if container.get("image") == HEALTHGATE_IMAGE and not command:
        return args
    if command and os.path.basename(command[0]) == "healthgate":
        return command[1:] + args
    return None


def exec_probe_argvs(container):
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container.get(kind) or {}
        command = (probe.get("exec") or {}).get("command")
        if command:
            yield kind, command


class ExampleFiles(unittest.TestCase):
    """Static checks: no container runtime needed."""

    def setUp(self):
        need_yaml()

    def test_there_are_the_five_examples_each_with_a_readme(self):
        dirs = [os.path.basename(d) for d in example_dirs()]
        self.assertEqual(len(dirs), 5, dirs)
        for d in example_dirs():
            readme = os.path.join(d, "README.md")
            self.assertTrue(os.path.exists(readme), f"{readme} is missing")
            with open(readme) as f:
                text = f.read()
            # Each says what `kubectl describe pod` (or compose's log) prints when things fail.
            self.assertRegex(text, r"kubectl describe pod|docker compose (logs|ps)", readme)
            self.assertTrue(glob.glob(os.path.join(d, "*.yaml")), f"{d} has no manifest")

    def test_every_manifest_parses_and_names_its_kind(self):
        files = manifest_files()
        self.assertGreaterEqual(len(files), 5)
        for path in files:
            with self.subTest(path=os.path.relpath(path, EXAMPLES)):
                docs = load_documents(path)
                self.assertTrue(docs, "no YAML document")
                for doc in docs:
                    self.assertIsInstance(doc, dict)
                    if "services" in doc:  # compose file
                        self.assertIsInstance(doc["services"], dict)
                        continue
                    for key in ("apiVersion", "kind", "metadata"):
                        self.assertIn(key, doc)
                    self.assertTrue(doc["metadata"].get("name"))

    def test_pod_specs_are_consistent(self):
        """What `kubectl apply` would reject or a pod would fail on: duplicate
        names, mounts of undeclared volumes, probes on undeclared ports,
        restartPolicy Always outside initContainers, configMaps not in the example."""
        for path in manifest_files():
            docs = load_documents(path)
            configmaps = {d["metadata"]["name"] for d in docs if d.get("kind") == "ConfigMap"}
            for doc in docs:
                spec = pod_spec(doc) if "kind" in doc else None
                if spec is None:
                    continue
                with self.subTest(path=os.path.relpath(path, EXAMPLES), kind=doc["kind"]):
                    containers = all_containers(spec)
                    names = [c["name"] for c in containers]
                    self.assertEqual(len(names), len(set(names)), names)
                    volumes = {v["name"]: v for v in spec.get("volumes") or []}
                    numbers = {p["containerPort"] for c in containers for p in c.get("ports") or []}
                    for c in containers:
                        self.assertTrue(c.get("image"), c["name"])
                        for mount in c.get("volumeMounts") or []:
                            self.assertIn(mount["name"], volumes, f"{c['name']} mounts an undeclared volume")
                        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                            probe = c.get(kind)
                            if not probe:
                                continue
                            self.assertEqual(len(set(probe) & {"exec", "httpGet", "tcpSocket", "grpc"}), 1)
                            port = (probe.get("httpGet") or probe.get("tcpSocket") or {}).get("port")
                            if isinstance(port, str):
                                # The kubelet looks a port name up in the probed container only.
                                own = {p["name"] for p in c.get("ports") or [] if "name" in p}
                                self.assertIn(port, own, f"{c['name']} {kind} names a port it does not declare")
                            elif port is not None:
                                self.assertIn(port, numbers)
                    for c in spec.get("containers") or []:
                        self.assertNotIn("restartPolicy", c, "restartPolicy is for init (sidecar) containers")
                    for v in volumes.values():
                        if "configMap" in v:
                            self.assertIn(v["configMap"]["name"], configmaps)

    def test_healthgate_command_lines_name_real_subcommands(self):
        found = 0
        for path in manifest_files():
            for doc in load_documents(path):
                spec = pod_spec(doc) if "kind" in doc else None
                if spec is None:
                    continue
                for c in all_containers(spec):
                    argvs = [healthgate_argv(c)] + [cmd[1:] for _, cmd in exec_probe_argvs(c)
                                                    if os.path.basename(cmd[0]) == "healthgate"]
                    for argv in filter(None, argvs):
                        found += 1
                        self.assertIn(argv[0], SUBCOMMANDS, f"{path}: {c['name']}: {argv}")
        self.assertGreaterEqual(found, 6)

    def test_serve_configs_pass_config_check(self):
        binary = os.environ.get("HEALTHGATE_BIN")
        if not binary:
            self.skipTest("HEALTHGATE_BIN is not set")
        checked = 0
        with tempfile.TemporaryDirectory() as tmp:
            for path in manifest_files():
                for doc in load_documents(path):
                    if doc.get("kind") != "ConfigMap":
                        continue
                    for key, text in (doc.get("data") or {}).items():
                        if not key.endswith((".yaml", ".yml")):
                            continue
                        config = os.path.join(tmp, key)
                        with open(config, "w") as f:
                            f.write(text)
                        result = subprocess.run([binary, "config", "check", config], capture_output=True,
                                                text=True, timeout=30)
                        with self.subTest(path=os.path.relpath(path, EXAMPLES), key=key):
                            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                        checked += 1
        self.assertGreaterEqual(checked, 1)

    def test_compose_gates_the_app_on_the_wait_service(self):
        (path,) = glob.glob(os.path.join(EXAMPLES, "*compose*", "compose.yaml"))
        (doc,) = load_documents(path)
        services = doc["services"]
        gates = [name for name, s in services.items() if s.get("image") == HEALTHGATE_IMAGE]
        self.assertEqual(len(gates), 1, gates)
        gate = services[gates[0]]
        self.assertEqual(gate["command"][0], "wait")
        for dependency in gate.get("depends_on") or []:
            self.assertIn(dependency, services)
        gated = [name for name, s in services.items()
                 if isinstance(s.get("depends_on"), dict) and
                 (s["depends_on"].get(gates[0]) or {}).get("condition") == "service_completed_successfully"]
        self.assertTrue(gated, "no service waits for the gate to complete successfully")


class ExamplesInPodman(unittest.TestCase):
    """The examples run: their pod specs with local images, in podman."""

    @classmethod
    def setUpClass(cls):
        need_yaml()
        cls.env = PodmanEnv.create()
        cls.addClassCleanup(cls.env.cleanup)
        cls.env.use_pause_image()
        cls.healthgate = cls.env.healthgate_image()
        cls.busybox = cls.env.busybox_image()

    # --- helpers ----------------------------------------------------------------
    def pod_of(self, example, what, app_command):
        """The example's pod spec as a Pod named hg-e2e-<pid>-<what>: healthgate
        images replaced by the local image, the app by busybox running
        app_command, volumes and configMaps renamed uniquely. Probes are
        removed (podman would turn them into healthchecks needing systemd);
        the tests run them the way the kubelet does. Returns (pod, configmaps)."""
        env = self.env
        docs = load_example(example)
        (workload,) = [d for d in docs if pod_spec(d) is not None]
        spec = pod_spec(workload)
        renames = {}
        configmaps = []
        for doc in docs:
            if doc.get("kind") == "ConfigMap":
                new = env.name(f"{what}-{doc['metadata']['name']}")
                renames[("configmap", doc["metadata"]["name"])] = new
                doc = dict(doc, metadata={"name": new})
                configmaps.append(doc)
                env.created["volume"].append(new)  # podman keeps a volume per ConfigMap
        for volume in spec.get("volumes") or []:
            old = volume["name"]
            volume["name"] = renames[("volume", old)] = env.name(f"{what}-{old}")
            if "configMap" in volume:
                volume["configMap"]["name"] = renames[("configmap", volume["configMap"]["name"])]
        self.probes = {}
        self.ports = {}
        for c in all_containers(spec):
            for mount in c.get("volumeMounts") or []:
                mount["name"] = renames[("volume", mount["name"])]
            for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                if kind in c:
                    self.probes[(c["name"], kind)] = c.pop(kind)
            # podman publishes a containerPort without hostPort on the same host
            # port; the tests publish what they reach on free ports themselves.
            self.ports[c["name"]] = c.pop("ports", [])
            c.pop("lifecycle", None)
            # resources stay: podman applies the limits, so the example's are tried.
            if c["image"] == HEALTHGATE_IMAGE:
                c["image"] = self.healthgate
            elif healthgate_argv(c) is not None:
                # Wrapped by `healthgate run --`: keep the wrapper, replace the app.
                c["image"] = self.busybox
                c["args"] = ["/bin/busybox", "sh", "-c", app_command]
            else:
                c["image"] = self.busybox
                c["command"] = ["/bin/busybox", "sh", "-c", app_command]
                c.pop("args", None)
        spec["restartPolicy"] = "Never"
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": env.name(what)}, "spec": spec}
        return pod, configmaps

    def stand_in(self, network, alias, script):
        """A dependency: a busybox container reachable by `alias` on the network."""
        name = self.env.register_container(f"{network}-{alias}")
        self.env.podman("run", "-d", "--name", name, "--network", network, "--network-alias", alias,
                        self.busybox, "sh", "-c", script)
        return name

    def kube_play(self, pod, configmaps, network, background=False):
        env = self.env
        env.register_pod(pod)
        path = os.path.join(env.workdir, pod["metadata"]["name"] + ".yaml")
        with open(path, "w") as f:
            yaml.safe_dump_all(configmaps + [pod], f)
        args = ["kube", "play", "--network", network, path]
        return env.popen(*args) if background else env.podman(*args)

    # --- 1: the init container gate -------------------------------------------------
    def test_1_wait_for_dependencies_holds_the_app_until_all_three_are_up(self):
        env = self.env
        network = env.network("ex1-net")
        pod, configmaps = self.pod_of("1-wait-for-dependencies", "ex1", "echo app started; exec sleep 600")
        # The billing API answers from the start; Postgres listens 6 s late; Redis
        # (the Service name the dns:// check resolves) appears after 3 s.
        self.stand_in(network, "billing",
                      "mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www")
        self.stand_in(network, "postgres", "sleep 6; exec httpd -f -p 5432 -h /")
        init = f"{pod['metadata']['name']}-wait-for-dependencies"
        app = f"{pod['metadata']['name']}-app"
        play = self.kube_play(pod, configmaps, network, background=True)
        self.addCleanup(env.stop_process, play)
        explain = lambda: env.pod_logs(pod["metadata"]["name"])  # noqa: E731

        def logged(text):
            result = env.podman("logs", init, check=False)
            return result.returncode == 0 and text in result.stdout + result.stderr
        wait_for(lambda: logged("postgres:5432"), 30, what="the gate to report postgres", explain=explain)
        time.sleep(3)
        self.assertNotEqual(env.state(app)["Status"], "running")
        self.stand_in(network, "redis", "exec sleep 600")
        out, err = play.communicate(timeout=90)
        self.assertEqual(play.returncode, 0, f"{out}\n{err}\n{explain()}")
        wait_for(lambda: env.state(app)["Status"] == "running", 30, what="the app to run", explain=explain)
        self.assertEqual(env.state(init)["ExitCode"], 0)
        logs = env.logs(init)
        self.assertIn("connection refused", logs)          # postgres before it listened
        self.assertRegex(logs, r"dns://redis.*no such name")  # the Service did not exist yet
        for target in ("tcp://postgres:5432", "dns://redis", "http://billing:8080/healthz"):
            self.assertRegex(logs, f"target ready target={target}")

    # --- 2: the native sidecar's endpoints ------------------------------------------
    def test_2_sidecar_serves_startup_liveness_and_readiness_for_the_app(self):
        """podman 4.3 runs every init container to completion, so the sidecar
        (restartPolicy: Always) runs here as a regular container of the pod: the
        same process, config and port the app's probes use."""
        env = self.env
        network = env.network("ex2-net")
        pod, configmaps = self.pod_of(
            "2-native-sidecar-probes", "ex2",
            "mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 127.0.0.1:8080 -h /www")
        spec = pod["spec"]
        sidecars = [c for c in spec.pop("initContainers") if c.get("restartPolicy") == "Always"]
        self.assertEqual(len(sidecars), 1)
        sidecar = sidecars[0]
        sidecar.pop("restartPolicy")
        port = free_port()
        (health,) = [p for p in self.ports[sidecar["name"]] if p.get("name") == "health"]
        sidecar["ports"] = [dict(health, hostPort=port, hostIP="127.0.0.1")]
        spec["containers"].insert(0, sidecar)
        self.stand_in(network, "postgres", "exec httpd -f -p 5432 -h /")
        redis = self.stand_in(network, "redis", "exec httpd -f -p 6379 -h /")
        self.kube_play(pod, configmaps, network)
        explain = lambda: env.pod_logs(pod["metadata"]["name"])  # noqa: E731

        # The app's probes, as the kubelet sends them, from the host through the hostPort.
        base = f"http://127.0.0.1:{port}"
        paths = {kind: probe["httpGet"]["path"] for (_, kind), probe in self.probes.items()}
        self.assertEqual(paths, {"startupProbe": "/startupz", "livenessProbe": "/livez",
                                 "readinessProbe": "/readyz"})
        for path in ("/startupz", "/livez", "/readyz"):
            wait_http(base + path, 200, 30, explain)

        # Redis goes away: readiness fails and names it, liveness stays up (no restart).
        env.podman("rm", "-f", "-t", "0", redis)
        status, body = wait_http(base + "/readyz?verbose", 503, 60, explain)
        self.assertRegex(body, r"\[-\]redis")
        self.assertRegex(body, r"\[\+\]postgres")
        self.assertEqual(http_get(base + "/livez")[0], 200)

        # Shutdown: SIGTERM drains (liveness still answers), then serve exits 0.
        sidecar_name = f"{pod['metadata']['name']}-{sidecar['name']}"
        signalled = time.monotonic()
        env.podman("kill", "--signal", "TERM", sidecar_name)
        self.assertEqual(http_get(base + "/livez")[0], 200)
        state = env.wait_exited(sidecar_name, 30)
        self.assertEqual(state["ExitCode"], 0, explain())
        # Not before the config's drain (5s); a lower bound only, so never flaky.
        self.assertGreaterEqual(time.monotonic() - signalled, 4.5)
        self.assertIn("draining", env.logs(sidecar_name))

    # --- 3: exec probes from the emptyDir -----------------------------------------------
    def test_3_exec_probes_run_the_installed_binary(self):
        env = self.env
        network = env.network("ex3-net")
        pod, configmaps = self.pod_of(
            "3-exec-probes", "ex3",
            "mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 127.0.0.1:8080 -h /www")
        self.kube_play(pod, configmaps, network)
        app = f"{pod['metadata']['name']}-app"
        explain = lambda: env.pod_logs(pod["metadata"]["name"])  # noqa: E731
        wait_for(lambda: env.state(app)["Status"] == "running", 30, what="the app to run", explain=explain)

        def probe(kind):
            command = self.probes[("app", kind)]["exec"]["command"]
            return env.podman("exec", app, *command, check=False, timeout=30)

        for kind in ("startupProbe", "livenessProbe"):
            result = wait_for(lambda: (lambda r: r if r.returncode == 0 else None)(probe(kind)), 20,
                              what=f"the {kind} to pass", explain=explain)
            self.assertEqual(result.returncode, 0)
        # No postgres yet: readiness fails, and its output (what the event shows) says why.
        result = probe("readinessProbe")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("postgres", result.stdout + result.stderr)
        self.stand_in(network, "postgres", "exec httpd -f -p 5432 -h /")
        wait_for(lambda: probe("readinessProbe").returncode == 0, 30, what="readiness to pass",
                 explain=explain)

    # --- 4: the retrofitted Deployment ------------------------------------------------
    def test_4_wrapped_app_reports_its_crash_and_counts_restarts(self):
        """The app's command as the example wraps it, the app replaced by one
        that crashes; the host file at /dev/termination-log stands for the
        kubelet's, `podman start` for the kubelet's restarts (the emptyDir and
        the history in it survive)."""
        env = self.env
        network = env.network("ex4-net")
        pod, configmaps = self.pod_of(
            "4-retrofit-run", "ex4", 'echo "FATAL: DATABASE_URL is not set" >&2; exit 1')
        (app,) = pod["spec"]["containers"]
        self.assertEqual(app["command"][:2], ["/hg/healthgate", "run"])
        self.assertEqual(app.get("terminationMessagePolicy"), "FallbackToLogsOnError")
        message_file = os.path.join(env.workdir, "ex4-termination-log")
        with open(message_file, "w"):
            pass
        os.chmod(message_file, 0o666)
        volume = env.name("ex4-termination-log")
        pod["spec"]["volumes"].append({"name": volume, "hostPath": {"path": message_file, "type": "File"}})
        app["volumeMounts"].append({"name": volume, "mountPath": "/dev/termination-log"})
        self.kube_play(pod, configmaps, network)
        name = f"{pod['metadata']['name']}-app"
        explain = lambda: env.pod_logs(pod["metadata"]["name"])  # noqa: E731

        def message():
            with open(message_file, encoding="utf-8") as f:
                return f.read()
        for run in (1, 2, 3):
            if run > 1:
                env.podman("start", name)
            state = env.wait_exited(name, 30)
            self.assertEqual(state["ExitCode"], 1, explain())
            wait_for(lambda: "FATAL: DATABASE_URL is not set" in message(), 10,
                     what="the FATAL line in the termination message", explain=explain)
        first = message().splitlines()[0]
        self.assertIn("FATAL: DATABASE_URL is not set", first)
        self.assertRegex(first, r"3rd exit in \S+; previous: exit 1, exit 1")

    # --- 5: the compose gate ------------------------------------------------------------
    def test_5_compose_gate_command_waits_for_its_dependencies(self):
        """No compose tool here: the gate service's own command line runs in
        podman on a network where the other services' names resolve."""
        env = self.env
        (path,) = glob.glob(os.path.join(EXAMPLES, "*compose*", "compose.yaml"))
        (doc,) = load_documents(path)
        services = doc["services"]
        (gate,) = [s for s in services.values() if s.get("image") == HEALTHGATE_IMAGE]
        network = env.network("ex5-net")
        self.stand_in(network, "postgres", "sleep 3; exec httpd -f -p 5432 -h /")
        self.stand_in(network, "redis", "exec httpd -f -p 6379 -h /")
        name = env.register_container(env.name("ex5-gate"))
        result = env.podman("run", "--name", name, "--network", network, self.healthgate,
                            *gate["command"], check=False, timeout=150)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("connection refused", result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
