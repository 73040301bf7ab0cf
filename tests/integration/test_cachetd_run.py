"""`make run` (scripts/run-cachetd.sh): cachetd in the foreground with one
ready replication group. The instructions it prints must be true: the test
runs the exact printed redis-cli (plaintext and TLS) and AWS CLI commands,
then sends SIGINT to the script's process group (what ^C in a terminal
does) and checks that no process it started is left: the script, cachetd
and both nodes, by their PIDs. A second run on the same data directory
reuses the group, on the same ports.

Free ports: the script takes CACHETD_PORT and CACHETD_DATA."""
import os
import re
import signal
import subprocess

import pytest

from conftest import ROOT, SANITIZER_MARKERS, free_port, wait_until
from test_cachetd import AWS_CLI, CACHETD_BIN, node_pids

SCRIPT = os.path.join(ROOT, "scripts", "run-cachetd.sh")
LINE = re.compile(r"^\s+(plaintext|TLS|replica|AWS CLI):\s+(.+)$", re.M)


def pid_alive(pid):
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


class Run:
    """One `scripts/run-cachetd.sh` in its own session (its process group
    gets the SIGINT a terminal's ^C would send)."""

    def __init__(self, tmp_path, data, api_port, n):
        self.out_path = str(tmp_path / f"run{n}.out")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(CACHETD_DATA=data, CACHETD_PORT=str(api_port), CACHETD_BIN=CACHETD_BIN)
        with open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen([SCRIPT], stdout=out, stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True)
        self.data = data

    def out(self):
        return open(self.out_path, errors="replace").read()

    def ready(self):
        """The instructions are out, or the script has exited (the caller
        then fails at once with its output, not at the deadline)."""
        return self.proc.poll() is not None or "^C stops cachetd" in self.out()

    def cachetd_pid(self):
        m = re.search(r"^(\d+):D .* cachetd ready on", self.out(), re.M)
        assert m, self.out()
        return int(m.group(1))

    def commands(self):
        return dict(LINE.findall(self.out()))

    def interrupt(self):
        os.killpg(self.proc.pid, signal.SIGINT)
        self.proc.wait(60)

    def kill_all(self):
        """Failure path: whatever is left, by PID."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        for pid in node_pids(self.data).values():
            os.kill(pid, signal.SIGKILL)


def shell(cmd):
    """A printed command, run as a user would paste it (no AWS_* variables
    of the test's environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="Debian's awscli is not installed")
def test_make_run_prints_true_instructions_and_leaves_nothing(tmp_path):
    data = str(tmp_path / "cachetd-data")
    api_port = free_port()
    seen_ports = None
    for n in range(2):
        run = Run(tmp_path, data, api_port, n)
        try:
            wait_until(run.ready, timeout=180, interval=0.2, what="make run's instructions")
            assert run.proc.poll() is None, run.out()
            cmds = run.commands()
            assert set(cmds) == {"plaintext", "TLS", "replica", "AWS CLI"}, run.out()
            ports = tuple(re.search(r"-p (\d+)", cmds[k]).group(1) for k in ("plaintext", "replica"))
            assert ports[0] != ports[1]
            if seen_ports:  # the second run: the same group on the same ports
                assert ports == seen_ports
            seen_ports = ports
            assert "--tls --cacert" in cmds["TLS"] and "--tls --cacert" in cmds["replica"]
            r = shell(cmds["plaintext"])
            assert r.returncode == 0 and r.stdout.strip() == "OK", r
            r = shell(cmds["TLS"])
            assert r.returncode == 0 and r.stdout.strip() == "hello", r
            wait_until(lambda: shell(cmds["replica"]).stdout.strip() == "hello", timeout=30, interval=0.2,
                       what="the replica has the key")
            r = shell(cmds["AWS CLI"])
            assert r.returncode == 0, r.stderr
            assert '"ReplicationGroupId": "demo"' in r.stdout and '"Status": "available"' in r.stdout, r.stdout
            assert '"TransitEncryptionMode": "preferred"' in r.stdout
            started = [run.proc.pid, run.cachetd_pid()] + list(node_pids(data).values())
            assert len(started) == 4, started
            run.interrupt()
            assert run.proc.returncode in (130, 0), run.out()
            wait_until(lambda: not any(pid_alive(p) for p in started), timeout=30,
                       what="no process of make run left")
            assert node_pids(data) == {}
            assert not [m for m in SANITIZER_MARKERS if m in run.out()], run.out()
        finally:
            run.kill_all()
