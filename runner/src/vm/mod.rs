//! The execution engine: a register machine for the typed tree.
//!
//! `lower` turns each checked function into three-address code over an i32 register file
//! and a value slot file (`code`), with fuel charged once per basic block; `exec` runs it
//! with an explicit call stack; `stack` models the native stack of the real toolchain's
//! compiled program (semantics R24).

pub mod code;
mod exec;
mod lower;
pub mod stack;

use crate::host::{Host, Interrupt};
use crate::tir::TProgram;
use code::VmFn;

/// A program lowered for the machine.
#[derive(Debug, Clone)]
pub struct VmProgram {
    /// `solve`.
    pub solve: VmFn,
    /// User functions, indexed like [`TProgram::functions`].
    pub functions: Vec<VmFn>,
    /// Literal texts.
    pub literals: Vec<Vec<u8>>,
    /// Trap pointers.
    pub ptrs: Vec<String>,
}

/// Lowers a checked program.
pub fn lower(p: &TProgram) -> VmProgram {
    VmProgram {
        solve: lower::lower_fn(&p.solve, None),
        functions: p
            .functions
            .iter()
            .enumerate()
            .map(|(i, f)| lower::lower_fn(f, Some(i as u32)))
            .collect(),
        literals: p.literals.clone(),
        ptrs: p.ptrs.clone(),
    }
}

/// Runs `solve`; returns the output (or why it stopped) and the fuel used.
pub fn run(
    p: &VmProgram,
    input: &[u8],
    host: &mut dyn Host,
    fuel: u64,
    max_memory_bytes: u64,
) -> (Result<Vec<u8>, Interrupt>, u64) {
    // Checked programs never make the machine panic; should a bug do so anyway, the run
    // ends with a trap instead of unwinding into the caller.
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        exec::Machine::new(p, host, input, fuel, max_memory_bytes).run()
    }));
    match run {
        Ok(stopped) => (stopped.result, fuel - stopped.fuel_left),
        Err(_) => (
            Err(Interrupt::Trap(
                "x07-lite internal error: the machine panicked".to_string(),
            )),
            0,
        ),
    }
}

#[cfg(test)]
mod dump {
    #[test]
    #[ignore]
    fn dump_code() {
        let path = std::env::var("X07_DUMP").unwrap();
        let p = crate::load_program(std::path::Path::new(&path), &[]).unwrap();
        for (i, op) in p.code.solve.code.iter().enumerate() {
            eprintln!("{i:3} [{}] {op:?}", p.code.solve.op_fuel[i]);
        }
        for f in &p.code.functions {
            eprintln!("fn {} regs {} slots {}", f.name, f.nregs, f.nslots);
            for (i, op) in f.code.iter().enumerate() {
                eprintln!("{i:3} [{}] {op:?}", f.op_fuel[i]);
            }
        }
    }
}
