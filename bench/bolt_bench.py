"""Client side of bench/bolt.sh: loads the shared social graph into one engine, drives C
concurrent clients (one OS process each, so the GIL does not serialise them) through the
standard workload for S seconds per query, and writes the figures as JSON; `report` turns
the JSON of every engine into markdown tables with Weft's ratio to each peer.

  python bolt_bench.py run --engine weft|falkordb|kuzu --data DIR --out FILE.json
                           [--port P --pid PID | --kuzu-dir DIR] [--clients C --seconds S]
  python bolt_bench.py report DIR_WITH_JSON

Every engine gets the same query text, the same seeded start ids (client i of query q draws
the same ids on every engine) and the same client loop; only `connect` differs.
"""
import argparse
import json
import multiprocessing as mp
import os
import random
import signal
import sys
import threading
import time

QUERIES = {
    "point": "MATCH (p:Person {id: $id}) RETURN p.name",
    "hop1": "MATCH (a:Person {id: $id})-[:KNOWS]->(b:Person) RETURN count(b)",
    "hop2": "MATCH (a:Person {id: $id})-[:KNOWS]->(:Person)-[:KNOWS]->(c:Person) RETURN count(DISTINCT c)",
    "agg": "MATCH (p:Person) RETURN p.age AS age, count(*) AS c ORDER BY age",
    "create": "CREATE (:Person {id: $id, name: $name, age: $age})",
}
WRITES = {"create"}
WARMUP_QUERIES = 20
WARMUP_SECONDS = 1.0
# ids made by `create`: client i of an engine uses CREATE_BASE * (i + 1) + n, above every person id
CREATE_BASE = 100_000_000


# --- the one place where engines differ ----------------------------------------------------

def connect(engine, args, write):
    """Returns run(query_text, params) -> number of rows, for one client."""
    if engine == "weft":
        import neo4j
        driver = neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{args.port}", auth=("bench", "bench"))
        session = driver.session()

        def run(text, params):
            return len(session.run(text, params).values())
        return run
    if engine == "falkordb":
        from falkordb import FalkorDB
        graph = FalkorDB(host="127.0.0.1", port=args.port).select_graph("social")

        def run(text, params):
            res = graph.query(text, params) if write else graph.ro_query(text, params)
            return len(res.result_set)
        return run
    if engine == "kuzu":
        import kuzu
        # Readers open the on-disk database read-only, one per process (Kuzu allows many
        # read-only processes but one read-write one); writers are threads sharing one
        # in-memory Database (see `run_clients`). One execution thread per query: the clients
        # are the parallelism.
        db = args.kuzu_db if write else kuzu.Database(args.kuzu_dir, read_only=True,
                                                      buffer_pool_size=512 * 1024 * 1024)
        conn = kuzu.Connection(db, num_threads=1)

        lock = args.kuzu_lock if write else None

        def run(text, params):
            if lock:  # Kuzu fails a second concurrent write transaction instead of queueing it
                with lock:
                    res = conn.execute(text, params)
            else:
                res = conn.execute(text, params)
            rows = 0
            while res.has_next():
                res.get_next()
                rows += 1
            return rows
        return run
    raise SystemExit(f"unknown engine {engine}")


# --- loading -------------------------------------------------------------------------------

def unwind_batches(data):
    """The statements of load_unwind.cypherl: (index statement, person batches, edge batches)."""
    index, persons, edges = None, [], []
    with open(os.path.join(data, "load_unwind.cypherl")) as f:
        for line in f:
            stmt = line.strip().rstrip(";")
            if not stmt:
                continue
            if stmt.startswith("CREATE INDEX"):
                index = stmt
            elif "MATCH" in stmt:
                edges.append(stmt)
            else:
                persons.append(stmt)
    return index, persons, edges


def timed_batches(run, stmts, label, deadline):
    t0 = time.perf_counter()
    for i, stmt in enumerate(stmts):
        run(stmt, {})
        if time.time() > deadline:
            raise SystemExit(f"{label}: load deadline passed after {i + 1}/{len(stmts)} batches "
                             f"({time.perf_counter() - t0:.0f} s)")
    return time.perf_counter() - t0


