//! The escape suite: attacks on the embedded runner's sandbox, written the way an
//! attacker would, over the file system, the environment, processes, time, limits,
//! derived-policy flags and the report itself.
//!
//! Every attack runs an X07 program (built from the compact forms in `support`)
//! through the real `x07-lite` binary in a fresh lab and asserts the denial; the lab
//! then asserts that no canary outside the roots was read (its text appears nowhere in
//! the output, the report, stderr or the project) or written (unchanged, nothing new
//! outside). Tests run as root (as CI does); Landlock-only attacks are skipped, with a
//! message, on kernels without Landlock.

#[path = "../data/probes/harness.rs"]
mod harness;
#[path = "../support/proc_req.rs"]
mod proc_req;
mod support;

mod derived;
mod env;
mod fs_read;
mod fs_write;
mod limits;
mod process;
mod report;
mod time;
mod tree;
mod zygote;
