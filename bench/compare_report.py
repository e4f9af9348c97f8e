"""Turns the JSON that bench/compare.sh gathered (one file per `weft bench` call) into the
side-by-side markdown table: Weft and FalkorDB per workload and connection count, with
ratios where both have a figure, and the errors each run saw.

  python3 bench/compare_report.py DIR --commit HASH --falkordb VERSION
"""
import argparse
import json
import os

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--commit", required=True)
p.add_argument("--falkordb", required=True)
a = p.parse_args()


def load(name):
    path = os.path.join(a.dir, name + ".json")
    if not os.path.exists(path):
        return {}, None
    with open(path) as f:
        doc = json.load(f)
    return {(r["workload"], r["connections"]): r for r in doc["runs"]}, doc


runs = {}
docs = {}
for name in ["weft-1", "weft-16", "weft-16-inline", "weft-1-create", "weft-16-create",
             "falkordb-1", "falkordb-16-inline", "falkordb-1-create", "falkordb-16-create"]:
    runs[name], docs[name] = load(name)


def fig(r):
    """q/s, p50 ms, p99 ms, server CPU µs/q of a run, or None where it has none."""
    if not r or not r["ok"] or r["qps"] is None:
        return None
    return r["qps"], r["latency_ms"]["p50"], r["latency_ms"]["p99"], r.get("server_cpu_us_per_query")


def cell(r):
    f = fig(r)
    if f is None:
        if not r:
            return "not run | | |"
        return f"failed: {(r.get('first_error') or 'no answers')[:60]} | | |"
    qps, p50, p99, cpu = f
    errors = f" ({r['errors']} errors)" if r["errors"] else ""
    cpu_text = f"{cpu:,.0f}" if cpu is not None else "-"
    return f"{qps:,.0f}{errors} | {p50:.3f} | {p99:.3f} | {cpu_text}"


def ratio(w, f):
    fw, ff = fig(w), fig(f)
    if fw is None or ff is None:
        return "- | - | -"
    return f"{fw[0] / ff[0]:.2f} | {ff[1] / fw[1]:.2f} | {ff[2] / fw[2]:.2f}"


def head(name):
    return f"{name} q/s | {name} p50 ms | {name} p99 ms | {name} CPU µs/q"


anyw = next((d for k, d in docs.items() if k.startswith("weft") and d), None)
anyf = next((d for k, d in docs.items() if k.startswith("falkordb") and d), None)
print(f"# Weft beside FalkorDB, `weft bench` over Bolt\n")
if anyw:
    print(f"- {anyw['started']}, Weft at commit {a.commit} ({anyw.get('server_agent')}), "
          f"FalkorDB from {a.falkordb} ({(anyf or {}).get('server_agent')})")
    s = anyw["settings"]
    print(f"- {anyw['graph']}; {s['duration_s']} s per run after {s['warmup_s']} s of warm-up; "
          "client and server share the machine's 2 cores")
print("- Weft: `weft serve --wal-sync off` (WAL written, not fsynced); FalkorDB: redis-server with "
      "the module, no persistence, Bolt listener in a private network namespace")
print("- CPU: the server process's user+system CPU per answered query")
print("- Order: every read run before any create, so agg scans the loaded persons only")
print("- Ratios: Weft q/s ÷ FalkorDB q/s, and FalkorDB latency ÷ Weft latency: above 1, Weft is ahead\n")

def load_and_memory(doc):
    """(load seconds, resident MiB right after the load and a few seconds later) of the run
    that loaded the graph."""
    if not doc or doc.get("load_s") is None:
        return None, None, None
    mib = lambda key: doc[key] / 1048576 if doc.get(key) else None
    return doc["load_s"], mib("server_rss_after_load_bytes"), mib("server_rss_settled_bytes")


wl, wm, ws = load_and_memory(docs["weft-1"])
fl, fm, fs = load_and_memory(docs["falkordb-1"])
if wl is not None or fl is not None:
    num = lambda v, f: "-" if v is None else format(v, f)
    both = lambda x, y, f: "-" if x is None or y is None else format(f(x, y), ".2f")
    print("## Bulk load and memory\n")
    print("The standard graph loaded by `weft bench` (UNWIND batches of literal maps, one "
          "connection), and the server's resident memory right after the load and again 3 s "
          "later (`weft bench` waits the same for both servers).\n")
    print("| figure | Weft | FalkorDB | ratio (above 1: Weft ahead) |")
    print("|---|---:|---:|---:|")
    print(f"| load s | {num(wl, '.1f')} | {num(fl, '.1f')} | {both(wl, fl, lambda w, f: f / w)} |")
    print(f"| resident MiB right after load | {num(wm, '.0f')} | {num(fm, '.0f')} | {both(wm, fm, lambda w, f: f / w)} |")
    print(f"| resident MiB 3 s after load | {num(ws, '.0f')} | {num(fs, '.0f')} | {both(ws, fs, lambda w, f: f / w)} |")
    print()

print("## 1 connection (parameters sent as parameters)\n")
print(f"| workload | {head('Weft')} | {head('FalkorDB')} | q/s ratio | p50 ratio | p99 ratio |")
print("|---|" + "---:|" * 11)
for w in ["point", "hop1", "hop2", "agg", "create"]:
    weft, falkor = ("weft-1-create", "falkordb-1-create") if w == "create" else ("weft-1", "falkordb-1")
    rw, rf = runs[weft].get((w, 1)), runs[falkor].get((w, 1))
    print(f"| {w} | {cell(rw)} | {cell(rf)} | {ratio(rw, rf)} |")

print("\n## 16 connections\n")
print("FalkorDB's reads run with the ids written into the query text (`--inline-parameters`): with "
      "parameters its Bolt listener crashes under concurrent queries. Weft is shown both ways; "
      "the ratios compare the like-for-like inline rows.\n")
print(f"| workload | {head('Weft')} | {head('Weft inline')} | {head('FalkorDB inline')} "
      "| q/s ratio | p50 ratio | p99 ratio |")
print("|---|" + "---:|" * 15)
for w in ["point", "hop1", "hop2", "agg"]:
    rp = runs["weft-16"].get((w, 16))
    ri = runs["weft-16-inline"].get((w, 16))
    rf = runs["falkordb-16-inline"].get((w, 16))
    print(f"| {w} | {cell(rp)} | {cell(ri)} | {cell(rf)} | {ratio(ri, rf)} |")
rw, rf = runs["weft-16-create"].get(("create", 16)), runs["falkordb-16-create"].get(("create", 16))
print(f"\nCreates at 16 connections, parameters sent as parameters:\n")
print(f"| workload | {head('Weft')} | {head('FalkorDB')} | q/s ratio | p50 ratio | p99 ratio |")
print("|---|" + "---:|" * 11)
print(f"| create | {cell(rw)} | {cell(rf)} | {ratio(rw, rf)} |")

errors = [(k, r) for k, rs in runs.items() for r in rs.values() if r.get("first_error")]
if errors:
    print("\n## Errors seen\n")
    for k, r in errors:
        lost = f", {r['lost_connections']} connection(s) lost" if r["lost_connections"] else ""
        print(f"- {k} {r['workload']} x{r['connections']}: {r['errors']} error(s){lost}; "
              f"first: `{r['first_error'][:200]}`")
