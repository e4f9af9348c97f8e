# Shared by the benchmark scripts (source it): a free local port, and waiting for a server
# that this script started to listen.

# Prints a TCP port nothing listens on at the moment.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_port PORT PID [LOG]: waits up to 10 s for a listener on PORT; fails at once if the
# server (PID) exits, naming its LOG when given.
wait_port() {
  for _ in $(seq 1 100); do
    kill -0 "$2" 2>/dev/null || { echo "the server (pid $2) exited${3:+: see $3}" >&2; return 1; }
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), timeout=0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2; return 1
}
