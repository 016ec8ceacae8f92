//! The command line's parts. The `mamori` binary (`main.rs`) is made of them, and the load
//! generator `mamori-bench` (a crate of its own, so the product binary carries none of it)
//! builds its throw-away installations with `context` and `import`.

pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod demo;
pub mod doctor;
pub mod import;
pub mod listen;
pub mod scrub;
pub mod verify;

/// Logs to stderr at the level `MAMORI_LOG` names (default: info, and only errors from sqlx).
pub fn log_to_stderr() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MAMORI_LOG")
                .unwrap_or_else(|_| "info,sqlx=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
}
