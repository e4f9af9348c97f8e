//! How `weft bench` shows what it measured: a table for people, JSON for machines.
//!
//! Owns: the columns (throughput; p50, p90, p99, p99.9 and max latency in milliseconds;
//! errors; server and client CPU per query in microseconds) and the JSON document with
//! the run's settings beside every figure. Promises: the two forms carry the same numbers.

use serde_json::{json, Value as Json};

use super::run::Outcome;

/// What was measured against, for the report's header.
pub struct Context {
    pub address: String,
    pub server_agent: Option<String>,
    pub graph: String,
    pub started: String,
    pub settings: Json,
    /// Seconds loading the graph took, when this run loaded it.
    pub load_s: Option<f64>,
    /// The server's resident bytes right after the load (with `--server-pid`).
    pub server_rss_after_load: Option<u64>,
    /// The same, [`super::RSS_SETTLE`] later: once the server has had the moment to hand
    /// back what the load's burst freed.
    pub server_rss_settled: Option<u64>,
}

fn ms(outcome: &Outcome, quantile: f64) -> f64 {
    if outcome.ok == 0 {
        return f64::NAN;
    }
    outcome.latency_us.value_at_quantile(quantile) as f64 / 1000.0
}

fn max_ms(outcome: &Outcome) -> f64 {
    if outcome.ok == 0 {
        return f64::NAN;
    }
    outcome.latency_us.max() as f64 / 1000.0
}

fn cpu_text(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

/// The table, one row per run, with the header lines above it.
pub fn table(context: &Context, outcomes: &[Outcome]) -> String {
    let mut out = format!(
        "server {} ({})\ngraph: {}\nstarted {}\n\n",
        context.address,
        context.server_agent.as_deref().unwrap_or("agent unknown"),
        context.graph,
        context.started
    );
    if let Some(load_s) = context.load_s {
        out.push_str(&format!("loaded in {load_s:.1} s"));
        if let Some(rss) = context.server_rss_after_load {
            out.push_str(&format!(
                "; server resident memory after the load {:.1} MiB",
                rss as f64 / 1048576.0
            ));
        }
        if let Some(rss) = context.server_rss_settled {
            out.push_str(&format!(
                ", {:.1} MiB {} s later",
                rss as f64 / 1048576.0,
                super::RSS_SETTLE.as_secs()
            ));
        }
        out.push_str("\n\n");
    }
    out.push_str(
        "| workload | conns | q/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | server CPU µs/q | client CPU µs/q |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for o in outcomes {
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} | {} |\n",
            o.workload.name(),
            o.connections,
            o.throughput(),
            ms(o, 0.50),
            ms(o, 0.90),
            ms(o, 0.99),
            ms(o, 0.999),
            max_ms(o),
            o.errors,
            cpu_text(o.cpu_per_query_us(o.server_cpu)),
            cpu_text(o.cpu_per_query_us(o.client_cpu)),
        ));
    }
    for o in outcomes.iter().filter(|o| o.first_error.is_some()) {
        let lost = if o.lost > 0 {
            format!(", {} connection(s) lost", o.lost)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "\n{} x{}: {} error(s){lost}; first: {}\n",
            o.workload.name(),
            o.connections,
            o.errors,
            o.first_error.as_deref().unwrap_or("")
        ));
    }
    out
}

/// A number JSON can carry (NaN, for no samples, becomes null).
fn number(value: f64) -> Json {
    serde_json::Number::from_f64(value).map_or(Json::Null, Json::Number)
}

/// The JSON document.
pub fn json(context: &Context, outcomes: &[Outcome]) -> Json {
    let runs: Vec<Json> = outcomes
        .iter()
        .map(|o| {
            json!({
                "workload": o.workload.name(),
                "connections": o.connections,
                "ok": o.ok,
                "errors": o.errors,
                "lost_connections": o.lost,
                "first_error": o.first_error,
                "seconds": o.elapsed.as_secs_f64(),
                "qps": number(o.throughput()),
                "latency_ms": {
                    "p50": number(ms(o, 0.50)),
                    "p90": number(ms(o, 0.90)),
                    "p99": number(ms(o, 0.99)),
                    "p99_9": number(ms(o, 0.999)),
                    "max": number(max_ms(o)),
                    "mean": number(if o.ok == 0 { f64::NAN } else { o.latency_us.mean() / 1000.0 }),
                },
                "server_cpu_us_per_query": o.cpu_per_query_us(o.server_cpu).map(number),
                "client_cpu_us_per_query": o.cpu_per_query_us(o.client_cpu).map(number),
            })
        })
        .collect();
    json!({
        "address": context.address,
        "server_agent": context.server_agent,
        "graph": context.graph,
        "started": context.started,
        "settings": context.settings,
        "load_s": context.load_s.map(number),
        "server_rss_after_load_bytes": context.server_rss_after_load,
        "server_rss_settled_bytes": context.server_rss_settled,
        "runs": runs,
    })
}
