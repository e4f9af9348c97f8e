//! Weft's openCypher TCK runner: runs the TCK's Gherkin scenarios against the engine,
//! in process or over Bolt.
//!
//! Owns: reading the TCK's `.feature` files ([`gherkin`]), its value notation
//! ([`tck_value`]), the step vocabulary ([`steps`]), result and side-effect checks
//! ([`compare`], [`side_effects`]), one scenario's run ([`scenario`]) and the whole run with
//! skips, isolation and time limits ([`runner`]). Promises: a [`Summary`] counting every
//! selected scenario (outline rows one by one) as passed, failed or skipped, per folder.
//! Needs: an engine behind the [`TckEngine`] seam; [`engine_adapter`] puts Weft's
//! in-process engine there, [`bolt_adapter`] a fresh Weft server per scenario reached
//! through the project's Bolt client (values and errors converted back by
//! [`bolt_convert`]; scenarios needing fixture procedures are skipped there, as those
//! cannot be set up over the wire), tests put a fake.
//!
//! ```no_run
//! let options = weft_tck::Options::new(weft_tck::default_tck_dir(), weft_tck::weft_factory());
//! let summary = weft_tck::run(&options).expect("TCK files are readable");
//! println!("{}", summary.closing_line());
//! ```

pub mod bolt_adapter;
pub mod bolt_convert;
pub mod compare;
pub mod engine;
pub mod engine_adapter;
#[cfg(test)]
mod fake_engine;
pub mod gherkin;
pub mod runner;
pub mod scenario;
pub mod side_effects;
pub mod skip;
pub mod steps;
pub mod tck_value;

use std::path::{Path, PathBuf};

pub use bolt_adapter::{bolt_factory, BoltEngine};
pub use engine::{EngineFactory, GraphSnapshot, Params, TckEngine};
pub use engine_adapter::{weft_factory, WeftEngine};
pub use runner::{run, Counts, Options, Report, Status, Summary, NO_FIXTURE_PROCEDURES};
pub use skip::SkipList;

/// Why a run could not start: the TCK files or the skip list are unreadable.
#[derive(Debug, thiserror::Error)]
pub enum TckError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("feature file syntax: {0}")]
    Parse(#[from] gherkin::ParseError),
    #[error("skip list: {0}")]
    Skip(String),
}

impl TckError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> TckError {
        TckError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The TCK folder: `$WEFT_TCK_DIR`, else `shared/tck` beside the workspace.
pub fn default_tck_dir() -> PathBuf {
    match std::env::var_os("WEFT_TCK_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tck"),
    }
}

/// This crate's `skip.txt`.
pub fn default_skip_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("skip.txt")
}

/// Reads a skip file.
pub fn load_skip_list(path: &Path) -> Result<SkipList, TckError> {
    let text = std::fs::read_to_string(path).map_err(|e| TckError::io(path, e))?;
    SkipList::parse(&text).map_err(TckError::Skip)
}
