//! Clocks and sleeping: the wall clock and instants when the policy says no, sleeps
//! over the limit, and sleeping past the wall-clock limit.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

#[test]
fn wall_clock_denied() {
    let mut lab = Lab::new();
    lab.policy(|p| p["time"]["allow_wall_clock"] = false.into());
    lab.run(dec(json!(["os.time.now_unix_ms"])), b"")
        .assert_trap("os.time.now_unix_ms disabled by policy");
    // The instant builtin answers with the denial document, not the time.
    lab.run(json!(["os.time.now_instant_v1"]), b"")
        .assert_output(&[0, 0x2c, 1, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn time_disabled() {
    let mut lab = Lab::new();
    lab.policy(|p| p["time"]["enabled"] = false.into());
    lab.run(dec(json!(["os.time.now_unix_ms"])), b"")
        .assert_trap("os.time disabled by policy");
    let run = lab.run(dec(json!(["os.time.sleep_ms_v1", 500])), b"");
    run.assert_output(b"0");
    assert!(run.elapsed < Duration::from_millis(2000));
}

#[test]
fn sleep_over_max_sleep_ms_returns_at_once() {
    let lab = Lab::new();
    let run = lab.run(dec(json!(["os.time.sleep_ms_v1", 5000])), b"");
    run.assert_output(b"0");
    assert!(run.elapsed < Duration::from_millis(3000));
}

#[test]
fn sleeping_in_a_loop_is_stopped_by_the_wall_clock_limit() {
    let mut lab = Lab::new();
    lab.policy(|p| p["limits"]["wall_ms"] = 1500.into());
    let solve = json!([
        "begin",
        ["let", "i", 0],
        [
            "while",
            1,
            ["set", "i", ["+", "i", ["os.time.sleep_ms_v1", 1000]]]
        ],
        lit("never")
    ]);
    let run = lab.run(solve, b"");
    run.assert_trap("timed out");
    assert!(
        run.elapsed < Duration::from_secs(6),
        "took {:?}",
        run.elapsed
    );
}
