//! Running many scenarios: selection, isolation, time limits and the tally.
//!
//! Owns: walking every feature under `<tck>/features`, applying the filter and the skip
//! list, and running each remaining scenario on its own worker thread with a fresh engine,
//! a caught panic counted as a failure and a time limit after which the scenario fails and
//! its thread is abandoned (threads cannot be killed; a stuck one keeps running until the
//! process exits). Promises: every selected scenario is counted exactly once as passed,
//! failed or skipped, per folder and in total. Needs: [`crate::gherkin`] and
//! [`crate::scenario`], and an [`EngineFactory`].

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::EngineFactory;
use crate::gherkin::{read_features, Feature, Scenario};
use crate::scenario::{run_scenario, Outcome};
use crate::skip::SkipList;
use crate::steps::{classify, Action};
use crate::TckError;

/// Worker threads get a large stack: recursive parsing and planning of deep queries.
const WORKER_STACK: usize = 64 << 20;

/// What to run and how.
#[derive(Clone)]
pub struct Options {
    /// The TCK folder, holding `features/` and `graphs/`.
    pub tck_dir: PathBuf,
    /// Run only scenarios whose `path: id` contains this text.
    pub filter: Option<String>,
    /// Print every failure, skip and detail mismatch as it happens.
    pub verbose: bool,
    /// Time limit for one scenario.
    pub timeout: Duration,
    pub skip: SkipList,
    pub engine: EngineFactory,
    /// The engine can register fixture procedures (`And there exists a procedure ...`);
    /// when it cannot (over Bolt), scenarios that need one are skipped with
    /// [`NO_FIXTURE_PROCEDURES`] as the reason.
    pub fixture_procedures: bool,
}

/// Why a scenario needing a fixture procedure is skipped when the engine has none.
pub const NO_FIXTURE_PROCEDURES: &str = "needs a fixture procedure, which cannot be set up over Bolt";

impl Options {
    /// Options with no filter, no skips, a 10 s limit, quiet.
    pub fn new(tck_dir: PathBuf, engine: EngineFactory) -> Options {
        Options {
            tck_dir,
            filter: None,
            verbose: false,
            timeout: Duration::from_secs(10),
            skip: SkipList::default(),
            engine,
            fixture_procedures: true,
        }
    }
}

/// Counts for one folder (or the whole run).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// What happened to one scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    Passed,
    /// Passed, but the error detail code differed from the expected one.
    PassedDetailMismatch(String),
    Failed(String),
    Skipped(String),
}

/// One scenario's report line.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// `path: Short [n] title` plus ` (example k)` for outline rows.
    pub id: String,
    pub folder: String,
    pub status: Status,
}

/// The result of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub total: Counts,
    pub folders: BTreeMap<String, Counts>,
    /// Passed scenarios whose error detail differed.
    pub detail_mismatches: usize,
    /// Failed scenarios that hit the time limit.
    pub timeouts: usize,
    /// Skipped scenarios that need a fixture procedure the engine cannot register.
    pub skipped_for_procedures: usize,
    pub reports: Vec<Report>,
}

impl Summary {
    fn add(&mut self, report: Report) {
        let folder = self.folders.entry(report.folder.clone()).or_default();
        for counts in [&mut self.total, folder] {
            match &report.status {
                Status::Passed | Status::PassedDetailMismatch(_) => counts.passed += 1,
                Status::Failed(_) => counts.failed += 1,
                Status::Skipped(_) => counts.skipped += 1,
            }
        }
        if matches!(report.status, Status::PassedDetailMismatch(_)) {
            self.detail_mismatches += 1;
        }
        self.reports.push(report);
    }

    /// The closing line: `TCK: <passed> passed, <failed> failed, <skipped> skipped`.
    pub fn closing_line(&self) -> String {
        let Counts {
            passed,
            failed,
            skipped,
        } = self.total;
        format!("TCK: {passed} passed, {failed} failed, {skipped} skipped")
    }
}

