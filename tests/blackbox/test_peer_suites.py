"""The behavioural scenarios of tini's and dumb-init's own test suites
(tini: test/run_inner_tests.py, test/run_outer_tests.py and the scripts they
run; dumb-init: tests/*.py and tests/test-zombies), written anew and run
against `healthgate run`, tini and dumb-init side by side.

Prints a table (scenario, healthgate, tini, dumb-init). A scenario that tests
a flag one of them does not have is "n/a" with the reason. Fails only on
healthgate's failures: the peers' columns are there to compare.

Group mode is `healthgate run --signal-group`, `tini -g` and dumb-init's
default (setsid) mode; the single-child mode is plain `healthgate run`, plain
`tini` and `dumb-init --single-child`.
"""
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time
import unittest

import peers

HG = os.environ.get("HEALTHGATE_BIN", "healthgate")
PY = sys.executable
TINI = shutil.which("tini-static") or shutil.which("tini")
DUMB_INIT = shutil.which("dumb-init")

# Prints the number of every signal it receives, one per line, after "ready
# PID", on stdout or into the file named by its argument.
PRINT_SIGNALS = r"""
import os, signal, sys
out = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT) if len(sys.argv) > 1 else 1
def say(number, frame):
    os.write(out, b"%d\n" % number)
for number in range(1, 32):
    if number in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
        continue
    signal.signal(number, say)
os.write(out, b"ready %d\n" % os.getpid())
while True:
    signal.pause()
"""

SUSPEND = (signal.SIGTSTP, signal.SIGTTOU, signal.SIGTTIN)
NORMAL = [n for n in range(1, 32) if n not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD, *SUSPEND)]


class NotApplicable(Exception):
    pass


def wrapper(name, group=False):
    """The command prefix of one wrapper in the given mode."""
    if name == "healthgate":
        return [HG, "run", "--termination-log", "none", *(["--signal-group"] if group else []), "--"]
    if name == "tini":
        # -s as healthgate always is a subreaper (tini warns on stderr without it).
        return [TINI, *(["-g"] if group else []), "-s", "--"]
    return [DUMB_INIT, *([] if group else ["--single-child"])]


def state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return "gone"
    return stat[stat.rindex(")") + 2]


def alive(pid):
    return state(pid) not in ("gone", "Z", "X")


def descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def kill_group(proc):
    """Kills what is left of a session started with start_new_session."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def readline(stream, timeout=5.0):
    ready, _, _ = select.select([stream], [], [], timeout)
    check(ready, "no line within the timeout")
    return stream.readline()


class PrintSignals:
    """A wrapper running PRINT_SIGNALS, stopped and reaped on the way out."""

    def __init__(self, prefix, script):
        self.proc = subprocess.Popen([*prefix, PY, script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     bufsize=0)
        line = readline(self.proc.stdout)
        check(line.startswith(b"ready "), f"unexpected first line {line!r}")
        self.app = int(line.split()[1])

    def expect(self, number):
        line = readline(self.proc.stdout)
        check(line == b"%d\n" % number, f"expected {number}, the app printed {line!r}")

    def close(self):
        for pid in (self.proc.pid, self.app):
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)
        self.proc.stdout.close()



def pty_run(argv, send=b"", timeout=10.0, after_start=None):
    """(exit status, output) of argv on a new pseudo-terminal (peers.pty_run)."""
    code, output, _ = peers.pty_run(argv, send, timeout, after_start)
    return code, output


class Scenarios:
    """One method per scenario: takes the wrapper's name, raises
    AssertionError on failure and NotApplicable with the reason."""

    def __init__(self, workdir):
        self.dir = workdir
        self.print_signals = os.path.join(workdir, "print_signals.py")
        with open(self.print_signals, "w") as f:
            f.write(PRINT_SIGNALS)

    def run(self, argv, timeout=20, **kwargs):
        return subprocess.run(argv, capture_output=True, timeout=timeout, **kwargs)

    # --- tini: test/run_inner_tests.py, test/run_outer_tests.py ---------------

    def exit_codes_pass_through(self, name):
        """tini inner 'exit code test' / dumb-init exit_status_regular_exit"""
        for code in sorted({*range(0, 256, 9), 1, 2, 32, 64, 126, 127, 128, 254, 255}):
            got = self.run([*wrapper(name), "sh", "-c", f"exit {code}"]).returncode
            check(got == code, f"exit {code} came back as {got}")

    def tini_exit_code_remap(self, name):
        """tini inner: -e CODE maps an expected exit code to 0"""
        if name != "tini":
            raise NotApplicable("tests tini's -e flag")
        check(self.run([TINI, "-e", "3", "--", "sh", "-c", "exit 3"]).returncode == 0, "-e 3 did not map 3 to 0")

    def reaping_as_subreaper(self, name):
        """tini inner 'reaping test' (reaping/stage_1.py + stage_2.py), not as PID 1"""
        if name == "dumb-init":
            raise NotApplicable("dumb-init has no subreaper mode (it reaps only as PID 1)")
        script = (
            "import os, subprocess, sys, time\n"
            "subprocess.run(['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.$i & done'])\n"
            "me, init = os.getpid(), os.getppid()\n"
            "def others():\n"
            "    out = []\n"
            "    for e in os.listdir('/proc'):\n"
            "        try: stat = open(f'/proc/{e}/stat').read()\n"
            "        except OSError: continue\n"
            "        if e.isdigit() and int(stat[stat.rindex(')') + 2:].split()[1]) == init and int(e) != me: out.append(e)\n"
            "    return out\n"
            "orphans = others()\n"
            "if len(orphans) < 5: sys.exit(f'orphans were not reparented to the wrapper: {orphans}')\n"
            "for _ in range(100):\n"
            "    if not others(): sys.exit(0)\n"
            "    time.sleep(0.05)\n"
            "sys.exit(f'not reaped: {others()}')\n"
        )
        result = self.run([*wrapper(name), PY, "-c", script])
        check(result.returncode == 0, f"exit {result.returncode}: {result.stderr.decode(errors='replace')[-300:]}")

    def reaping_as_pid1(self, name):
        """dumb-init tests/test-zombies (and tini's reaping test in a container): PID 1 leaves no zombie"""
        if not pid_namespaces_work():
            raise NotApplicable("this machine cannot make a PID namespace (unshare --pid needs root)")
        script = ("bash -c \"bash -c 'echo i am a zombie' &\" & sleep 1; "
                  "zombies=$(ps -A -o state= | grep -c Z); echo zombies=$zombies; test $zombies -eq 0")
        result = self.run(["unshare", "--fork", "--pid", "--mount-proc", *wrapper(name), "bash", "-c", script])
        check(result.returncode == 0, f"exit {result.returncode}: {result.stdout.decode(errors='replace')[-200:]}")

    def signal_to_wrapper_ends_app(self, name):
        """tini inner/outer 'signals test' (signals/test.py): TERM/USR1/USR2 give 128+N"""
        for signum in (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2):
            proc = subprocess.Popen([*wrapper(name), PY, "-c", "import os; os.system('sleep 5')"],
                                    start_new_session=True)
            try:
                check(until(lambda: len(descendants(proc.pid)) >= 2), "the app did not start")
                proc.send_signal(signum)
                code = proc.wait(timeout=5)
            finally:
                kill_group(proc)
            check(code == 128 + signum, f"{signal.Signals(signum).name}: exit {code}, expected {128 + signum}")

    def group_signal_reaches_grandchild(self, name):
        """tini inner 'process group test' (pgroup/stage_1.py, -g): the app ignores SIGUSR1, its child does not"""
        script = ("import signal, subprocess\n"
                  "signal.signal(signal.SIGUSR1, signal.SIG_IGN)\n"
                  "subprocess.Popen(['sleep', '30'], preexec_fn=lambda: signal.signal(signal.SIGUSR1, signal.SIG_DFL)).wait()\n")
        proc = subprocess.Popen([*wrapper(name, group=True), PY, "-c", script], start_new_session=True)
        try:
            check(until(lambda: len(descendants(proc.pid)) == 2), "the app and its child did not start")
            proc.send_signal(signal.SIGUSR1)
            proc.wait(timeout=5)
        finally:
            kill_group(proc)

    def signal_configuration_kept(self, name):
        """tini inner 'signal configuration test' (sigconf): ignored and blocked signals reach the app so"""
        def setup():
            for signum in (signal.SIGTTOU, signal.SIGSEGV, signal.SIGINT):
                signal.signal(signum, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTIN, signal.SIGILL, signal.SIGTERM})
        result = self.run([*wrapper(name), "cat", "/proc/self/status"], preexec_fn=setup)
        masks = dict(line.split(":\t") for line in result.stdout.decode().splitlines() if ":\t" in line)
        for field, signums in (("SigIgn", (signal.SIGTTOU, signal.SIGSEGV, signal.SIGINT)),
                               ("SigBlk", (signal.SIGTTIN, signal.SIGILL, signal.SIGTERM))):
            bits = int(masks[field], 16)
            for signum in signums:
                check(bits & (1 << (signum - 1)), f"{signal.Signals(signum).name} is not in the app's {field}")

    def tini_only_flags(self, name):
        """tini inner: -p (parent death signal), -w (warn on reaping), the no-subreaper warning"""
        raise NotApplicable("tini's -p, -w and subreaper warning (healthgate is always a subreaper)"
                            if name != "tini" else "run by tini's own suite; no counterpart to compare")

    def bad_flag_and_help(self, name):
        """tini outer 'exit code test': an unknown flag fails, -h/--help exits 0, a missing command is 127"""
        prefix = wrapper(name)[:-1] if name != "dumb-init" else [DUMB_INIT]
        if name == "healthgate":
            prefix = [HG, "run"]
        check(self.run([*prefix, "-z"]).returncode not in (0, 127), "an unknown flag did not fail as a usage error")
        check(self.run([*prefix, "--help" if name != "tini" else "-h"]).returncode == 0, "help did not exit 0")
        check(self.run([*wrapper(name), "zzzz-not-a-command"]).returncode == 127, "a missing command is not 127")

    def tty_shell_exit_0(self, name):
        """tini outer 'TTY handling' (docker -it dash, 'exit 0' typed)"""
        code, output = pty_run([*wrapper(name), "dash", "-i"], send=b"echo ready\nexit 0\n")
        check(code == 0, f"exit {code}: {output[-200:]!r}")

    def tty_ctrl_c(self, name):
        """tini outer 'TTY handling' (docker -it, a loop ended by Ctrl-C): exit 130"""
        def wait_for_loop(pid, fd):
            seen = b""
            deadline = time.monotonic() + 5
            while b"#" not in seen and time.monotonic() < deadline:
                if select.select([fd], [], [], 0.1)[0]:
                    seen += os.read(fd, 1024)
            return seen
        code, output = pty_run([*wrapper(name), "dash", "-c", "while true; do echo '#'; sleep 0.1; done"],
                               send=b"\x03", after_start=wait_for_loop)
        check(code == 130, f"exit {code}, expected 130")

    # --- dumb-init: tests/*.py -----------------------------------------------

    def _pipeline(self, name, group):
        proc = subprocess.Popen([*wrapper(name, group=group), "sh", "-c", "sleep 30 | cat & sleep 30 | cat >&2"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        check(until(lambda: len([p for p in descendants(proc.pid) if alive(p)]) == 5), "the pipelines did not start")
        pids = descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        return pids

    def group_mode_signals_whole_group(self, name):
        """dumb-init test_setsid_signals_entire_group"""
        pids = self._pipeline(name, group=True)
        check(until(lambda: not any(alive(p) for p in pids)), "some of the group outlived SIGTERM")

    def single_mode_signals_only_child(self, name):
        """dumb-init test_no_setsid_doesnt_signal_entire_group"""
        pids = self._pipeline(name, group=False)
        try:
            check(until(lambda: len([p for p in pids if alive(p)]) == 4), "not exactly the child was signalled")
        finally:
            for pid in pids:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)

    # The child that outlives the wrapper reports into a file: the scenario is
    # about the signals it gets. (Its stdout would be healthgate's pipe, which
    # has no reader once healthgate has exited; tini and dumb-init hand out
    # their own stdout. Under PID 1 nothing outlives the wrapper.)
    def _dies_with_children(self, name, group):
        report = os.path.join(self.dir, f"signals-{name}-{group}")
        proc = subprocess.Popen([*wrapper(name, group=group), "sh", "-c",
                                 f"{PY} {self.print_signals} {report} & "
                                 f"until test -s {report}; do sleep 0.05; done"])
        proc.wait(timeout=10)
        check(proc.returncode == 0, f"exit {proc.returncode}")
        lines = lambda: open(report, "rb").read().splitlines() if os.path.exists(report) else []
        check(until(lambda: lines()), "the child never started")
        check(lines()[0].startswith(b"ready "), f"unexpected {lines()[0]!r}")
        return int(lines()[0].split()[1]), lambda: lines()[1:]

    def group_mode_terms_rest_on_exit(self, name):
        """dumb-init test_all_processes_receive_term_on_exit_if_setsid"""
        child, got = self._dies_with_children(name, group=True)
        try:
            check(until(got, 3) and got()[0] == b"15", f"the rest of the group got {got()!r}, not SIGTERM")
        finally:
            if alive(child):
                os.kill(child, signal.SIGKILL)

    def single_mode_leaves_rest_on_exit(self, name):
        """dumb-init test_processes_dont_receive_term_on_exit_if_no_setsid"""
        child, got = self._dies_with_children(name, group=False)
        try:
            for count, signum in enumerate((1, 2, 3), 1):
                os.kill(child, signum)
                check(until(lambda: len(got()) >= count, 3), f"{signum} not received")
            check(got() == [b"1", b"2", b"3"], f"expected 1, 2, 3, got {got()!r}")
        finally:
            os.kill(child, signal.SIGKILL)

    def bad_exec(self, name):
        """dumb-init test_fails_nonzero_with_bad_exec: non-zero, and stderr names the path"""
        for group in (False, True):
            result = self.run([*wrapper(name, group=group), "/doesnotexist"])
            check(result.returncode != 0, "exit 0 for a command that does not exist")
            check(b"/doesnotexist" in result.stderr, f"stderr does not name the path: {result.stderr[-200:]!r}")

    def working_directory(self, name):
        """dumb-init test_working_directories: the app starts in ours, the wrapper keeps none"""
        result = self.run([*wrapper(name), "sh", "-c", "readlink /proc/$PPID/cwd && readlink /proc/$$/cwd"],
                          cwd=self.dir)
        check(result.stdout == f"/\n{os.path.realpath(self.dir)}\n".encode(), f"got {result.stdout!r}")

    def exit_by_signal(self, name):
        """dumb-init test_exit_status_terminated_by_signal"""
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGKILL):
            got = self.run([*wrapper(name), PY, "-c", f"import os; os.kill(os.getpid(), {int(signum)})"]).returncode
            check(got == 128 + signum, f"{signal.Signals(signum).name}: exit {got}")

    def forwards_every_signal(self, name):
        """dumb-init test_proxies_signals: 1..31 but KILL, STOP, CHLD, TSTP, TTIN, TTOU"""
        for group in (False, True):
            app = PrintSignals(wrapper(name, group=group), self.print_signals)
            try:
                for signum in NORMAL:
                    app.proc.send_signal(signum)
                    app.expect(signum)
            finally:
                app.close()

    def dumb_init_rewrite_flags(self, name):
        """dumb-init test_proxies_signals_with_rewrite, test_ignored_signals_are_not_proxied,
        test_default_rewrites_can_be_overriden_with_setsid_enabled"""
        raise NotApplicable("tests dumb-init's -r SIG:SIG rewrite flag")

    def suspend_forwarded_then_self_stop(self, name):
        """dumb-init test_shell_background_support_without_setsid"""
        app = PrintSignals(wrapper(name), self.print_signals)
        try:
            for signum in SUSPEND:
                app.proc.send_signal(signum)
                app.expect(signum)
                check(until(lambda: state(app.proc.pid) == "T", 3), f"{signal.Signals(signum).name}: the wrapper did not stop")
                app.proc.send_signal(signal.SIGCONT)
                app.expect(signal.SIGCONT)
                check(until(lambda: state(app.proc.pid) in "RS", 3), "the wrapper did not continue")
        finally:
            app.close()

    def group_suspend_rewritten_to_stop(self, name):
        """dumb-init test_shell_background_support_setsid (TSTP/TTIN/TTOU rewritten to SIGSTOP)"""
        if name != "dumb-init":
            raise NotApplicable("tests dumb-init's setsid-mode rewrite of TSTP/TTIN/TTOU to SIGSTOP; "
                                "the next row checks the same suspension of an app that does not catch them")
        app = PrintSignals(wrapper(name, group=True), self.print_signals)
        try:
            for signum in SUSPEND:
                app.proc.send_signal(signum)
                check(until(lambda: state(app.proc.pid) == state(app.app) == "T", 3), "not both stopped")
                app.proc.send_signal(signal.SIGCONT)
                app.expect(signal.SIGCONT)
        finally:
            app.close()

    def suspend_stops_app_and_wrapper(self, name):
        """(dumb-init's shell background support, with an app that keeps the default actions)"""
        for group in (False, True):
            proc = subprocess.Popen([*wrapper(name, group=group), "sleep", "30"])
            try:
                check(until(lambda: len(descendants(proc.pid)) == 1), "the app did not start")
                app = descendants(proc.pid)[0]
                for signum in SUSPEND:
                    proc.send_signal(signum)
                    check(until(lambda: state(proc.pid) == state(app) == "T", 3),
                          f"{signal.Signals(signum).name}: wrapper {state(proc.pid)}, app {state(app)}")
                    proc.send_signal(signal.SIGCONT)
                    check(until(lambda: state(proc.pid) in "RS" and state(app) in "RS", 3), "not both running again")
            finally:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
                proc.wait()
                for pid in descendants(proc.pid):
                    os.kill(pid, signal.SIGKILL)

    def tty_tac(self, name):
        """dumb-init test_tty: tac through the terminal"""
        code, output = pty_run([*wrapper(name), "tac"], send=b"1\n2\n3\n\x04\x04")
        check(code == 0 and output == b"3\n2\n1\n", f"exit {code}, output {output!r}")

    def tty_job_control(self, name):
        """dumb-init test_child_gets_controlling_tty_if_we_had_one: bash -m has job control"""
        for group in (False, True):
            code, output = pty_run(["env", "PS1=$ ", *wrapper(name, group=group), "bash", "--norc", "-m"],
                                   send=b'echo "flags are: [[$-]]"\nexit 0\n')
            match = re.search(rb"flags are: \[\[([a-zA-Z]+)\]\]", output)
            check(code == 0 and match and b"m" in match.group(1), f"exit {code}: {output[-300:]!r}")
            check(b"no job control" not in output and b"cannot set terminal process group" not in output,
                  f"job control refused: {output[-300:]!r}")

    def tty_sighup_once(self, name):
        """dumb-init test_sighup_sigcont_ignored_if_was_session_leader (as what the app sees: one SIGHUP, exit 129)"""
        def hup(pid, fd):
            time.sleep(0.5)
            os.kill(pid, signal.SIGHUP)
            return b""
        code, output = pty_run([*wrapper(name), "sleep", "20"], after_start=hup)
        check(code == 129, f"exit {code}, expected 129: {output[-200:]!r}")

    def no_command_usage(self, name):
        """dumb-init cli_test test_no_arguments_prints_usage: no command is a usage error"""
        prefix = [HG, "run"] if name == "healthgate" else [TINI] if name == "tini" else [DUMB_INIT]
        result = self.run(prefix)
        check(result.returncode != 0 and result.stderr, f"exit {result.returncode}, stderr {result.stderr!r}")

    def version_verbose_flags(self, name):
        """dumb-init cli_test: -V/--version, -v/--verbose, -c/--single-child combinations"""
        raise NotApplicable("tests dumb-init's own version and verbosity flags")


