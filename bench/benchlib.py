"""What the three benchmarks share: progress output, tool lookup, the binary."""
import os
import shutil
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def need(tool, package):
    """Path of `tool`, or exit naming the Debian package that has it."""
    path = shutil.which(tool)
    if not path:
        sys.exit("bench: %s not found (apt-get install -y %s)" % (tool, package))
    return path


def healthgate_binary():
    """$HEALTHGATE_BIN, else build/healthgate; exits when it is not there."""
    path = os.path.abspath(os.environ.get("HEALTHGATE_BIN") or os.path.join(ROOT, "build", "healthgate"))
    if not os.access(path, os.X_OK):
        sys.exit("bench: healthgate binary not found at %s (build it or set HEALTHGATE_BIN)" % path)
    return path
