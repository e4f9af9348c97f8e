"""Turns the JSON that bench/ab.sh gathered (one file per side, workload and connection
count) into a markdown table of before and after with their ratios.

  python3 bench/ab_report.py DIR --before LABEL --after LABEL
"""
import argparse
import json
import os

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--before", required=True)
p.add_argument("--after", required=True)
a = p.parse_args()

WORKLOADS = ["point", "hop1", "hop2", "agg", "create"]


def load(side, workload, connections):
    path = os.path.join(a.dir, f"{side}-{workload}-{connections}.json")
    if not os.path.exists(path):
        return None, None
    with open(path) as f:
        doc = json.load(f)
    runs = [r for r in doc["runs"] if r["workload"] == workload]
    return (runs[0] if runs else None), doc


def fig(r):
    if not r or not r["ok"] or r["qps"] is None:
        return None
    return r["qps"], r["latency_ms"]["p50"], r["latency_ms"]["p99"], r.get("server_cpu_us_per_query")


def num(x, fmt):
    return "-" if x is None else format(x, fmt)


doc = None
rows = []
for connections in [1, 16]:
    for w in WORKLOADS:
        rb, db = load("before", w, connections)
        ra, da = load("after", w, connections)
        doc = doc or db or da
        fb, fa = fig(rb), fig(ra)
        if fb is None or fa is None:
            first = (rb or {}).get("first_error") or (ra or {}).get("first_error") or "no figure"
            rows.append(f"| {w} | {connections} | failed: {first[:80]} |" + " |" * 9)
            continue
        ratio = fa[0] / fb[0]
        cpu = "-" if fb[3] is None or fa[3] is None else f"{num(fb[3], ',.0f')} → {num(fa[3], ',.0f')}"
        rows.append(
            f"| {w} | {connections} | {fb[0]:,.0f} | {fa[0]:,.0f} | {ratio:.2f} | "
            f"{fb[1]:.3f} | {fa[1]:.3f} | {fb[2]:.3f} | {fa[2]:.3f} | {cpu} |"
        )

print("# Before and after, `weft bench` over Bolt\n")
if doc:
    s = doc["settings"]
    print(f"- {doc['started']}; {doc['graph']}; {s['duration_s']} s per run after {s['warmup_s']} s "
          "of warm-up; client and servers share the machine's 2 cores")
print(f"- before: {a.before}")
print(f"- after: {a.after}")
print("- both servers `--wal-sync off`; each workload ran on before, then on after")
print("- ratio: after q/s ÷ before q/s (above 1: after is faster); CPU: the server's user+system "
      "CPU per answered query, µs\n")
print("| workload | connections | before q/s | after q/s | ratio | before p50 ms | after p50 ms "
      "| before p99 ms | after p99 ms | server CPU µs/q |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for row in rows:
    print(row)