SCENARIOS = [
    "exit_codes_pass_through", "tini_exit_code_remap", "reaping_as_subreaper", "reaping_as_pid1",
    "signal_to_wrapper_ends_app", "group_signal_reaches_grandchild", "signal_configuration_kept", "tini_only_flags",
    "bad_flag_and_help", "tty_shell_exit_0", "tty_ctrl_c",
    "group_mode_signals_whole_group", "single_mode_signals_only_child", "group_mode_terms_rest_on_exit",
    "single_mode_leaves_rest_on_exit", "bad_exec", "working_directory", "exit_by_signal", "forwards_every_signal",
    "dumb_init_rewrite_flags", "suspend_forwarded_then_self_stop", "group_suspend_rewritten_to_stop",
    "suspend_stops_app_and_wrapper", "tty_tac", "tty_job_control", "tty_sighup_once", "no_command_usage",
    "version_verbose_flags",
]


def pid_namespaces_work():
    return subprocess.run(["unshare", "--fork", "--pid", "--mount-proc", "true"], capture_output=True).returncode == 0


class PeerSuites(unittest.TestCase):
    def test_scenarios_side_by_side(self):
        workdir = tempfile.mkdtemp(prefix="hg-peers-")
        self.addCleanup(shutil.rmtree, workdir, True)
        scenarios = Scenarios(workdir)
        names = ["healthgate", "tini", "dumb-init"]
        present = {"healthgate": True, "tini": TINI is not None, "dumb-init": DUMB_INIT is not None}
        rows, failures, notes = [], [], []
        for scenario in SCENARIOS:
            row = [scenario]
            for name in names:
                if not present[name]:
                    row.append("absent")
                    continue
                try:
                    getattr(scenarios, scenario)(name)
                    row.append("pass")
                except NotApplicable as reason:
                    row.append("n/a")
                    if name == "healthgate":
                        notes.append(f"{scenario}: n/a for healthgate: {reason}")
                except Exception as error:  # noqa: BLE001 - a peer's failure is a table cell
                    row.append("FAIL")
                    if name == "healthgate":
                        failures.append(f"{scenario}: {type(error).__name__}: {error}")
            rows.append(row)
        width = max(len(r[0]) for r in rows)
        print(f"\n{'scenario':<{width}}  healthgate  tini{' (' + os.path.basename(TINI) + ')' if TINI else ''}  dumb-init")
        for row in rows:
            print(f"{row[0]:<{width}}  {row[1]:<10}  {row[2]:<{len('tini') + 3 + len(os.path.basename(TINI or ''))}}  {row[3]}")
        for name, column in zip(names, (1, 2, 3)):
            cells = [r[column] for r in rows]
            print(f"{name}: {cells.count('pass')} pass, {cells.count('FAIL')} fail, {cells.count('n/a')} n/a")
        for note in notes + failures:
            print(note)
        sys.stdout.flush()
        self.assertEqual(failures, [], "healthgate failed scenarios of the peers' suites")


if __name__ == "__main__":
    unittest.main(verbosity=2)
