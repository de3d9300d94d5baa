//! Conformance examples C01–C50 of subset §15: each `tests/data/conformance/Cnn.json`
//! holds the program, module files, input, environment and the result the real toolchain
//! recorded. OS examples run against the real OS host (`OsHost::run_os`), with relative
//! file paths placed in a per-test temporary directory and the recorded environment
//! variables laid over the process environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;
use x07_lite::host::{Host, HostResult, Interrupt};
use x07_lite::os::OsHost;
use x07_lite::{load_program, solve, SolveLimits};

#[derive(Deserialize)]
struct Case {
    id: String,
    program: String,
    modules: BTreeMap<String, String>,
    input_b64: String,
    env: BTreeMap<String, String>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Expect {
    Ok { output_b64: String },
    Trap { trap: String },
    Exit { code: i32 },
    CompileError { message: String },
}

/// The OS host, with relative fs paths rooted in a temporary directory (as if the run
/// started there) and an environment overlay.
struct TempDirHost {
    inner: OsHost,
    dir: PathBuf,
    env: BTreeMap<String, String>,
}

impl TempDirHost {
    fn path(&self, p: &[u8]) -> Vec<u8> {
        if p.first() == Some(&b'/') {
            return p.to_vec();
        }
        let mut full = self.dir.as_os_str().as_encoded_bytes().to_vec();
        full.push(b'/');
        full.extend_from_slice(p);
        full
    }

    fn unroot<T>(&self, r: HostResult<T>) -> HostResult<T> {
        r.map_err(|e| match e {
            Interrupt::Trap(t) => {
                let prefix = format!("{}/", self.dir.display());
                Interrupt::Trap(t.replace(&prefix, ""))
            }
            other => other,
        })
    }
}

impl Host for TempDirHost {
    fn fs_read_file(&mut self, path: &[u8]) -> HostResult<Vec<u8>> {
        let p = self.path(path);
        let r = self.inner.fs_read_file(&p);
        self.unroot(r)
    }
    fn fs_write_file(&mut self, path: &[u8], data: &[u8]) -> HostResult<i32> {
        let p = self.path(path);
        self.inner.fs_write_file(&p, data)
    }
    fn env_get(&mut self, key: &[u8]) -> HostResult<Vec<u8>> {
        if let Some(v) = self.env.get(String::from_utf8_lossy(key).as_ref()) {
            return Ok(v.as_bytes().to_vec());
        }
        self.inner.env_get(key)
    }
    fn time_now_unix_ms(&mut self) -> HostResult<i32> {
        self.inner.time_now_unix_ms()
    }
    fn time_now_instant_v1(&mut self) -> HostResult<Vec<u8>> {
        self.inner.time_now_instant_v1()
    }
    fn time_sleep_ms_v1(&mut self, ms: i32) -> HostResult<i32> {
        self.inner.time_sleep_ms_v1(ms)
    }
    fn time_local_tzid_v1(&mut self) -> HostResult<Vec<u8>> {
        self.inner.time_local_tzid_v1()
    }
    fn process_exit(&mut self, code: i32) -> Interrupt {
        self.inner.process_exit(code)
    }
    fn process_run_capture_v1(&mut self, req: &[u8], caps: &[u8]) -> HostResult<Vec<u8>> {
        self.inner.process_run_capture_v1(req, caps)
    }
    fn process_spawn_capture_v1(&mut self, req: &[u8], caps: &[u8]) -> HostResult<i32> {
        self.inner.process_spawn_capture_v1(req, caps)
    }
    fn process_spawn_piped_v1(&mut self, req: &[u8], caps: &[u8]) -> HostResult<i32> {
        self.inner.process_spawn_piped_v1(req, caps)
    }
    fn process_try_join_capture_v1(&mut self, h: i32) -> HostResult<Option<Vec<u8>>> {
        self.inner.process_try_join_capture_v1(h)
    }
    fn process_join_capture_v1(&mut self, h: i32) -> HostResult<Vec<u8>> {
        self.inner.process_join_capture_v1(h)
    }
    fn process_join_exit_v1(&mut self, h: i32) -> HostResult<i32> {
        self.inner.process_join_exit_v1(h)
    }
    fn process_try_wait_v1(&mut self, h: i32) -> HostResult<i32> {
        self.inner.process_try_wait_v1(h)
    }
    fn process_take_exit_v1(&mut self, h: i32) -> HostResult<i32> {
        self.inner.process_take_exit_v1(h)
    }
    fn process_stdout_read_v1(&mut self, h: i32, max: i32) -> HostResult<Vec<u8>> {
        self.inner.process_stdout_read_v1(h, max)
    }
    fn process_stderr_read_v1(&mut self, h: i32, max: i32) -> HostResult<Vec<u8>> {
        self.inner.process_stderr_read_v1(h, max)
    }
    fn process_stdin_write_v1(&mut self, h: i32, chunk: &[u8]) -> HostResult<i32> {
        self.inner.process_stdin_write_v1(h, chunk)
    }
    fn process_stdin_close_v1(&mut self, h: i32) -> HostResult<i32> {
        self.inner.process_stdin_close_v1(h)
    }
    fn process_kill_v1(&mut self, h: i32, sig: i32) -> HostResult<i32> {
        self.inner.process_kill_v1(h, sig)
    }
    fn process_drop_v1(&mut self, h: i32) -> HostResult<i32> {
        self.inner.process_drop_v1(h)
    }
    fn net_http_request(&mut self, req: &[u8]) -> HostResult<Vec<u8>> {
        self.inner.net_http_request(req)
    }
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance")
}

fn run_case(id: &str) {
    let text = std::fs::read_to_string(data_dir().join(format!("{id}.json"))).unwrap();
    let case: Case = serde_json::from_str(&text).unwrap();
    assert_eq!(case.id, id);
    let dir = tempfile::tempdir().unwrap();
    let entry = dir.path().join("main.x07.json");
    std::fs::write(&entry, &case.program).unwrap();
    let modroot = dir.path().join("modroot");
    for (mid, src) in &case.modules {
        let file = modroot.join(format!("{}.x07.json", mid.replace('.', "/")));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, src).unwrap();
    }
    let cwd = dir.path().join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let input = base64::engine::general_purpose::STANDARD
        .decode(&case.input_b64)
        .unwrap();
    let program = load_program(&entry, &[modroot]);
    let program = match (&case.expect, program) {
        (Expect::CompileError { message }, Err(e)) => {
            assert_eq!(&e.message, message, "{id}: compile error text");
            return;
        }
        (Expect::CompileError { message }, Ok(_)) => {
            panic!("{id}: expected compile error {message:?}, program was accepted")
        }
        (_, Err(e)) => panic!("{id}: unexpected compile error: {}", e.message),
        (_, Ok(p)) => p,
    };
    let mut host = TempDirHost {
        inner: OsHost::run_os(),
        dir: cwd,
        env: case.env.clone(),
    };
    let outcome = solve(&program, &input, &mut host, &SolveLimits::default());
    match (&case.expect, outcome.result) {
        (Expect::Ok { output_b64 }, Ok(out)) => {
            let want = base64::engine::general_purpose::STANDARD
                .decode(output_b64)
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&want),
                "{id}: output"
            );
            assert_eq!(out, want, "{id}: output bytes");
        }
        (Expect::Trap { trap }, Err(Interrupt::Trap(t))) => assert_eq!(&t, trap, "{id}: trap"),
        (Expect::Exit { code }, Err(Interrupt::Exit(c))) => assert_eq!(c, *code, "{id}: exit"),
        (_, got) => panic!("{id}: unexpected result {got:?}"),
    }
}

