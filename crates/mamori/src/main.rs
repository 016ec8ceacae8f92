//! `mamori`: the command line (`cli.rs`), each command carried out in `commands/`. Every command
//! that touches personal data goes through the same core services (and so the same access
//! decision and ledger) as the HTTP API.

use std::process::ExitCode;

use clap::Parser;

use mamori::cli::*;

/// Commands that print and end (not the servers) stop quietly when the reader of their output
/// goes away (`mamori survey results … | head`), as Unix tools do, instead of panicking on
/// `println!`. Rust ignores SIGPIPE by default; the servers keep that, so a closed connection
/// can never stop them.
fn quiet_on_closed_pipe(command: &Command) {
    #[cfg(unix)]
    if !matches!(
        command,
        Command::Serve { .. } | Command::Demo { .. } | Command::Webhook { .. }
    ) {
        // SAFETY: restores the default disposition of one signal before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    quiet_on_closed_pipe(&cli.command);
    mamori::log_to_stderr();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(mamori::commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
