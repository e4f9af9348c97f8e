//! A progress bar for long imports: while a statement with LOAD CSV runs, a second
//! connection asks the server every half second which files it is reading
//! (`CALL weft.imports()`) and draws bytes read of the file's size, records, rate and time
//! left on stderr (with `indicatif`, which draws nothing when stderr is not a terminal).
//!
//! Owns: the watcher thread and its connection; both end when the statement does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use weft_bolt::BoltValue;
use weft_client::{Client, ConnectOptions};

/// A statement runs this long before the bar appears (short imports show nothing).
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Time between two questions to the server.
const POLL_EVERY: Duration = Duration::from_millis(500);

const QUERY: &str = "CALL weft.imports() YIELD file, rows, bytes, size RETURN file, rows, bytes, size";

/// Whether a statement may import a file (and so is worth a progress bar).
pub fn imports(statement: &str) -> bool {
    let upper = statement.to_ascii_uppercase();
    upper
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| w == ["LOAD", "CSV"])
}

/// The watcher of one statement; dropping it stops the watcher and clears the bar.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching the server at `address` on a connection of its own.
    pub fn start(address: String, options: ConnectOptions) -> Watcher {
        let stop = Arc::new(AtomicBool::new(false));
        let watching = stop.clone();
        let thread = std::thread::spawn(move || watch(&address, &options, &watching));
        Watcher {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sleeps `d` in short steps; false once asked to stop.
fn pause(d: Duration, stop: &AtomicBool) -> bool {
    let step = Duration::from_millis(50);
    let mut left = d;
    while !left.is_zero() {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(step.min(left));
        left = left.saturating_sub(step);
    }
    !stop.load(Ordering::Relaxed)
}

fn watch(address: &str, options: &ConnectOptions, stop: &AtomicBool) {
    if !pause(SHOW_AFTER, stop) {
        return;
    }
    // Progress is a convenience: a server that cannot answer just gets no bar.
    let Ok(mut client) = Client::connect_with(address, options) else {
        return;
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    while let Ok(result) = client.run(QUERY, &Vec::new()) {
        // The newest file: with several, the one this statement most likely reads now.
        if let Some(row) = result.rows.last() {
            let int = |v: Option<&BoltValue>| match v {
                Some(BoltValue::Integer(n)) => (*n).max(0) as u64,
                _ => 0,
            };
            let file = match row.first() {
                Some(BoltValue::String(path)) => path.rsplit('/').next().unwrap_or(path).to_string(),
                _ => String::new(),
            };
            bar.set_length(int(row.get(3)));
            bar.set_position(int(row.get(2)));
            bar.set_message(format!("{file}: {} rows", int(row.get(1))));
        }
        if !pause(POLL_EVERY, stop) {
            break;
        }
    }
    bar.finish_and_clear();
    client.close();
}

#[cfg(test)]
mod tests {
    use super::imports;

    #[test]
    fn statements_that_load_csv_are_watched() {
        assert!(imports("load csv with headers from 'file:///a.csv' AS r RETURN r"));
        assert!(imports("LOAD\n  CSV FROM 'x' AS r CREATE (:X)"));
        assert!(!imports("MATCH (n) RETURN n.load, n.csv"));
    }
}
