//! The `cargo-x07` binary: `cargo x07 …`, or the embedded runner when the
//! first argument is `__x07` (how the engine runs cases without a real x07).
#![forbid(unsafe_code)]

fn main() {
    if let Some(code) = cargo_x07::run::dispatch_embedded_runner() {
        std::process::exit(code);
    }
    std::process::exit(cargo_x07::cli::main_with_args(
        std::env::args_os().collect(),
    ));
}
