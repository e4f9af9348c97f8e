//! One measured run: a workload at a number of connections, warmed up, then timed.
//!
//! Owns: opening the connections (one OS thread each, a blocking client per thread),
//! the timeline — every thread warms up until one instant and is measured from it, until
//! the duration ends or the shared count of queries is used up — latencies in an
//! HdrHistogram per thread merged at the end, errors counted with the first one kept,
//! and the CPU time of this process and, given its pid, of the server over the measured
//! window. Promises: a run always ends — a lost connection ends its thread with the
//! error recorded, and every read waits at most the client's read timeout.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use weft_client::{Client, ConnectOptions};

use super::workload::{self, Requests, Workload};

/// `/proc` counts CPU time in USER_HZ ticks, which Linux fixes at 100 a second for every
/// program whatever the kernel's own tick rate.
const USER_HZ: f64 = 100.0;

/// Latencies are recorded in microseconds, up to an hour, to 3 significant digits.
const HISTOGRAM_MAX_US: u64 = 3_600_000_000;

/// What one run does.
#[derive(Clone, Debug)]
pub struct Plan {
    pub address: String,
    pub options: ConnectOptions,
    pub workload: Workload,
    pub connections: usize,
    pub warmup: Duration,
    /// Stop measuring after this long, if set.
    pub duration: Option<Duration>,
    /// Stop after this many measured queries across all connections, if set.
    pub count: Option<u64>,
    pub seed: u64,
    pub run_tag: u64,
    /// Start ids are drawn from `0..persons`.
    pub persons: u32,
    pub server_pid: Option<u32>,
    /// Send parameter values written into the query text instead of as parameters.
    pub inline_parameters: bool,
}

/// What one run measured.
pub struct Outcome {
    pub workload: Workload,
    pub connections: usize,
    pub ok: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Connections that broke (I/O error, server gone, protocol error) and stopped early.
    pub lost: usize,
    /// From the start of measurement to the last measured answer.
    pub elapsed: Duration,
    /// Latencies of the successful queries, in microseconds.
    pub latency_us: Histogram<u64>,
    pub client_cpu: Option<Duration>,
    pub server_cpu: Option<Duration>,
}

impl Outcome {
    pub fn throughput(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.ok as f64 / seconds
        } else {
            0.0
        }
    }

    /// CPU microseconds per successful query.
    pub fn cpu_per_query_us(&self, cpu: Option<Duration>) -> Option<f64> {
        let cpu = cpu?;
        (self.ok > 0).then(|| cpu.as_secs_f64() * 1e6 / self.ok as f64)
    }
}

/// One thread's share of a run.
struct ThreadResult {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    lost: bool,
    last_answer: Option<Instant>,
    latency_us: Histogram<u64>,
}

/// Connects every connection, runs the plan and gathers what each thread measured.
pub fn run(plan: &Plan) -> anyhow::Result<Outcome> {
    let mut clients = Vec::with_capacity(plan.connections);
    for i in 0..plan.connections {
        let client = Client::connect_with(&plan.address, &plan.options)
            .with_context(|| format!("connection {} of {} to {}", i + 1, plan.connections, plan.address))?;
        clients.push(client);
    }
    let measure_from = Instant::now() + plan.warmup;
    let stop_at = plan.duration.map(|d| measure_from + d);
    // Tickets left for a run by count; unlimited runs never take the counter below zero.
    let tickets = Arc::new(AtomicI64::new(plan.count.map_or(i64::MAX, |c| c as i64)));
    let threads: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, client)| {
            let requests = Requests::new(plan.workload, plan.seed, plan.run_tag, i, plan.persons);
            let tickets = Arc::clone(&tickets);
            let inline = plan.inline_parameters;
            std::thread::Builder::new()
                .name(format!("bench-{i}"))
                .spawn(move || drive(client, requests, measure_from, stop_at, &tickets, inline))
        })
        .collect::<Result<_, _>>()
        .context("cannot start a client thread")?;

    std::thread::sleep(measure_from.saturating_duration_since(Instant::now()));
    let client_cpu0 = process_cpu(std::process::id());
    let server_cpu0 = plan.server_pid.and_then(process_cpu);
    let mut results = Vec::with_capacity(threads.len());
    for thread in threads {
        results.push(thread.join().map_err(|_| anyhow::anyhow!("a client thread panicked"))?);
    }
    let client_cpu = delta(client_cpu0, process_cpu(std::process::id()));
    let server_cpu = delta(server_cpu0, plan.server_pid.and_then(process_cpu));

    let mut latency_us = new_histogram();
    let mut outcome = Outcome {
        workload: plan.workload,
        connections: plan.connections,
        ok: 0,
        errors: 0,
        first_error: None,
        lost: 0,
        elapsed: Duration::ZERO,
        latency_us: new_histogram(),
        client_cpu,
        server_cpu,
    };
    let mut last = measure_from;
    for result in results {
        outcome.ok += result.ok;
        outcome.errors += result.errors;
        outcome.lost += usize::from(result.lost);
        outcome.first_error = outcome.first_error.or(result.first_error);
        last = last.max(result.last_answer.unwrap_or(measure_from));
        latency_us
            .add(&result.latency_us)
            .context("merging latency histograms")?;
    }
    outcome.latency_us = latency_us;
    outcome.elapsed = last.saturating_duration_since(measure_from);
    Ok(outcome)
}

