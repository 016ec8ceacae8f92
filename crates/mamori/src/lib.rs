//! The command line's parts. The `mamori` binary (`main.rs`) is made of them, and the load
//! generator `mamori-bench` (a crate of its own, so the product binary carries none of it)
//! builds its throw-away installations with `context` and `import`.

pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod demo;
pub mod import;
pub mod listen;
pub mod scrub;
pub mod verify;
