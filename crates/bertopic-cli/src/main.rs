//! `bertopic`: topic modelling from the command line. Parses arguments and calls the
//! `bertopic` facade; no algorithm lives here.

mod args;
mod commands;
mod out;

use std::process::ExitCode;

// The system allocator spent tens of seconds of system time per 500 documents in the encoder's
// many short-lived tensors; mimalloc removes that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    commands::run(args::parse())
}
