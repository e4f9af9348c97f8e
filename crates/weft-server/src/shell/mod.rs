//! `weft shell`: an interactive Cypher shell over Bolt, also usable from scripts.
//!
//! Owns: the subcommand's options and the choice of mode — a prompt when stdin is a
//! terminal and no `-c` is given, otherwise the statements of `-c` or of stdin, separated
//! by `;`. Promises to the binary: [`run`] returns an error if the server cannot be
//! reached or the connection is lost, and, outside the prompt, exits the process with
//! status 1 if a query or command failed (the error, with its Neo4j status code, is
//! already on stderr).
//!
//! Layers, top down: [`repl`] (input, commands, output) over [`format`] and [`value`]
//! (how results look) and [`client`] (weft-client, a blocking Bolt client built on
//! weft-bolt's codecs). The shell talks to any Bolt server, not only Weft.

mod format;
mod input;
mod progress;
mod repl;
use weft_server::value;

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use clap::Args;

use format::Format;
use repl::Shell;
use weft_client::{normalize_address, Client, ConnectOptions, Credentials};

#[derive(Args)]
pub struct ShellArgs {
    /// Bolt server to connect to: HOST:PORT, optionally as bolt://HOST:PORT.
    #[arg(long, env = "WEFT_SHELL_ADDRESS", default_value = "127.0.0.1:7687")]
    address: String,
    /// User name for basic authentication (none if absent).
    #[arg(long, short = 'u', env = "WEFT_SHELL_USER")]
    user: Option<String>,
    /// Password for basic authentication.
    #[arg(long, short = 'p', env = "WEFT_SHELL_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Run these statements (separated by ;) and exit, instead of reading stdin.
    #[arg(long = "command", short = 'c', value_name = "QUERY")]
    command: Option<String>,
    /// How results are printed.
    #[arg(long, value_enum, env = "WEFT_SHELL_FORMAT", default_value = "table")]
    format: Format,
    /// Set a query parameter, as NAME=VALUE with VALUE a JSON literal; repeatable.
    #[arg(long = "param", short = 'P', value_name = "NAME=VALUE")]
    params: Vec<String>,
}

/// Connects, runs the chosen mode and exits with status 1 if anything failed.
pub fn run(args: ShellArgs) -> anyhow::Result<()> {
    let address = normalize_address(&args.address);
    let options = ConnectOptions {
        credentials: Credentials {
            user: args.user,
            password: args.password,
        },
        user_agent: concat!("weft-shell/", env!("CARGO_PKG_VERSION")).to_string(),
        ..ConnectOptions::default()
    };
    let client = Client::connect_with(&address, &options).with_context(|| format!("cannot connect to {address}"))?;
    let mut shell = Shell::new(client, args.format).with_progress(&address, &options);
    for param in &args.params {
        let (name, literal) = param
            .split_once('=')
            .with_context(|| format!("--param {param}: expected NAME=VALUE"))?;
        shell
            .set_param(name, literal)
            .map_err(|message| anyhow::anyhow!("--param {param}: {message}"))?;
    }
    let interactive = args.command.is_none() && std::io::stdin().is_terminal();
    match args.command {
        Some(command) => shell.script(command.lines().map(|line| Ok(line.to_string())))?,
        None if interactive => shell.interactive()?,
        None => shell.script(std::io::stdin().lock().lines())?,
    }
    // At a prompt the user has seen each error already; the status is for scripts.
    let failed = shell.failed() && !interactive;
    shell.close();
    if failed {
        std::process::exit(1);
    }
    Ok(())
}
