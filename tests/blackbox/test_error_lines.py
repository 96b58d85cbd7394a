"""Black-box tests of the exit-2 line of every entry point: no secret of the
given targets in it (URL passwords, header values, password= options), one
line whatever the value holds, and bounded whatever its size."""
import os
import shutil
import tempfile
import unittest

from peers import run

PASSWORD = "s3cretPW"
TOKEN = "TOKEN8f2e1"
SECRET_URL = "http://user:%s@127.0.0.1:1/#bogus=1" % PASSWORD
SECRET_HEADER = "http://127.0.0.1:1/#header=Authorization:Bearer%%20%s&bogus=1" % TOKEN


class ErrorLines(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hg-errline-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def file(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def assert_clean_usage_error(self, r, *secrets):
        output = r.stdout + r.stderr
        self.assertEqual(r.returncode, 2, output)
        for secret in secrets:
            self.assertNotIn(secret, output)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)  # exactly one line
        self.assertLess(len(r.stderr), 1200)

    def test_probe_and_wait_arguments(self):
        for command in (["probe"], ["wait", "--termination-log", "none"]):
            for target in (SECRET_URL, SECRET_HEADER):
                with self.subTest(command=command[0], target=target):
                    r = run(command + [target], timeout=10)
                    self.assert_clean_usage_error(r, PASSWORD, TOKEN)
                    self.assertIn("bogus", r.stderr)  # still says what is wrong

    def test_environment_targets(self):
        r = run(["wait", "--termination-log", "none"],
                env={"HEALTHGATE_TARGETS": "tcp://127.0.0.1:1 " + SECRET_HEADER}, timeout=10)
        self.assert_clean_usage_error(r, TOKEN)
        self.assertIn("HEALTHGATE_TARGETS", r.stderr)
        r = run(["serve", "--listen", "127.0.0.1:0"], env={"HEALTHGATE_READINESS": SECRET_URL}, timeout=10)
        self.assert_clean_usage_error(r, PASSWORD)

    def test_wait_config_file(self):
        config = self.file("wait.yaml", "targets:\n  - url: http://127.0.0.1:1/\n    header: \"Authorization: Bearer %s\"\n"
                                        "    bogus: 1\n" % TOKEN)
        r = run(["wait", "--termination-log", "none", "--config", config], timeout=10)
        self.assert_clean_usage_error(r, TOKEN)
        self.assertIn("wait.yaml:", r.stderr)
        r = run(["wait", "--termination-log", "none"], env={"HEALTHGATE_CONFIG": config}, timeout=10)
        self.assert_clean_usage_error(r, TOKEN)

    def test_serve_and_config_check(self):
        config = self.file("serve.yaml", "listen: 127.0.0.1:0\nchecks:\n"
                                         "  - {name: db, target: \"%s\", probes: [readiness]}\n" % SECRET_URL)
        r = run(["serve", "--config", config], timeout=10)
        self.assert_clean_usage_error(r, PASSWORD)
        r = run(["config", "check", config], timeout=10)
        self.assert_clean_usage_error(r, PASSWORD)
        self.assertTrue(r.stderr.startswith(config + ":"), r.stderr)
        r = run(["serve", "--readiness", SECRET_HEADER, "--listen", "127.0.0.1:0"], timeout=10)
        self.assert_clean_usage_error(r, TOKEN)

    def test_newline_in_a_value_stays_one_line(self):
        r = run(["probe", "http://127.0.0.1:1/#status=abc\ndef"], timeout=10)
        self.assert_clean_usage_error(r)
        self.assertIn("\\n", r.stderr)
        config = self.file("serve.yaml", "listen: 127.0.0.1:0\nchecks:\n"
                                         "  - {name: \"a\\nb\\u001b[31m\", target: \"tcp://127.0.0.1:1\", probes: [readiness]}\n")
        r = run(["config", "check", config], timeout=10)
        self.assert_clean_usage_error(r)
        self.assertNotIn("\x1b", r.stderr)

    def test_huge_value_gives_a_bounded_line(self):
        name = "x" * 10_000_000
        config = self.file("serve.yaml", "listen: 127.0.0.1:0\nchecks:\n"
                                         "  - {name: \"%s!\", target: \"tcp://127.0.0.1:1\", probes: [readiness]}\n" % name)
        r = run(["config", "check", config], timeout=90)  # a few seconds; ~40 s under ASan
        self.assert_clean_usage_error(r)
        self.assertIn("bytes cut", r.stderr)


if __name__ == "__main__":
    unittest.main()
