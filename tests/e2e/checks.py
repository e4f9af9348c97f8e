"""What the e2e check scripts share: running named checks and counting them, and reading
a server's resident memory by pid."""


class Checks:
    """Runs named checks; each that passes prints `ok [<suite>: ]<name>`. A failed
    assertion ends the script with its traceback."""

    def __init__(self, suite=None):
        self.suite, self.passed = suite, 0

    def __call__(self, name, fn):
        fn()
        self.passed += 1
        label = f"{self.suite}: {name}" if self.suite else name
        print(f"ok {label}", flush=True)


def server_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for the server")
