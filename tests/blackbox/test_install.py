"""Black-box tests of `healthgate install DIR`: the real binary copying itself
into real directories, including a read-only mount (as root, chmod alone does
not stop writes, so a tmpfs is mounted read-only; skipped with the reason
where mounting is not allowed).
"""
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

HG = os.environ.get("HEALTHGATE_BIN", "healthgate")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Install(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hg-install-")
        self.addCleanup(shutil.rmtree, self.dir, True)  # after any unmount (cleanups run last first)

    def install(self, *args):
        return subprocess.run([HG, "install", *args], capture_output=True, timeout=30)

    def test_copies_itself_atomically_with_mode_0755(self):
        old_umask = os.umask(0o077)  # the mode must not depend on the umask
        try:
            result = self.install(self.dir)
        finally:
            os.umask(old_umask)
        self.assertEqual(result.returncode, 0, result.stderr)
        target = os.path.join(self.dir, "healthgate")
        self.assertEqual(result.stdout.decode().strip(), target)
        self.assertEqual(stat.S_IMODE(os.stat(target).st_mode), 0o755)
        self.assertEqual(sha256(target), sha256(os.path.realpath(HG)))
        self.assertEqual(os.listdir(self.dir), ["healthgate"])  # no temporary file left
        version = subprocess.run([target, "--version"], capture_output=True, timeout=10)
        self.assertEqual(version.returncode, 0)
        self.assertTrue(version.stdout.startswith(b"healthgate "))

    def test_replaces_a_copy_that_is_running(self):
        self.assertEqual(self.install(self.dir).returncode, 0)
        target = os.path.join(self.dir, "healthgate")
        running = subprocess.Popen([target, "run", "--termination-log", "none", "--", "sleep", "5"])
        try:
            # Writing into a running binary fails with ETXTBSY; rename does not.
            result = self.install(self.dir + "/")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout.decode().strip(), target)
        finally:
            running.kill()
            running.wait()
        self.assertEqual(sha256(target), sha256(os.path.realpath(HG)))

    def test_missing_directory_is_exit_1(self):
        missing = os.path.join(self.dir, "nope")
        result = self.install(missing)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.decode().strip(), f"healthgate install: {missing}: No such file or directory")
        self.assertEqual(result.stdout, b"")

    def test_not_a_directory_is_exit_1(self):
        path = os.path.join(self.dir, "file")
        open(path, "w").close()
        result = self.install(path)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"not a directory", result.stderr)

    def tmpfs(self, name, options):
        """A tmpfs mounted at self.dir/name with `options`, unmounted after the test (skips if it cannot be)."""
        mount_point = os.path.join(self.dir, name)
        os.mkdir(mount_point)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", mount_point], capture_output=True)
        if mounted.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs ({options}) here: {mounted.stderr.decode().strip()}")
        self.addCleanup(subprocess.run, ["umount", mount_point], capture_output=True)
        return mount_point

    def test_read_only_directory_is_exit_1(self):
        mount_point = self.tmpfs("ro", "ro,size=1m")
        result = self.install(mount_point)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"healthgate install: create " + mount_point.encode(), result.stderr)
        self.assertIn(b"Read-only file system", result.stderr)
        self.assertEqual(os.listdir(mount_point), [])

    def test_full_filesystem_leaves_nothing_behind(self):
        mount_point = self.tmpfs("small", "size=64k")
        result = self.install(mount_point)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"No space left on device", result.stderr)
        self.assertEqual(os.listdir(mount_point), [])

    def test_usage(self):
        self.assertEqual(self.install().returncode, 2)
        self.assertEqual(self.install("a", "b").returncode, 2)
        self.assertEqual(self.install("--bogus", self.dir).returncode, 2)
        help_result = self.install("--help")
        self.assertEqual(help_result.returncode, 0)
        self.assertIn(b"Usage: healthgate install DIR", help_result.stdout)


if __name__ == "__main__":
    unittest.main()
