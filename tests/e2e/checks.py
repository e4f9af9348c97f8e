"""What the e2e check scripts share: running a named check and counting it, and reading a
server's resident memory by pid."""
passed = 0


def check(name, fn):
    """Runs fn; a failed assertion ends the script with its traceback."""
    global passed
    fn()
    passed += 1
    print(f"ok {name}", flush=True)


def server_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for the server")
