//! `ProcReqV1` (subset.md §11.1), the request a program hands `os.process.*`: built here
//! for the tests that run child processes.

/// `ProcReqV1`: argv, env pairs, cwd, stdin.
pub fn req(argv: &[&str], env: &[(&str, &str)], cwd: &str, stdin: &str) -> Vec<u8> {
    let chunk = |out: &mut Vec<u8>, bytes: &[u8]| {
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    let mut out = vec![1, 0];
    out.extend_from_slice(&(argv.len() as u32).to_le_bytes());
    for arg in argv {
        chunk(&mut out, arg.as_bytes());
    }
    out.extend_from_slice(&(env.len() as u32).to_le_bytes());
    for (key, value) in env {
        chunk(&mut out, key.as_bytes());
        chunk(&mut out, value.as_bytes());
    }
    chunk(&mut out, cwd.as_bytes());
    chunk(&mut out, stdin.as_bytes());
    out
}
