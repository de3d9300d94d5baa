//! Capabilities: a run as root must not hand its children root's powers beyond files.
//!
//! Landlock confines file access, TCP and signals, but not what a root process can do
//! with its other capabilities (load a kernel module, set the clock, reboot, change the
//! network, trace or renice any process...). Before the program runs, the solver's main
//! thread (the one that starts every child) drops every capability except the three
//! that decide file permissions (`CAP_DAC_OVERRIDE`, `CAP_DAC_READ_SEARCH`,
//! `CAP_FOWNER`, so a root run reads and writes inside its roots exactly as before)
//! from its effective, permitted, inheritable, ambient and bounding sets. A root child
//! then gets only those three on `execve`. Without privileges this changes nothing.

use rustix::thread::{
    capabilities, clear_ambient_capability_set, remove_capability_from_bounding_set,
    set_capabilities, CapabilitySet, CapabilitySets,
};

/// The capabilities a sandboxed run keeps.
pub fn kept() -> CapabilitySet {
    CapabilitySet::DAC_OVERRIDE | CapabilitySet::DAC_READ_SEARCH | CapabilitySet::FOWNER
}

/// Drops every capability but [`kept`] from the calling thread (and what it starts).
pub fn drop_for_children() {
    let keep = kept();
    // The bounding set first, while CAP_SETPCAP is still effective; CAP_SETPCAP last.
    for bit in 0..64u32 {
        let cap = CapabilitySet::from_bits_retain(1 << bit);
        if keep.contains(cap) || cap == CapabilitySet::SETPCAP {
            continue;
        }
        let _ = remove_capability_from_bounding_set(cap);
    }
    let _ = remove_capability_from_bounding_set(CapabilitySet::SETPCAP);
    let _ = clear_ambient_capability_set();
    if let Ok(current) = capabilities(None) {
        let _ = set_capabilities(
            None,
            CapabilitySets {
                effective: current.effective & keep,
                permitted: current.permitted & keep,
                inheritable: CapabilitySet::empty(),
            },
        );
    }
}
