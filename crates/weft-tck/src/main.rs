//! `weft-tck`: runs the openCypher TCK against Weft's in-process engine and prints
//! per-folder counts, ending with `TCK: <passed> passed, <failed> failed, <skipped> skipped`.
//!
//! With `--bolt` every scenario goes over the wire instead: a fresh, empty Weft server on
//! 127.0.0.1 (an ephemeral port) per scenario, every query sent through the Bolt client
//! and its records and failures converted back for the same checks. Scenarios that need
//! fixture procedures are skipped in that mode (they cannot be set up over Bolt), and a
//! summary line counts them.
//!
//! Exit code 0, or 1 when `--floor FILE` names a file holding a number of passed
//! scenarios that this run did not reach (or the run could not start).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

/// Runs the openCypher TCK scenarios against Weft.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Run only scenarios whose `path: Feature [n] title` contains this text.
    #[arg(long, env = "WEFT_TCK_FILTER")]
    filter: Option<String>,
    /// Print every failure, skip and error-detail mismatch.
    #[arg(long, env = "WEFT_TCK_VERBOSE")]
    verbose: bool,
    /// Fail (exit 1) when fewer scenarios pass than the number in this file.
    #[arg(long, env = "WEFT_TCK_FLOOR")]
    floor: Option<PathBuf>,
    /// The TCK folder (with `features/` and `graphs/`).
    #[arg(long, env = "WEFT_TCK_DIR")]
    tck_dir: Option<PathBuf>,
    /// The skip list (default: this crate's skip.txt).
    #[arg(long, env = "WEFT_TCK_SKIP")]
    skip: Option<PathBuf>,
    /// Run every scenario against a fresh Weft server over Bolt instead of in process.
    #[arg(long, env = "WEFT_TCK_BOLT")]
    bolt: bool,
    /// Time limit for one scenario, in seconds.
    #[arg(long, env = "WEFT_TCK_TIMEOUT", default_value_t = 10)]
    timeout: u64,
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("weft-tck: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    if !args.verbose {
        // Panics are caught and reported per scenario; keep the default hook's noise out.
        std::panic::set_hook(Box::new(|_| {}));
    }
    let skip_file = args.skip.unwrap_or_else(weft_tck::default_skip_file);
    let factory = if args.bolt {
        weft_tck::bolt_factory()
    } else {
        weft_tck::weft_factory()
    };
    let mut options = weft_tck::Options::new(args.tck_dir.unwrap_or_else(weft_tck::default_tck_dir), factory);
    options.fixture_procedures = !args.bolt;
    options.filter = args.filter;
    options.verbose = args.verbose;
    options.timeout = Duration::from_secs(args.timeout);
    options.skip = weft_tck::load_skip_list(&skip_file)?;
    let floor = args.floor.map(|path| read_floor(&path)).transpose()?;

    let summary = weft_tck::run(&options)?;

    print!("{summary}");
    let below_floor = floor.is_some_and(|floor| summary.total.passed < floor);
    if below_floor {
        println!(
            "below the floor: {} passed, floor is {}",
            summary.total.passed,
            floor.unwrap_or(0)
        );
    }
    println!("{}", summary.closing_line());
    Ok(if below_floor {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn read_floor(path: &PathBuf) -> anyhow::Result<usize> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read floor file {}", path.display()))?;
    text.trim()
        .parse()
        .with_context(|| format!("floor file {} must hold one integer", path.display()))
}