/// Per-folder lines, then detail mismatches and timeouts (without the closing line).
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.folders.keys().map(String::len).max().unwrap_or(0);
        for (folder, c) in &self.folders {
            writeln!(
                f,
                "{folder:<width$}  {:>4} passed  {:>4} failed  {:>4} skipped",
                c.passed, c.failed, c.skipped
            )?;
        }
        writeln!(f, "detail mismatches: {}", self.detail_mismatches)?;
        writeln!(f, "timeouts: {}", self.timeouts)?;
        if self.skipped_for_procedures > 0 {
            let n = self.skipped_for_procedures;
            writeln!(f, "skipped, needing fixture procedures (not over Bolt): {n}")?;
        }
        Ok(())
    }
}

/// Runs every selected scenario of the TCK.
pub fn run(options: &Options) -> Result<Summary, TckError> {
    let features = read_features(&options.tck_dir.join("features"))?;
    let mut summary = Summary::default();
    for feature in &features {
        for scenario in &feature.scenarios {
            let id = scenario_id(feature, scenario);
            if options
                .filter
                .as_ref()
                .is_some_and(|filter| !id.contains(filter.as_str()))
            {
                continue;
            }
            let status = match options.skip.reason(feature, scenario) {
                Some(reason) => Status::Skipped(reason),
                None if !options.fixture_procedures && needs_fixture_procedure(scenario) => {
                    summary.skipped_for_procedures += 1;
                    Status::Skipped(NO_FIXTURE_PROCEDURES.to_string())
                }
                None => run_isolated(options, scenario),
            };
            if matches!(&status, Status::Failed(m) if m.starts_with(TIMEOUT)) {
                summary.timeouts += 1;
            }
            if options.verbose {
                print_status(&id, &status);
            }
            summary.add(Report {
                id,
                folder: feature.folder().to_string(),
                status,
            });
        }
    }
    Ok(summary)
}

/// `clauses/match/Match4.feature: Match4 [3] title (example 2)`.
pub fn scenario_id(feature: &Feature, scenario: &Scenario) -> String {
    let example = scenario.example.map(|n| format!(" (example {n})")).unwrap_or_default();
    format!("{}: {} {}{example}", feature.path, feature.short_name(), scenario.name)
}

/// True when a step of `scenario` installs a fixture procedure.
pub fn needs_fixture_procedure(scenario: &Scenario) -> bool {
    scenario
        .steps
        .iter()
        .any(|step| matches!(classify(step), Ok(Action::Procedure { .. })))
}

fn print_status(id: &str, status: &Status) {
    match status {
        Status::Passed => {}
        Status::PassedDetailMismatch(note) => println!("DETAIL {id}\n  {note}"),
        Status::Failed(message) => println!("FAIL {id}\n  {}", message.replace('\n', "\n  ")),
        Status::Skipped(reason) => println!("SKIP {id}: {reason}"),
    }
}

const TIMEOUT: &str = "timed out";

/// Runs one scenario on a new thread with a fresh engine, within the time limit.
fn run_isolated(options: &Options, scenario: &Scenario) -> Status {
    let (sender, receiver) = mpsc::channel();
    let factory = Arc::clone(&options.engine);
    let scenario = scenario.clone();
    let tck_dir = options.tck_dir.clone();
    let worker = std::thread::Builder::new()
        .name("tck-scenario".into())
        .stack_size(WORKER_STACK)
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let engine = factory();
                run_scenario(engine.as_ref(), &scenario, &tck_dir)
            }));
            let outcome =
                outcome.unwrap_or_else(|panic| Outcome::Failed(format!("panicked: {}", panic_message(&*panic))));
            let _ = sender.send(outcome);
        });
    let worker = match worker {
        Ok(worker) => worker,
        Err(e) => return Status::Failed(format!("cannot start a worker thread: {e}")),
    };
    match receiver.recv_timeout(options.timeout) {
        Ok(outcome) => {
            let _ = worker.join();
            match outcome {
                Outcome::Passed { detail_mismatch: None } => Status::Passed,
                Outcome::Passed {
                    detail_mismatch: Some(note),
                } => Status::PassedDetailMismatch(note),
                Outcome::Failed(message) => Status::Failed(message),
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Status::Failed(format!("{TIMEOUT} after {:?}", options.timeout)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Status::Failed("worker thread ended without a result".into()),
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

#[cfg(test)]
mod tests;