/// One connection's loop: warm up until `measure_from`, then measure until `stop_at` or
/// until the tickets run out.
fn drive(
    mut client: Client,
    mut requests: Requests,
    measure_from: Instant,
    stop_at: Option<Instant>,
    tickets: &AtomicI64,
    inline: bool,
) -> ThreadResult {
    let mut result = ThreadResult {
        ok: 0,
        errors: 0,
        first_error: None,
        lost: false,
        last_answer: None,
        latency_us: new_histogram(),
    };
    loop {
        let started = Instant::now();
        let measured = started >= measure_from;
        if stop_at.is_some_and(|stop| started >= stop) {
            break;
        }
        if measured && tickets.fetch_sub(1, Ordering::Relaxed) <= 0 {
            break;
        }
        let (query, params) = requests.next();
        let outcome = if inline {
            client.run(&workload::inline(query, &params), &Vec::new())
        } else {
            client.run(query, &params)
        };
        let answered = Instant::now();
        if !measured {
            if let Err(error) = outcome {
                if error.connection_lost() {
                    result.lost = true;
                    result.errors += 1;
                    result.first_error = Some(format!("during warm-up: {error}"));
                    return result;
                }
            }
            continue;
        }
        result.last_answer = Some(answered);
        match outcome {
            Ok(_) => {
                result.ok += 1;
                let micros = answered.duration_since(started).as_micros();
                result
                    .latency_us
                    .saturating_record(u64::try_from(micros).unwrap_or(u64::MAX));
            }
            Err(error) => {
                result.errors += 1;
                result.first_error.get_or_insert_with(|| error.to_string());
                if error.connection_lost() {
                    result.lost = true;
                    return result;
                }
            }
        }
    }
    // Hang up without GOODBYE, as a vanished client would: FalkorDB's Bolt listener
    // (experimental) stalls the next connection after a GOODBYE.
    drop(client);
    result
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_US, 3).expect("valid histogram bounds")
}

fn delta(before: Option<Duration>, after: Option<Duration>) -> Option<Duration> {
    Some(after?.saturating_sub(before?))
}

/// User plus system CPU time of process `pid` and all its threads, from `/proc`.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / USER_HZ))
}

/// A process's resident memory in bytes (Linux `/proc`), if it can be read.
pub fn process_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process_resident_memory() {
        // Set up: a megabyte this process has written to, so it is resident.
        let touched = vec![1u8; 1 << 20];
        let rss = super::process_rss(std::process::id()).expect("VmRSS");
        assert!(rss >= touched.len() as u64, "{rss}");
        assert_eq!(super::process_rss(u32::MAX), None);
    }

    #[test]
    fn reads_this_process_cpu_time() {
        // Spin until the kernel has counted a tick of this process's CPU time (one tick
        // is 10 ms; on a busy machine that takes longer than 10 ms of wall time).
        let spin = std::time::Instant::now();
        let mut cpu = None;
        while spin.elapsed() < std::time::Duration::from_secs(10) {
            cpu = super::process_cpu(std::process::id());
            if cpu.is_some_and(|cpu| cpu > std::time::Duration::ZERO) {
                break;
            }
        }
        assert!(cpu.is_some_and(|cpu| cpu > std::time::Duration::ZERO), "{cpu:?}");
        assert!(super::process_cpu(u32::MAX).is_none());
    }
}