def load(engine, args, manifest):
    deadline = time.time() + args.load_timeout
    if engine in ("weft", "falkordb"):
        index, persons, edges = unwind_batches(args.data)
        run = connect(engine, args, write=True)
        # Weft takes the file's Memgraph-style statement; FalkorDB wants its own index syntax.
        t0 = time.perf_counter()
        run(index if engine == "weft" else "CREATE INDEX FOR (p:Person) ON (p.id)", {})
        t_index = time.perf_counter() - t0
        t_persons = timed_batches(run, persons, f"{engine} persons", deadline)
        t_edges = timed_batches(run, edges, f"{engine} edges", deadline)
    else:
        import kuzu
        db = kuzu.Database(args.kuzu_dir, buffer_pool_size=2 * 1024 ** 3)
        t_index, t_persons, t_edges = kuzu_copy(db, args.data)
        del db
    counted = {
        "persons": first_value(engine, args, "MATCH (p:Person) RETURN count(p)"),
        "edges": first_value(engine, args, "MATCH (:Person)-[k:KNOWS]->(:Person) RETURN count(k)"),
    }
    if counted != {"persons": manifest["persons"], "edges": manifest["edges"]}:
        raise SystemExit(f"{engine}: loaded {counted}, manifest says persons={manifest['persons']} "
                         f"edges={manifest['edges']}")
    return {"index_s": t_index, "persons_s": t_persons, "edges_s": t_edges,
            "total_s": t_index + t_persons + t_edges, "counted": counted,
            "method": "COPY FROM csv" if engine == "kuzu" else f"UNWIND batches of 5,000 ({len(persons)}+{len(edges)} statements)"}


def kuzu_copy(db, data):
    """Schema (the primary key is Kuzu's index on id) and COPY FROM the CSVs; returns timings."""
    import kuzu
    conn = kuzu.Connection(db)
    t0 = time.perf_counter()
    conn.execute("CREATE NODE TABLE Person(id INT64, name STRING, age INT64, PRIMARY KEY (id))")
    conn.execute("CREATE REL TABLE KNOWS(FROM Person TO Person, since INT64)")
    t1 = time.perf_counter()
    conn.execute(f"COPY Person FROM '{os.path.abspath(data)}/persons.csv' (HEADER=true)")
    t2 = time.perf_counter()
    conn.execute(f"COPY KNOWS FROM '{os.path.abspath(data)}/knows.csv' (HEADER=true)")
    return t1 - t0, t2 - t1, time.perf_counter() - t2


def first_value(engine, args, text):
    if engine == "weft":
        import neo4j
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{args.port}", auth=("bench", "bench")) as d:
            with d.session() as s:
                return s.run(text).single()[0]
    if engine == "falkordb":
        from falkordb import FalkorDB
        return FalkorDB(host="127.0.0.1", port=args.port).select_graph("social").ro_query(text).result_set[0][0]
    import kuzu
    db = kuzu.Database(args.kuzu_dir, read_only=True, buffer_pool_size=512 * 1024 * 1024)
    return kuzu.Connection(db).execute(text).get_next()[0]


# --- the clients ---------------------------------------------------------------------------

def params_for(qname, rng, client, n, persons):
    if qname == "create":
        return {"id": CREATE_BASE * (client + 1) + n, "name": f"new {client}-{n}", "age": rng.randint(18, 80)}
    return {"id": rng.randrange(persons)}