macro_rules! conformance {
    ($($name:ident => $id:literal),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_case($id);
            }
        )*

        #[test]
        fn every_data_file_has_a_test() {
            let ids: Vec<&str> = vec![$($id),*];
            let mut files: Vec<String> = std::fs::read_dir(data_dir())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".json").to_string())
                .collect();
            files.sort();
            assert_eq!(files, ids);
        }
    };
}

conformance! {
    c01_bytes_lit => "C01", c02_echo => "C02", c03_wrapping => "C03", c04_unsigned_div => "C04",
    c05_shifts => "C05", c06_comparisons => "C06", c07_short_circuit => "C07", c08_let_set => "C08",
    c09_for_unsigned => "C09", c10_for_end_once => "C10", c11_for_unroll_quirk => "C11",
    c12_while => "C12", c13_return_in_loop => "C13", c14_fib => "C14", c15_view_params => "C15",
    c16_bytes_alloc => "C16", c17_slice_concat_copy => "C17", c18_eq_cmp_range => "C18",
    c19_views => "C19", c20_vec_push_growth => "C20", c21_vec_ops => "C21",
    c22_option_quirk => "C22", c23_result_try => "C23", c24_codec_prng => "C24",
    c25_fmt => "C25", c26_std_parse => "C26", c27_parse_status => "C27",
    c28_std_bytes_search => "C28", c29_std_bytes_copying => "C29", c30_std_vec => "C30",
    c31_std_result_option => "C31", c32_std_view_slice => "C32", c33_trap_get_u8 => "C33",
    c34_trap_in_std => "C34", c35_trap_vec_get => "C35", c36_trap_parse => "C36",
    c37_unknown_head => "C37", c38_use_after_move => "C38", c39_arity => "C39",
    c40_user_module => "C40", c41_env => "C41", c42_fs_round_trip => "C42",
    c43_fs_missing => "C43", c44_std_fs_read => "C44", c45_time => "C45",
    c46_run_capture => "C46", c47_request_encoding => "C47", c48_output_limit => "C48",
    c49_spawn_piped => "C49", c50_exit => "C50",
}
