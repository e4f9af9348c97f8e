"""One `weft serve` process for the Python test harnesses (tests/e2e, tests/faults), and
the small helpers they share.

Owns: starting a server on its data directory (optionally through a launcher such as
`ip netns exec NS`) and waiting until its Bolt port answers, and ending it: SIGKILL, a
clean SIGTERM stop (SIGKILL after WAIT seconds), SIGSTOP/SIGCONT. Only the process it
started is ever signalled, by its pid. Also a free loopback port, and a bounded wait.
"""
import os
import signal
import socket
import subprocess
import time

WAIT = 30


_handed_out = set()


def free_port():
    """A loopback TCP port nothing listens on at the moment, and never one this process
    handed out before: the kernel may give the same free port to two calls in a row, and
    two servers of one test would then race for it."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def wait_until(what, done, ignore=()):
    """Waits up to WAIT seconds for `done()` to be true; exceptions in `ignore` count as
    not yet."""
    deadline = time.time() + WAIT
    while True:
        try:
            if done():
                return
        except ignore:
            pass
        assert time.time() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


class WeftProcess:
    """A restartable `weft serve` with its own data directory and log file."""

    def __init__(self, binary, name, root, host, bolt, http, launcher=(), snapshot_interval=0):
        self.binary, self.name, self.host = binary, name, host
        self.bolt_port, self.http_port = bolt, http
        self.launcher, self.snapshot_interval = list(launcher), snapshot_interval
        self.data = os.path.join(root, name)
        self.log = open(os.path.join(root, f"{name}.log"), "ab")
        self.process = None
        self.paused = False

    def arguments(self):
        """The `weft serve` arguments; a harness may add its own."""
        return ["--bolt-address", f"{self.host}:{self.bolt_port}", "--http-address", f"{self.host}:{self.http_port}",
                "--data-dir", self.data, "--snapshot-interval", str(self.snapshot_interval)]

    def start(self):
        args = [*self.launcher, self.binary, "serve", *self.arguments()]
        self.process = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        deadline = time.time() + WAIT
        while time.time() < deadline:
            try:
                socket.create_connection((self.host, self.bolt_port), timeout=0.2).close()
                return
            except OSError:
                assert self.process.poll() is None, f"{self.name} exited with {self.process.returncode}"
                time.sleep(0.05)
        raise AssertionError(f"{self.name} did not start listening")

    def running(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        if self.running():
            self.resume()
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=WAIT)

    def pause(self):
        if self.running() and not self.paused:
            self.process.send_signal(signal.SIGSTOP)
            self.paused = True

    def resume(self):
        if self.running() and self.paused:
            self.process.send_signal(signal.SIGCONT)
            self.paused = False

    def stop(self):
        self.resume()
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.kill()