def client_loop(engine, args, qname, client, start, results):
    """One client: connect, warm up, wait for the common start, run for args.seconds."""
    try:
        write = qname in WRITES
        run = connect(engine, args, write)
        text = QUERIES[qname]
        warm = random.Random(f"warmup-{args.seed}-{qname}-{client}")
        t_warm = time.perf_counter() + WARMUP_SECONDS
        for n in range(WARMUP_QUERIES if not write else 0):
            run(text, params_for(qname, warm, client, n, args.persons))
            if time.perf_counter() > t_warm:
                break
        rng = random.Random(f"{args.seed}-{qname}-{client}")
        start.wait()
        lat, errors, first_error, rows = [], 0, None, 0
        cpu0, t0 = os.times(), time.perf_counter()
        t_end = t0 + args.seconds
        n = 0
        while True:
            p = params_for(qname, rng, client, n, args.persons)
            n += 1
            a = time.perf_counter()
            try:
                rows += run(text, p)
            except Exception as e:  # counted and reported, the loop goes on
                errors += 1
                first_error = first_error or f"{type(e).__name__}: {e}"[:300]
                b = time.perf_counter()
            else:
                b = time.perf_counter()
                lat.append(b - a)
            if b >= t_end:
                break
        cpu1 = os.times()
        results.put({"client": client, "lat": lat, "errors": errors, "first_error": first_error,
                     "rows": rows, "t0": t0, "t1": b,
                     "cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)})
    except Exception as e:
        results.put({"client": client, "fatal": f"{type(e).__name__}: {e}"[:500]})
        try:
            start.abort()
        except Exception:
            pass


def proc_cpu_seconds(pid):
    """user+system CPU seconds of a process and all its threads, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_clients(engine, args, qname):
    # Kuzu writers: one read-write Database in this process, clients as threads (Kuzu lets
    # only one process open a database read-write); every other case: one process per client.
    threaded = engine == "kuzu" and qname in WRITES
    if threaded:
        import queue
        import kuzu
        # In memory, like Weft and FalkorDB here (an on-disk Kuzu fsyncs its WAL per commit).
        args.kuzu_db = kuzu.Database(":memory:", buffer_pool_size=2 * 1024 ** 3)
        kuzu_copy(args.kuzu_db, args.data)
        args.kuzu_lock = threading.Lock()
        start, results = threading.Barrier(args.clients + 1), queue.Queue()
        workers = [threading.Thread(target=client_loop, args=(engine, args, qname, i, start, results))
                   for i in range(args.clients)]
    else:
        ctx = mp.get_context("spawn")
        start, results = ctx.Barrier(args.clients + 1), ctx.Queue()
        workers = [ctx.Process(target=client_loop, args=(engine, args, qname, i, start, results), daemon=True)
                   for i in range(args.clients)]
    for w in workers:
        w.start()
    try:
        start.wait(timeout=120)
    except threading.BrokenBarrierError:
        pass
    server_cpu0 = proc_cpu_seconds(args.pid) if args.pid else None
    own_cpu0 = os.times()
    w0 = time.perf_counter()
    got = [results.get(timeout=args.seconds + 300) for _ in workers]
    wall = time.perf_counter() - w0
    server_cpu = (proc_cpu_seconds(args.pid) - server_cpu0) if args.pid else None
    own_cpu1 = os.times()
    own_cpu = (own_cpu1.user - own_cpu0.user) + (own_cpu1.system - own_cpu0.system)
    for w in workers:
        w.join(timeout=30)
    if threaded:
        del args.kuzu_db, args.kuzu_lock
    fatal = [g["fatal"] for g in got if "fatal" in g]
    if fatal:
        return {"fatal": fatal[0]}
    lat = sorted(x for g in got for x in g["lat"])
    window = max(g["t1"] for g in got) - min(g["t0"] for g in got)
    ok = len(lat)
    pct = lambda q: lat[min(ok - 1, int(q * ok))] * 1e3 if ok else float("nan")
    return {
        "ok": ok, "errors": sum(g["errors"] for g in got),
        "first_error": next((g["first_error"] for g in got if g["first_error"]), None),
        "qps": ok / window, "p50_ms": pct(0.50), "p99_ms": pct(0.99), "window_s": window,
        "rows": sum(g["rows"] for g in got),
        "client_cpu_pct": 100 * (own_cpu / wall if threaded else sum(g["cpu_s"] for g in got) / window),
        "server_cpu_pct": 100 * server_cpu / wall if server_cpu is not None else None,
    }


def cmd_run(args):
    # Bounded: past the budget, stop the clients and give up (bolt.sh's `timeout` is the backstop).
    def give_up(*_):
        for child in mp.active_children():
            child.terminate()
        raise SystemExit(f"{args.engine}: time budget of {args.budget:.0f} s exceeded")
    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(int(args.budget))
    with open(os.path.join(args.data, "manifest.json")) as f:
        manifest = json.load(f)
    args.persons = manifest["persons"]
    out = {"engine": args.label or args.engine, "clients": args.clients, "seconds": args.seconds,
           "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
           "loadavg_before": os.getloadavg()[0],
           "manifest": manifest, "queries": {}}
    out["version"] = args.version
    if args.engine == "kuzu":
        import kuzu
        out["version"] = f"kuzu {kuzu.__version__}"
    if args.engine == "falkordb":
        try:
            from falkordb import FalkorDB
            mods = FalkorDB(host="127.0.0.1", port=args.port).connection.execute_command("MODULE", "LIST")
            dec = lambda x: x.decode() if isinstance(x, bytes) else x
            fields = [{dec(k): dec(v) for k, v in (m.items() if isinstance(m, dict) else zip(m[::2], m[1::2]))}
                      for m in mods]
            out["version"] = "; ".join(f"redis module {f.get('name')} {f.get('ver')}" for f in fields)
        except Exception as e:
            out["version"] = f"falkordb (version unknown: {e})"
    print(f"[{out['engine']}] loading...", file=sys.stderr, flush=True)
    out["load"] = load(args.engine, args, manifest)
    if args.pid:
        out["load"]["server_rss_mb"] = rss_mb(args.pid)
    print(f"[{out['engine']}] loaded in {out['load']['total_s']:.1f} s", file=sys.stderr, flush=True)
    for qname in args.queries.split(","):
        r = run_clients(args.engine, args, qname)
        out["queries"][qname] = r
        if "fatal" in r:
            print(f"[{out['engine']}] {qname}: FATAL {r['fatal']}", file=sys.stderr, flush=True)
        else:
            print(f"[{out['engine']}] {qname}: {r['qps']:.0f} q/s p50 {r['p50_ms']:.2f} ms "
                  f"p99 {r['p99_ms']:.2f} ms errors {r['errors']}", file=sys.stderr, flush=True)
    if args.pid:
        out["server_rss_mb_end"] = rss_mb(args.pid)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return None


# --- the report ----------------------------------------------------------------------------

def fmt(x, digits=0):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def cmd_report(args):
    runs = []
    for name in sorted(os.listdir(args.dir)):
        if name.endswith(".json"):
            with open(os.path.join(args.dir, name)) as f:
                runs.append(json.load(f))
    order = {"weft": 0, "falkordb": 1, "kuzu": 2}
    runs.sort(key=lambda r: order.get(r["engine"], 9))
    if not runs:
        raise SystemExit("no results")
    m = runs[0]["manifest"]
    print(f"graph: {m['persons']:,} persons, {m['edges']:,} KNOWS edges, seed {m['seed']}; "
          f"sha256 persons.csv {m['sha256_persons_csv']}, knows.csv {m['sha256_knows_csv']}")
    for r in runs[1:]:
        if (r["manifest"]["sha256_persons_csv"], r["manifest"]["sha256_knows_csv"]) != \
                (m["sha256_persons_csv"], m["sha256_knows_csv"]):
            print(f"WARNING: {r['engine']} ran on a different graph")
    print(f"clients: {runs[0]['clients']} (one process each; Kuzu create: threads), "
          f"{runs[0]['seconds']} s per query; "
          f"started {runs[0].get('started', '?')}")
    for r in runs:
        print(f"- {r['engine']}: {r.get('version')} (1-min load average before its run: "
              f"{r.get('loadavg_before', 0):.1f})")
    print()
    print("| load | method | index s | persons s | edges s | total s | server RSS MB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in runs:
        ld = r["load"]
        print(f"| {r['engine']} | {ld['method']} | {ld['index_s']:.2f} | {ld['persons_s']:.1f} | "
              f"{ld['edges_s']:.1f} | {ld['total_s']:.1f} | {fmt(ld.get('server_rss_mb'))} |")
    qnames = list(runs[0]["queries"])
    for r in runs:
        print(f"\n**{r['engine']}**\n")
        print("| query | queries/s | p50 ms | p99 ms | errors | client CPU % | server CPU % "
              "| client CPU µs/query | server CPU µs/query |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for q in qnames:
            x = r["queries"].get(q)
            if x is None:
                continue
            if "fatal" in x:
                print(f"| {q} | failed: {x['fatal'][:120]} | | | | | |")
                continue
            per = lambda pct: pct * 1e4 / x["qps"] if pct is not None and x["qps"] else None
            print(f"| {q} | {fmt(x['qps'])} | {x['p50_ms']:.2f} | {x['p99_ms']:.2f} | {x['errors']} | "
                  f"{fmt(x['client_cpu_pct'])} | {fmt(x['server_cpu_pct'])} | "
                  f"{fmt(per(x['client_cpu_pct']))} | {fmt(per(x['server_cpu_pct']))} |")
        errs = {q: x["first_error"] for q, x in r["queries"].items() if x.get("first_error")}
        for q, e in errs.items():
            print(f"\n{r['engine']} {q} first error: `{e}`")
    weft = [r for r in runs if r["engine"].startswith("weft")]
    peers = [r for r in runs if not r["engine"].startswith("weft")]
    if weft and peers:
        print("\n**Weft throughput / peer throughput** (above 1: Weft is faster)\n")
        cols = [(w, p) for w in weft for p in peers]
        print("| query | " + " | ".join(f"{w['engine']} / {p['engine']}" for w, p in cols) + " |")
        print("|---|" + "---:|" * len(cols))
        for q in qnames:
            cells = []
            for w, p in cols:
                a, b = w["queries"].get(q, {}), p["queries"].get(q, {})
                cells.append(f"{a['qps'] / b['qps']:.2f}" if a.get("qps") and b.get("qps") else "-")
            print(f"| {q} | " + " | ".join(cells) + " |")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--engine", required=True, choices=["weft", "falkordb", "kuzu"])
    r.add_argument("--label")
    r.add_argument("--version", help="what was measured, for the report")
    r.add_argument("--data", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--port", type=int)
    r.add_argument("--pid", type=int, help="server pid, for its CPU time and RSS")
    r.add_argument("--kuzu-dir")
    r.add_argument("--clients", type=int, default=4)
    r.add_argument("--seconds", type=float, default=5)
    r.add_argument("--seed", type=int, default=42)
    r.add_argument("--queries", default="point,hop1,hop2,create")
    r.add_argument("--load-timeout", type=float, default=900)
    r.add_argument("--budget", type=float, default=1800, help="seconds for the whole run")
    p = sub.add_parser("report")
    p.add_argument("dir")
    args = ap.parse_args()
    cmd_run(args) if args.cmd == "run" else cmd_report(args)


if __name__ == "__main__":
    main()
