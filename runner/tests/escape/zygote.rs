//! The way a solver is started (a zygote forked per run): nothing of the runner's caller
//! reaches the solver or what it starts.

use crate::support::*;

fn with_shell(lab: &mut Lab) {
    lab.policy(|p| allow_processes(p, &["/bin/sh"]));
}

/// A descriptor the runner's caller left open without close-on-exec (here fd 7, open on
/// a canary outside every root) is not inherited by the program's child processes.
#[test]
fn descriptor_inherited_from_the_runners_caller() {
    let mut lab = Lab::new();
    with_shell(&mut lab);
    let canary = lab.canary("inherited.txt");
    let prelude = format!("exec 7< '{}'", canary.display());
    let script = "cat <&7; echo after";
    let run = lab.run_after_shell_prelude(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", script], &[], ""),
        &prelude,
    );
    let doc = run.doc();
    assert!(doc.contains("after"), "{doc}");
    assert!(doc.contains("Bad file descriptor"), "{doc}");
}

/// The same descriptor, opened for writing on a canary: nothing is written through it.
#[test]
fn writable_descriptor_inherited_from_the_runners_caller() {
    let mut lab = Lab::new();
    with_shell(&mut lab);
    let canary = lab.canary("inherited-w.txt");
    let prelude = format!("exec 8<> '{}'", canary.display());
    let script = "echo PWNED >&8; echo after";
    let run = lab.run_after_shell_prelude(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", script], &[], ""),
        &prelude,
    );
    let doc = run.doc();
    assert!(doc.contains("after"), "{doc}");
    assert!(doc.contains("Bad file descriptor"), "{doc}");
}

/// Every descriptor number a child could probe, not only the well-known ones: a child
/// sees its three standard streams and nothing else.
#[test]
fn child_holds_only_its_standard_streams() {
    let mut lab = Lab::new();
    with_shell(&mut lab);
    let canary = lab.canary("many.txt");
    let prelude = format!(
        "exec 3< '{c}' 4< '{c}' 5< '{c}' 6< '{c}' 9< '{c}'",
        c = canary.display()
    );
    let script = "for fd in 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do \
                  (: <&$fd) 2>/dev/null && echo open-$fd; done; echo checked";
    let run = lab.run_after_shell_prelude(
        run_capture_input(),
        &proc_input(&["/bin/sh", "-c", script], &[], ""),
        &prelude,
    );
    let doc = run.doc();
    assert!(doc.contains("checked"), "{doc}");
    assert!(!doc.contains("open-"), "{doc}");
}
