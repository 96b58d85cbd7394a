"""Black-box tests of `healthgate inject` over a corpus of manifests
(tests/inject/corpus, the flags in each file's "# inject-flags:" line):
golden outputs (UPDATE_GOLDEN=1 rewrites them), idempotence, --remove
restoring the original objects, the generated serve configs accepted by
`healthgate config check`, every output object valid against the Kubernetes
schema (npm's kubernetes-models, installed by tests/inject/install-validator;
skipped with the reason when npm cannot be reached), and bad inputs refused
with one line naming document and path, exit 2 and nothing on stdout.
"""
import glob
import json
import os
import re
import shlex
import subprocess
import tempfile
import unittest

import yaml

HG = os.environ.get("HEALTHGATE_BIN", "healthgate")
HERE = os.path.dirname(os.path.abspath(__file__))
INJECT = os.path.normpath(os.path.join(HERE, "..", "inject"))
CORPUS = sorted(glob.glob(os.path.join(INJECT, "corpus", "*.yaml")))
BAD = sorted(glob.glob(os.path.join(INJECT, "bad", "*.yaml")))


def header(path, key):
    with open(path) as f:
        for line in f:
            m = re.match(r"# %s: (.*)" % key, line)
            if m:
                return m.group(1).strip()
    raise AssertionError("%s has no '# %s:' line" % (path, key))


def inject(args, stdin=None):
    return subprocess.run([HG, "inject", *args], input=stdin, capture_output=True, text=True, timeout=30)


def objects(text):
    return [d for d in yaml.safe_load_all(text) if d is not None]


def flattened(text):
    for obj in objects(text):
        yield from obj["items"] if obj.get("kind") == "List" else [obj]


def serve_configs(text):
    """serve's configs in inject's output: in a ConfigMap, or inline in the sidecar's env."""
    for obj in flattened(text):
        if obj.get("kind") == "ConfigMap" and "serve.yaml" in obj.get("data", {}):
            yield obj["data"]["serve.yaml"]
        spec = obj.get("spec", {})
        for holder in (spec, spec.get("template", {}).get("spec", {})):
            for c in holder.get("initContainers", []) if isinstance(holder, dict) else []:
                for e in c.get("env", []):
                    if e["name"] == "HEALTHGATE_CONFIG_YAML":
                        yield e["value"]


def validator(test):
    """The node_modules dir of kubernetes-models, installed once under the build tree."""
    directory = os.path.join(os.path.dirname(os.path.abspath(HG)), "npm-validator")
    r = subprocess.run(["bash", os.path.join(INJECT, "install-validator"), directory], capture_output=True, text=True)
    if r.returncode == 3:
        test.skipTest("kubernetes-models not installable: " + r.stderr.strip())
    test.assertEqual(r.returncode, 0, r.stderr)
    return os.path.join(directory, "node_modules")


class Inject(unittest.TestCase):
    def injected(self, path):
        r = inject([*shlex.split(header(path, "inject-flags")), path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return r.stdout

    def test_golden_outputs(self):
        self.assertGreaterEqual(len(CORPUS), 6)
        for path in CORPUS:
            with self.subTest(path=os.path.basename(path)):
                out = self.injected(path)
                golden = os.path.join(INJECT, "golden", os.path.basename(path))
                if os.environ.get("UPDATE_GOLDEN"):
                    with open(golden, "w") as f:
                        f.write(out)
                with open(golden) as f:
                    self.assertEqual(out, f.read())

    def test_injecting_twice_changes_nothing(self):
        for path in CORPUS:
            with self.subTest(path=os.path.basename(path)):
                once = self.injected(path)
                r = inject([*shlex.split(header(path, "inject-flags")), "-"], stdin=once)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, once)

    def test_remove_restores_the_original_objects(self):
        for path in CORPUS:
            with self.subTest(path=os.path.basename(path)):
                with open(path) as f:
                    original = objects(f.read())
                for command in (["--remove", "-"], ):
                    r = inject(command, stdin=self.injected(path))
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(objects(r.stdout), original)
                r = subprocess.run([HG, "uninject", "-"], input=self.injected(path), capture_output=True, text=True)
                self.assertEqual(objects(r.stdout), original)

    def test_quoted_numbers_and_words_stay_strings(self):
        out = objects(self.injected(os.path.join(INJECT, "corpus", "deployment-basic.yaml")))
        app = out[0]["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(app["args"], ["--port", "8080", "--verbose", "true"])
        self.assertEqual(app["command"][:4], ["/hg/healthgate", "run", "--history=/hg/history-app", "--"])

    def test_generated_serve_configs_are_accepted_by_serve(self):
        configs = 0
        for path in CORPUS:
            for text in serve_configs(self.injected(path)):
                with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
                    f.write(text)
                    f.flush()
                    r = subprocess.run([HG, "config", "check", f.name], capture_output=True, text=True, timeout=30)
                    self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                    configs += 1
        self.assertGreaterEqual(configs, 4)

    def test_every_output_object_is_valid_kubernetes(self):
        modules = validator(self)
        batch = []
        for path in CORPUS:
            for i, obj in enumerate(objects(self.injected(path))):
                batch.append(["%s #%d" % (os.path.basename(path), i + 1), obj])
        env = dict(os.environ, NODE_PATH=modules)
        r = subprocess.run(["node", os.path.join(INJECT, "validate.js")], input=json.dumps(batch, default=str),
                           capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_the_validator_can_fail(self):
        # The validator itself must be able to fail: a container whose command is not a list.
        modules = validator(self)
        bad = [["bad", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                        "spec": {"containers": [{"name": "a", "image": "b", "command": "x"}]}}]]
        env = dict(os.environ, NODE_PATH=modules)
        r = subprocess.run(["node", os.path.join(INJECT, "validate.js")], input=json.dumps(bad),
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("command must be array", r.stdout)

    def test_bad_input_is_one_line_exit_2_and_nothing_written(self):
        self.assertGreaterEqual(len(BAD), 5)
        for path in BAD:
            with self.subTest(path=os.path.basename(path)):
                r = inject(["--image", "hg:1", "--wait", "tcp://db:5432", path])
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(r.stdout, "")
                self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
                self.assertTrue(r.stderr.startswith(path), r.stderr)
                self.assertIn(header(path, "expect"), r.stderr)

    def test_dry_run_summarizes_instead_of_writing(self):
        path = os.path.join(INJECT, "corpus", "multi-container-serve.yaml")
        r = inject([*shlex.split(header(path, "inject-flags")), "--dry-run", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [
            path + ": document 1: StatefulSet/ledger: wrapped api, worker; init containers +healthgate-install "
            "+healthgate-serve; probes behind serve: api (startup, liveness, readiness), worker (readiness); "
            "ConfigMap ledger-healthgate"])

    def test_usage_errors(self):
        r = inject(["-"], stdin="")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--image IMAGE is required", r.stderr)
        r = inject(["--image", "x", "--wait", "ftp://x", "-"], stdin="")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--wait", r.stderr)
        r = inject(["--image", "x", "--container", "nope", "-"], stdin="apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                   "spec: {containers: [{name: a, image: b, command: [x]}]}\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--container nope: no container of that name", r.stderr)


if __name__ == "__main__":
    unittest.main()
