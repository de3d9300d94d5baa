//! `x07-lite`: the embedded X07 runner as a standalone binary.
#![forbid(unsafe_code)]

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let code = x07_lite::cli::main_with_args(args, Vec::new());
    std::process::exit(code);
}
