"""Runs the small node scripts of tests/node/ (node-redis, the JavaScript
AWS SDK) for the integration tests: each prints JSON lines the Python test
asserts on. Their npm packages come from tests/node/package-lock.json,
installed by `make node-deps` (a dependency of make test-integration).
The tests skip only when node itself is absent (scripts/deps.sh installs it).
"""
import json
import os
import select
import shutil
import subprocess
import time

import pytest

from conftest import ROOT

NODE = shutil.which("node")
NODE_DIR = os.path.join(ROOT, "tests", "node")

needs_node = pytest.mark.skipif(not NODE, reason="node (Debian's nodejs) is not installed; scripts/deps.sh installs it")


def script(name):
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules")):
        pytest.fail("tests/node/node_modules is missing: run `make node-deps` (npm ci --prefix tests/node)")
    return os.path.join(NODE_DIR, name)


def run_node(name, cfg, timeout=60, env=None):
    """Runs tests/node/NAME with cfg as its JSON argument; returns the JSON
    lines it printed (a list of objects)."""
    p = subprocess.run([NODE, script(name), json.dumps(cfg)], capture_output=True, text=True, timeout=timeout,
                       cwd=NODE_DIR, env=env)
    assert p.returncode == 0, f"{name} failed (rc {p.returncode}):\n{p.stderr}\n{p.stdout}"
    return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]


class NodeProcess:
    """A node script that runs in steps: read_json() waits (with a deadline)
    for its next JSON line, go() writes a line to its stdin to let it go on.
    stop() kills it by PID if it is still running."""

    def __init__(self, name, cfg):
        self.proc = subprocess.Popen([NODE, script(name), json.dumps(cfg)], cwd=NODE_DIR, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.name = name

    def read_json(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: no output within {timeout}s")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    self.proc.wait(10)
                    raise AssertionError(f"{self.name} exited (rc {self.proc.returncode}):\n{self.proc.stderr.read()}")
                if line.startswith("{"):
                    return json.loads(line)

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def wait(self, timeout=60):
        rc = self.proc.wait(timeout)
        assert rc == 0, f"{self.name} failed (rc {rc}):\n{self.proc.stderr.read()}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            f.close()
