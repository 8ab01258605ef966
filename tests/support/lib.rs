//! The test bench: a private `pcscd` with vsmartcard `vpcd` readers, virtual tokens plugged into
//! them, `ykman` as an independent client, and (when asked) the strict IAM endpoint.
//!
//! Each bench runs its own pcscd in a private mount namespace (`unshare -m`, a bind mount over
//! `/run/pcscd`), on its own ports, so benches run side by side and never touch a system pcscd.
//! Every process is started under `setpriv --pdeathsig KILL`, and killed by PID on drop.
//!
//! libpcsclite reads `PCSCLITE_CSOCK_NAME` once per process, so code in this process can use
//! only one bench ([`Bench::shared`]); tests that need their own bench drive `ykmfa` and `ykman`
//! as subprocesses, or run in a process of their own ([`in_own_process!`]).
//!
//! A bench that can't start fails the test with a sentence naming what is missing
//! ([`Bench::start`]): a bench test never passes by skipping.
//!
//! A crate of its own (not a module of each test binary): the test binaries in `tests/`, the
//! hardware tests' bench checks in `hardware-tests/` and the benchmarks in `benches/` share it.

// Support for tests: a failed expectation here is a failed test, said with its reason.
#![allow(clippy::expect_used)]

mod front;
mod query;
pub mod seeds;

pub use front::{Front, Traffic};

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The virtual YubiKey's default serial in benches.
pub const YUBIKEY_SERIAL: u32 = 12_345_678;
/// Reader name prefix ykman recognises as a USB YubiKey.
pub const YUBIKEY_READER: &str = "Yubico YubiKey OTP+FIDO+CCID";
/// Reader name of the Nitrokey slot.
pub const NITROKEY_READER: &str = "Nitrokey 3";

/// One virtual YubiKey to plug in.
#[derive(Clone, Debug)]
pub struct YubiKeySpec {
    pub serial: u32,
    /// The virtual card's `--profile` (`yubikey5`, `neo`, `fips`, `bio`, `solo2`, …).
    pub profile: &'static str,
    /// `--version`; empty: the profile's own firmware.
    pub version: &'static str,
    pub capacity: Option<usize>,
    pub touch_delay_ms: u64,
    pub max_response: Option<usize>,
}

impl Default for YubiKeySpec {
    fn default() -> Self {
        YubiKeySpec {
            serial: YUBIKEY_SERIAL,
            profile: "yubikey5",
            version: "5.4.3",
            capacity: None,
            touch_delay_ms: 0,
            max_response: None,
        }
    }
}

impl YubiKeySpec {
    /// A YubiKey 5 with firmware 5.7 (64 OATH slots), of this serial.
    pub fn firmware_5_7(serial: u32) -> Self {
        YubiKeySpec {
            serial,
            profile: "yubikey5-57",
            version: "",
            ..YubiKeySpec::default()
        }
    }

    /// `n` of them, serials from `first` on: one per row of a bulk manifest.
    pub fn many_5_7(first: u32, n: usize) -> Vec<Self> {
        (0..n as u32)
            .map(|i| Self::firmware_5_7(first + i))
            .collect()
    }
}

/// What a bench holds.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    pub yubikeys: Vec<YubiKeySpec>,
    pub nitrokey: bool,
    pub iam: bool,
}

impl Spec {
    pub fn one_yubikey() -> Self {
        Spec {
            yubikeys: vec![YubiKeySpec::default()],
            ..Spec::default()
        }
    }
}

/// A virtual token on the bench.
pub struct Token {
    pub reader: String,
    pub serial: Option<u32>,
    pub control: Option<PathBuf>,
    pub state_file: Option<PathBuf>,
}

impl Token {
    /// Sends one control command to a virtual YubiKey and returns its JSON reply.
    pub fn control(&self, request: serde_json::Value) -> serde_json::Value {
        let path = self
            .control
            .as_ref()
            .expect("this token has no control socket");
        let mut stream = UnixStream::connect(path).expect("control socket");
        stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
        writeln!(stream, "{request}").expect("send control");
        let mut line = String::new();
        BufReader::new(stream)
            .read_line(&mut line)
            .expect("control reply");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("control reply {line:?}: {e}"))
    }

    /// The card's state (credentials with fingerprints, never keys).
    pub fn dump(&self) -> serde_json::Value {
        self.control(serde_json::json!({"cmd": "dump"}))
    }

    /// Names of the credentials on the card.
    pub fn credential_names(&self) -> Vec<String> {
        let dump = self.dump();
        let creds = dump
            .pointer("/state/credentials")
            .or_else(|| dump.get("credentials"))
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default();
        creds
            .iter()
            .filter_map(|c| c.get("name").and_then(|n| n.as_str()).map(str::to_owned))
            .collect()
    }
}

/// The strict IAM endpoint.
pub struct Iam {
    pub url: String,
}

/// A running bench.
pub struct Bench {
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub tokens: Vec<Token>,
    pub iam: Option<Iam>,
    /// When the bench started: the seed scan looks for the codes of every time step since.
    pub started: SystemTime,
    /// The largest clock shift (seconds, either way) a run on this bench was given
    /// ([`Bench::note_clock_shift`]).
    clock_shift_s: AtomicU64,
    children: Mutex<Vec<Child>>,
    /// Processes the IAM zygote forked for this bench ([`iam_zygote`]), killed by pid.
    forked: Mutex<Vec<u32>>,
    outputs: Mutex<Vec<(String, Vec<u8>)>>,
    /// Outputs that show authentication codes by design ([`Bench::record_output_showing_codes`]).
    outputs_showing_codes: Mutex<seeds::Haystacks>,
    keep: bool,
}

/// The outcome of one `ykmfa` run.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "ykmfa failed:\nstdout: {}\nstderr: {}",
            self.stdout,
            self.human()
        );
        &self.stdout
    }

    /// stderr without the log lines (what a person sees): [`Bench::run`] asks for JSON logs,
    /// one object per line.
    pub fn human(&self) -> String {
        self.stderr
            .lines()
            .filter(|l| !l.starts_with("{\""))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The repository: this crate lives in its `tests/support`.
pub fn workspace() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .expect("tests/support has a grandparent")
        .to_path_buf()
}

/// Where `bench/setup` put the virtualenv and other state.
pub fn state_dir() -> PathBuf {
    std::env::var_os("YKMFA_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".bench"))
}

/// The `ykmfa` binary cargo built for the test (or benchmark) running now: next to the `deps`
/// directory that holds the test binary (`target/<profile>/deps/NAME-HASH`), where cargo puts
/// the package's binaries before it runs integration tests and benchmarks. (This crate is a
/// dependency, so cargo's `CARGO_BIN_EXE_ykmfa` is not set when it compiles.) `YKMFA_BIN`
/// names another (a benchmark of the release binary `bench/package` built, for one).
pub fn ykmfa_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("YKMFA_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the path of the running test binary");
    let path = exe
        .parent()
        .and_then(Path::parent)
        .map(|profile| profile.join("ykmfa"))
        .expect("the test binary is in target/<profile>/deps");
    assert!(
        path.exists(),
        "{} is missing: the tests run the ykmfa binary that cargo builds with them (run them with cargo test)",
        path.display()
    );
    path
}

/// A workspace binary built with the same profile as ykmfa's, or else the debug build that
/// `bench/setup` makes (`cargo bench` builds ykmfa in release and nothing else).
pub fn sibling_bin(name: &str) -> PathBuf {
    find_sibling(name).unwrap_or_else(|path| {
        panic!(
            "{} is missing: run bench/setup (it builds the whole workspace) before the tests",
            path.display()
        )
    })
}

/// [`sibling_bin`]'s search: the binary, or the path where it should have been.
fn find_sibling(name: &str) -> Result<PathBuf, PathBuf> {
    let path = ykmfa_bin().with_file_name(name);
    if path.exists() {
        return Ok(path);
    }
    let debug = ykmfa_bin()
        .parent()
        .and_then(Path::parent)
        .map(|target| target.join("debug").join(name))
        .unwrap_or_else(|| path.clone());
    if debug.exists() {
        Ok(debug)
    } else {
        Err(path)
    }
}

/// The Nitrokey card (its own workspace): the release build when ykmfa itself is a release
/// build and that exists (benchmarks), else the debug build `bench/setup` makes.
pub fn nitrokey_bin() -> PathBuf {
    let target = workspace().join("bench/nitrokey-card/target");
    let release = target.join("release/nitrokey-card");
    if !cfg!(debug_assertions) && release.exists() {
        return release;
    }
    let path = target.join("debug/nitrokey-card");
    assert!(
        path.exists(),
        "{} is missing: run bench/setup before the tests",
        path.display()
    );
    path
}

pub fn venv_bin(name: &str) -> PathBuf {
    let path = state_dir().join("venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run bench/setup before the tests",
        path.display()
    );
    path
}

/// Two consecutive free TCP ports on loopback (vpcd uses PORT and PORT+1 for one entry).
fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let a = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = a.local_addr().expect("addr").port();
        if port < 65535 && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair on 127.0.0.1")
}

fn spawn(cmd: &mut Command, log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("log file");
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// The ports a server started by the bench writes to `path` once it listens (atomically); fails
/// after `secs` saying `what` did not listen, with its log.
fn port_file_of(path: &Path, secs: u64, what: &str, log: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not listen in {secs} s; its log ({}) says:\n{}",
            log.display(),
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `setpriv --pdeathsig KILL -- PROGRAM`: the child dies with the thread that started it.
fn guarded(program: &Path) -> Command {
    let mut c = Command::new("setpriv");
    c.arg("--pdeathsig").arg("KILL").arg("--").arg(program);
    c
}

impl Bench {
    /// Starts a bench. Panics with a clear message if the machine lacks what `bench/setup`
    /// installs.
    pub fn start(spec: Spec) -> Bench {
        Bench::start_with(spec, &[])
    }

    /// Like [`Bench::start`], passing `nitrokey_args` (say `--touch refuse`) to the Nitrokey card.
    pub fn start_with(spec: Spec, nitrokey_args: &[&str]) -> Bench {
        let missing = missing_for(
            &spec,
            &std::env::var("PATH").unwrap_or_default(),
            effective_uid(),
        );
        assert!(
            missing.is_empty(),
            "the bench can't start: {}",
            missing.join("; ")
        );
        let dir = std::env::temp_dir().join(format!(
            "ykmfa-bench-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let conf = dir.join("conf");
        let run = dir.join("run");
        for d in [&conf, &run, &dir.join("home")] {
            std::fs::create_dir_all(d).expect("bench dir");
        }
        let mut bench = Bench {
            socket: run.join("pcscd.comm"),
            dir: dir.clone(),
            tokens: Vec::new(),
            iam: None,
            started: SystemTime::now(),
            clock_shift_s: AtomicU64::new(0),
            children: Mutex::new(Vec::new()),
            forked: Mutex::new(Vec::new()),
            outputs: Mutex::new(Vec::new()),
            outputs_showing_codes: Mutex::new(Vec::new()),
            keep: std::env::var_os("YKMFA_KEEP_BENCH").is_some(),
        };

        // Reader entries: YubiKeys two to an entry (vpcd's two slots), the Nitrokey on its own.
        let mut entries = Vec::new();
        for (i, pair) in spec.yubikeys.chunks(2).enumerate() {
            let name = if i == 0 {
                YUBIKEY_READER.to_owned()
            } else {
                format!("{YUBIKEY_READER} {}", i + 1)
            };
            entries.push((name, free_port_pair(), pair.to_vec()));
        }
        for (i, (name, port, _)) in entries.iter().enumerate() {
            write_entry(&dir, &format!("yubikey{i}"), name, *port);
        }
        let nitrokey_port = spec.nitrokey.then(free_port_pair);
        if let Some(port) = nitrokey_port {
            write_entry(&dir, "nitrokey", NITROKEY_READER, port);
        }

        // pcscd runs in private mount and network namespaces: its socket is bind-mounted over
        // /run/pcscd, and vpcd (which listens on 0.0.0.0) sees only this bench's loopback.
        // The cards join that network namespace.
        std::fs::create_dir_all("/run/pcscd").expect("/run/pcscd (the bench must run as root)");
        let script = format!(
            "ip link set lo up && mount --make-rprivate / && mount --bind '{}' /run/pcscd && exec pcscd --foreground -c '{}'",
            run.display(),
            conf.display()
        );
        let mut cmd = guarded(Path::new("unshare"));
        cmd.arg("-m").arg("-n").arg("sh").arg("-c").arg(script);
        let pcscd = spawn(&mut cmd, &dir.join("pcscd.log"));
        let netns = format!("/proc/{}/ns/net", pcscd.id());
        bench.adopt(pcscd);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !bench.socket.exists() {
            assert!(
                Instant::now() < deadline,
                "the bench can't start: pcscd made no socket in 10 s; its log ({}) says:\n{}",
                dir.join("pcscd.log").display(),
                std::fs::read_to_string(dir.join("pcscd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }

        for (name, port, keys) in &entries {
            for (slot, key) in keys.iter().enumerate() {
                let control = dir.join(format!("yk-{}.sock", key.serial));
                let state = dir.join(format!("yk-{}.json", key.serial));
                let mut cmd = in_netns(&netns, &sibling_bin("virtual-yubikey"));
                cmd.args(["--port", &(port + slot as u16).to_string()])
                    .args(["--serial", &key.serial.to_string()])
                    .args(["--profile", key.profile])
                    .args(["--touch-delay-ms", &key.touch_delay_ms.to_string()])
                    .arg("--control")
                    .arg(&control)
                    .arg("--state-file")
                    .arg(&state);
                if !key.version.is_empty() {
                    cmd.args(["--version", key.version]);
                }
                if let Some(c) = key.capacity {
                    cmd.args(["--capacity", &c.to_string()]);
                }
                if let Some(m) = key.max_response {
                    cmd.args(["--max-response", &m.to_string()]);
                }
                let child = spawn(&mut cmd, &dir.join(format!("yk-{}.log", key.serial)));
                bench.adopt(child);
                bench.tokens.push(Token {
                    reader: format!("{name} 00 {slot:02}"),
                    serial: Some(key.serial),
                    control: Some(control),
                    state_file: Some(state),
                });
            }
        }
        if let Some(port) = nitrokey_port {
            let mut cmd = in_netns(&netns, &nitrokey_bin());
            cmd.args(["--port", &port.to_string()]).args(nitrokey_args);
            let child = spawn(&mut cmd, &dir.join("nitrokey.log"));
            bench.adopt(child);
            bench.tokens.push(Token {
                reader: format!("{NITROKEY_READER} 00 00"),
                serial: None,
                control: None,
                state_file: None,
            });
        }
        if spec.iam {
            bench.start_iam();
        }
        let expected = bench.tokens.len();
        let deadline = Instant::now() + Duration::from_secs(20);
        while bench.visible_tokens() != expected {
            if Instant::now() > deadline {
                let out = bench
                    .ykmfa(&["tokens", "-vvv"])
                    .output()
                    .expect("run ykmfa");
                panic!(
                    "timed out waiting for {expected} virtual tokens in pcscd (logs in {}); ykmfa tokens says:\n{}{}",
                    bench.dir.display(),
                    text(&out.stdout),
                    text(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bench
    }

    fn adopt(&self, child: Child) {
        self.children.lock().expect("children").push(child);
    }

    /// The strict IAM endpoint of this bench (`bench/iam/strict_iam.py --port 0`), forked by
    /// this process's [`iam_zygote`].
    fn start_iam(&mut self) {
        let port_file = self.dir.join("iam.port");
        let log = self.dir.join("iam.log");
        let args = [
            "--host".to_owned(),
            "127.0.0.1".to_owned(),
            "--port".to_owned(),
            "0".to_owned(),
            "--port-file".to_owned(),
            port_file.display().to_string(),
        ];
        let pid = iam_zygote().start(&args, &log);
        self.forked.lock().expect("forked").push(pid);
        let what = format!("the bench can't start: the IAM endpoint (pid {pid})");
        let port = port_file_of(&port_file, 60, &what, &log);
        let url = format!("http://127.0.0.1:{}", port.trim());
        self.iam = Some(Iam { url });
    }

    /// A bench-only request to the IAM endpoint (`/_bench/...`), JSON in and out.
    pub fn iam_call(&self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let iam = self.iam.as_ref().expect("this bench has no IAM endpoint");
        let addr = iam.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("IAM endpoint");
        let body = body.to_string();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        // Read by Content-Length: the server may keep the connection open despite
        // `Connection: close`, so reading to the end could wait forever.
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("HTTP header");
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().expect("content length");
            }
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line);
        }
        let mut body = vec![0u8; length];
        std::io::Read::read_exact(&mut reader, &mut body).expect("HTTP body");
        let response = text(&body);
        let json = response.as_str();
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{method} {path}: {e}: {response}"))
    }

    /// Arms a fault on the IAM endpoint (see bench/iam/README.md).
    pub fn iam_fault(&self, fault: serde_json::Value) {
        self.iam_call("POST", "/_bench/faults", fault);
    }

    /// Arms a late write on the IAM endpoint: the next `action` call answers an error (or, with
    /// `"answer": "timeout"`, nothing) and is applied later. `when` adds the fault's other keys,
    /// e.g. `json!({"land_after_calls": 2})` or `json!({"land_after_secs": 1.0})`
    /// (bench/iam/README.md, "Late writes").
    pub fn iam_late_write(&self, action: &str, when: serde_json::Value) {
        let mut fault = serde_json::json!({"action": action, "kind": "late"});
        if let (Some(fault), Some(when)) = (fault.as_object_mut(), when.as_object()) {
            fault.extend(when.clone());
        }
        self.iam_fault(fault);
    }

    /// Makes the IAM endpoint's MFA reads lag writes by `secs` seconds (0: live reads)
    /// (bench/iam/README.md, "Reads that lag writes").
    pub fn iam_read_lag(&self, secs: f64) {
        self.iam_call(
            "POST",
            "/_bench/config",
            serde_json::json!({"read_lag_s": secs}),
        );
    }

    /// The AWS CLI against this bench's IAM endpoint, its output as it came (for commands that
    /// may fail, such as the ones ykmfa prints for a person to run).
    pub fn aws_raw(&self, args: &[&str]) -> Output {
        let iam = self.iam.as_ref().expect("this bench has no IAM endpoint");
        let mut c = Command::new(venv_bin("aws"));
        c.arg("--endpoint-url").arg(&iam.url).args(args);
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c.output().expect("run aws")
    }

    /// The AWS CLI (v1, from the bench's virtualenv) against this bench's IAM endpoint, its
    /// output as JSON. The calls tests make most are sent to the endpoint directly and answered
    /// in the CLI's shape, without starting the CLI (see `query.rs`).
    pub fn aws(&self, args: &[&str]) -> serde_json::Value {
        let key = self
            .env()
            .into_iter()
            .find(|(k, _)| k == "AWS_ACCESS_KEY_ID")
            .map(|(_, v)| v)
            .expect("the bench's access key");
        self.aws_with_key(&key, args)
    }

    /// Like [`Bench::aws`], as `account` (one of the endpoint's other accounts).
    pub fn aws_as(&self, account: &str, args: &[&str]) -> serde_json::Value {
        self.aws_with_key(&self.access_key_of(account), args)
    }

    /// An access key id that selects `account` on this bench's IAM endpoint.
    pub fn access_key_of(&self, account: &str) -> String {
        self.iam_call(
            "GET",
            &format!("/_bench/access-key?account={account}"),
            serde_json::json!({}),
        )["access_key_id"]
            .as_str()
            .expect("an access key id")
            .to_owned()
    }

    /// One IAM query-protocol call as the account of `access_key`, straight to the endpoint;
    /// its XML answer. For what the CLI can't say simply (tags on a create, MaxItems...).
    pub fn iam_query(&self, access_key: &str, action: &str, params: &[(&str, &str)]) -> String {
        let iam = self.iam.as_ref().expect("this bench has no IAM endpoint");
        let params: Vec<(&str, String)> =
            params.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        query::post(&iam.url, access_key, action, &params)
    }

    /// The AWS CLI itself, always (where its own speed is measured: the manual workflow of the
    /// bulk benchmark); [`Bench::aws`] answers the common calls without it.
    pub fn aws_cli(&self, args: &[&str]) -> serde_json::Value {
        let key = self
            .env()
            .into_iter()
            .find(|(k, _)| k == "AWS_ACCESS_KEY_ID")
            .map(|(_, v)| v)
            .expect("the bench's access key");
        self.cli_with_key(&key, args)
    }

    fn aws_with_key(&self, access_key: &str, args: &[&str]) -> serde_json::Value {
        let iam = self.iam.as_ref().expect("this bench has no IAM endpoint");
        if let Some(call) = query::Call::of(args) {
            return call.run(&iam.url, access_key);
        }
        self.cli_with_key(access_key, args)
    }

    fn cli_with_key(&self, access_key: &str, args: &[&str]) -> serde_json::Value {
        let iam = self.iam.as_ref().expect("this bench has no IAM endpoint");
        let mut c = Command::new(venv_bin("aws"));
        c.arg("--endpoint-url")
            .arg(&iam.url)
            .args(["--output", "json"])
            .args(args);
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c.env("AWS_ACCESS_KEY_ID", access_key);
        let out = c.output().expect("run aws");
        assert!(out.status.success(), "aws {args:?}: {}", text(&out.stderr));
        if out.stdout.iter().all(u8::is_ascii_whitespace) {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&out.stdout).expect("aws json")
        }
    }

    /// The virtual MFA devices IAM lists with `status` (`Assigned`, `Unassigned`, `Any`), as
    /// the AWS CLI prints them.
    pub fn virtual_devices(&self, status: &str) -> Vec<serde_json::Value> {
        self.aws(&[
            "iam",
            "list-virtual-mfa-devices",
            "--assignment-status",
            status,
        ])["VirtualMFADevices"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The ARNs of the unassigned virtual MFA devices.
    pub fn unassigned(&self) -> Vec<String> {
        serials(&self.virtual_devices("Unassigned"))
    }

    /// The ARNs of the MFA devices assigned to `user`.
    pub fn assigned_to(&self, user: &str) -> Vec<String> {
        let listed = self.aws(&["iam", "list-mfa-devices", "--user-name", user]);
        serials(listed["MFADevices"].as_array().map_or(&[], Vec::as_slice))
    }

    /// How many `action` calls the IAM endpoint has had (bench-only endpoint).
    pub fn iam_calls(&self, action: &str) -> u64 {
        self.iam_call(
            "GET",
            &format!("/_bench/calls?action={action}"),
            serde_json::json!({}),
        )["count"]
            .as_u64()
            .unwrap_or(0)
    }

    /// Every seed the IAM endpoint has issued so far (bench-only endpoint).
    pub fn issued_seeds(&self) -> Vec<String> {
        let v = self.iam_call("GET", "/_bench/issued-seeds", serde_json::json!({}));
        v["seeds"]
            .as_array()
            .expect("seeds")
            .iter()
            .map(|s| s.as_str().expect("str").to_owned())
            .collect()
    }

    /// How many tokens `ykmfa tokens --json` sees right now.
    pub fn visible_tokens(&self) -> usize {
        let out = self
            .ykmfa(&["tokens", "--json"])
            .output()
            .expect("run ykmfa");
        // Cards without an OATH application (a Bio, a Security Key) are there too, as unusable.
        let count = |v: &serde_json::Value, k: &str| v[k].as_array().map_or(0, Vec::len);
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .map_or(0, |v| count(&v, "tokens") + count(&v, "unusable"))
    }

    /// Environment every process on this bench gets.
    pub fn env(&self) -> Vec<(String, String)> {
        let home = self.dir.join("home");
        let mut env = vec![
            (
                "PCSCLITE_CSOCK_NAME".into(),
                self.socket.display().to_string(),
            ),
            ("HOME".into(), home.display().to_string()),
            ("NO_COLOR".into(), "1".into()),
            (
                "AWS_CONFIG_FILE".into(),
                home.join(".aws/config").display().to_string(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                home.join(".aws/credentials").display().to_string(),
            ),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ];
        if let Some(iam) = &self.iam {
            env.extend([
                ("AWS_ENDPOINT_URL_IAM".into(), iam.url.clone()),
                ("AWS_ENDPOINT_URL_STS".into(), iam.url.clone()),
                ("AWS_ENDPOINT_URL_ORGANIZATIONS".into(), iam.url.clone()),
                ("AWS_ACCESS_KEY_ID".into(), "AKIAIOSFODNN7EXAMPLE".into()),
                ("AWS_SECRET_ACCESS_KEY".into(), "bench-secret".into()),
                ("AWS_REGION".into(), "us-east-1".into()),
                ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
            ]);
        }
        env
    }

    /// `ykmfa ARGS` on this bench (not yet run).
    pub fn ykmfa(&self, args: &[&str]) -> Command {
        let mut c = Command::new(ykmfa_bin());
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c
    }

    /// Runs `ykmfa ARGS` with `RUST_LOG=trace` (SDK wire logs included), recording every output
    /// for [`Bench::assert_no_seed_leaked`].
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    /// Like [`Bench::run`], with extra environment.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.ykmfa(args);
        c.env("RUST_LOG", "trace")
            .env("YKMFA_LOG_FORMAT", "json")
            .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("run ykmfa");
        let mut outputs = self.outputs.lock().expect("outputs");
        outputs.push((format!("stdout of ykmfa {args:?}"), out.stdout.clone()));
        outputs.push((format!("stderr of ykmfa {args:?}"), out.stderr.clone()));
        Run {
            code: out.status.code(),
            stdout: text(&out.stdout),
            stderr: text(&out.stderr),
        }
    }

    /// Records another output (e.g. of a process the test started itself) for the seed scan.
    pub fn record_output(&self, name: String, bytes: Vec<u8>) {
        self.outputs.lock().expect("outputs").push((name, bytes));
    }

    /// Records an output that shows authentication codes by design (`ykmfa enroll --root`
    /// prints the pair a person types into the console): the seed scan looks for the seeds in
    /// it, not for their codes.
    pub fn record_output_showing_codes(&self, name: String, bytes: Vec<u8>) {
        self.outputs_showing_codes
            .lock()
            .expect("outputs")
            .push((name, bytes));
    }

    /// Says that a run computed codes on a clock shifted by `secs` (libfaketime), so that the
    /// seed scan also looks for the codes of those steps.
    pub fn note_clock_shift(&self, secs: i64) {
        self.clock_shift_s
            .fetch_max(secs.unsigned_abs(), Ordering::SeqCst);
    }

    /// The time steps whose codes a run on this bench could have used: from the bench's start to
    /// now, two steps more either way (a step boundary, a late or early pair), widened by the
    /// largest clock shift a run was given.
    pub fn code_steps(&self) -> std::ops::RangeInclusive<u64> {
        let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).expect("clock").as_secs();
        let margin = 2 + self.clock_shift_s.load(Ordering::SeqCst).div_ceil(30);
        let first = secs(self.started) / 30;
        let last = secs(SystemTime::now()) / 30;
        first.saturating_sub(margin)..=last + margin
    }

    /// Every recorded output and every file below the bench's HOME, and apart, the outputs that
    /// show codes by design.
    fn haystacks(&self) -> (seeds::Haystacks, seeds::Haystacks) {
        let mut hay = self.outputs.lock().expect("outputs").clone();
        hay.extend(seeds::files_below(&self.dir.join("home")));
        let showing = self.outputs_showing_codes.lock().expect("outputs").clone();
        (hay, showing)
    }

    /// Scans every recorded output and every file below the bench's HOME for every seed the IAM
    /// endpoint issued, in every encoding, and for a pair of the codes each seed gave during the
    /// run ([`seeds::CodePairs`]). Returns how many seeds were searched for; fails if the endpoint
    /// issued none, as a scan for nothing would pass whatever leaked (where a test issues no seed
    /// by design, [`Bench::assert_no_seed_issued`] says so).
    pub fn assert_no_seed_leaked(&self) -> usize {
        let seeds = self.issued_seeds();
        assert!(
            !seeds.is_empty(),
            "the seed scan has nothing to look for: the IAM endpoint issued no seed, so it would \
             pass whatever leaked (if the test issues none by design, assert_no_seed_issued says so)"
        );
        let (hay, showing) = self.haystacks();
        seeds::assert_absent(&seeds, &hay);
        seeds::assert_absent(&seeds, &showing);
        seeds::assert_no_code_pair(&seeds, &self.code_steps(), &hay);
        seeds.len()
    }

    /// Asserts that the IAM endpoint issued no seed at all: no virtual MFA device was created,
    /// so there is no seed to leak (for runs refused before any create).
    pub fn assert_no_seed_issued(&self) {
        let issued = self.issued_seeds().len();
        assert_eq!(
            issued, 0,
            "the IAM endpoint issued {issued} seed(s): a virtual MFA device was created"
        );
    }

    /// Scans every recorded output and every file below the bench's HOME for `seeds`, seeds the
    /// test itself knows (the IAM endpoint never issued them), in every encoding. Their codes
    /// are not looked for: a run may print them by design (`resync --root`).
    pub fn assert_no_leak_of(&self, seeds: &[&str]) {
        let seeds: Vec<String> = seeds.iter().map(|s| (*s).to_owned()).collect();
        let (hay, showing) = self.haystacks();
        seeds::assert_absent(&seeds, &hay);
        seeds::assert_absent(&seeds, &showing);
    }

    /// The seed the bench's AWS holds for a hardware TOTP token's serial (its table of tokens).
    pub fn hardware_seed(&self, serial: &str) -> String {
        let tokens = self.iam_call("GET", "/_bench/hardware-tokens", serde_json::json!({}));
        let listed = tokens["tokens"]
            .as_array()
            .expect("the bench's hardware tokens");
        let token = listed.iter().find(|t| t["serial"] == serial);
        let seed = token.expect("a token of the bench's table")["seed"].as_str();
        seed.expect("a Base32 seed").to_owned()
    }

    /// Scans every recorded output (not those showing codes by design) and every file below the
    /// bench's HOME for a pair of the codes `seeds` gave during the run: seeds the test knows,
    /// such as a hardware token's, whose codes a person types in and nothing may log.
    pub fn assert_no_code_pair_of(&self, seeds: &[&str]) {
        let seeds: Vec<String> = seeds.iter().map(|s| (*s).to_owned()).collect();
        let (hay, _) = self.haystacks();
        seeds::assert_no_code_pair(&seeds, &self.code_steps(), &hay);
    }

    /// Runs `ykmfa ARGS` on a pseudo-terminal (util-linux `script`) with this bench's
    /// environment plus `env`, typing `answer`; returns the exit code and the screen, which is
    /// recorded for the seed scan. The answer is typed ahead (the terminal keeps it until ykmfa
    /// reads it) and the pipe stays open until ykmfa is done, so `script` never sends an end of
    /// file to the terminal early.
    pub fn on_terminal(
        &self,
        args: &[&str],
        answer: &str,
        env: &[(&str, &str)],
    ) -> (Option<i32>, String) {
        let command = std::iter::once(ykmfa_bin().display().to_string())
            .chain(args.iter().map(|a| (*a).to_owned()))
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ");
        let mut child = Command::new("script")
            .args(["--quiet", "--return", "--command", &command, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env())
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script (util-linux)");
        let mut stdin = child.stdin.take().expect("stdin");
        let answer = answer.to_owned();
        let typist = std::thread::spawn(move || {
            let _ = stdin.write_all(answer.as_bytes());
            std::thread::sleep(Duration::from_secs(20));
            drop(stdin);
        });
        let out = child.wait_with_output().expect("wait for script");
        drop(typist);
        let screen = text(&out.stdout);
        self.record_output(format!("terminal of ykmfa {args:?}"), out.stdout);
        (out.status.code(), screen)
    }

    /// `ykman --reader READER ARGS` on this bench.
    pub fn ykman(&self, reader: &str, args: &[&str]) -> Output {
        let mut c = Command::new(venv_bin("ykman"));
        c.arg("--reader").arg(reader).args(args);
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c.stdin(Stdio::null());
        c.output().expect("run ykman")
    }

    /// Like [`Bench::ykman`], asserting success and returning stdout.
    pub fn ykman_ok(&self, reader: &str, args: &[&str]) -> String {
        let out = self.ykman(reader, args);
        assert!(
            out.status.success(),
            "ykman {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The bench used by code running in this process (see the module docs). Started once,
    /// from a thread that lives as long as the process, so the parent-death signal only fires
    /// when the test binary exits.
    pub fn shared(spec: fn() -> Spec) -> &'static Bench {
        Bench::shared_with(move || Bench::start(spec()))
    }

    /// Like [`Bench::shared`], with the bench started by `start` (say [`Bench::start_with`]).
    /// Whichever of the two runs first in a process decides the bench.
    pub fn shared_with(start: impl FnOnce() -> Bench + Send + 'static) -> &'static Bench {
        SHARED.get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let bench = start();
                tx.send(bench).ok();
                loop {
                    std::thread::park();
                }
            });
            let bench = rx.recv().expect("bench thread");
            // Safe: set before any PC/SC call in this process, while no other thread reads it.
            std::env::set_var("PCSCLITE_CSOCK_NAME", &bench.socket);
            bench
        })
    }

    /// The bench's pcscd: the first process it started (`unshare` and `sh` exec into it).
    pub fn pcscd_pid(&self) -> u32 {
        let pid = self.children.lock().expect("children")[0].id();
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_eq!(
            comm.trim(),
            "pcscd",
            "the bench's first process is not pcscd"
        );
        pid
    }

    /// Kills only the bench's pcscd, as a crash would (SIGKILL): its socket stays behind, the
    /// cards and the IAM endpoint keep running.
    pub fn kill_pcscd(&self) {
        let pid = self.pcscd_pid();
        let mut children = self.children.lock().expect("children");
        let i = children.iter().position(|c| c.id() == pid).expect("pcscd");
        let mut pcscd = children.remove(i);
        let _ = pcscd.kill();
        let _ = pcscd.wait();
    }

    /// Stops the bench's processes.
    pub fn stop(&self) {
        for pid in self.forked.lock().expect("forked").drain(..) {
            kill_forked(pid);
        }
        for mut child in self.children.lock().expect("children").drain(..).rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        self.stop();
        if !self.keep && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The process that forks this test process's IAM endpoints (`tests/support/iam_zygote.py`):
/// moto and the rest imported once, each endpoint a fork of it. Started once, from a thread that
/// lives as long as the process, under `setpriv --pdeathsig KILL`, so it (and, by their own
/// parent-death signal, its endpoints) dies with the test process.
pub struct IamZygote {
    socket: PathBuf,
}

impl IamZygote {
    /// Forks an endpoint with `strict_iam.py`'s `args`, its output to `log`; returns its pid.
    fn start(&self, args: &[String], log: &Path) -> u32 {
        let mut stream = UnixStream::connect(&self.socket).expect("the IAM zygote's socket");
        let request = serde_json::json!({"args": args, "log": log.display().to_string()});
        writeln!(stream, "{request}").expect("ask the IAM zygote");
        let mut line = String::new();
        BufReader::new(stream)
            .read_line(&mut line)
            .expect("the IAM zygote's answer");
        line.trim()
            .parse()
            .unwrap_or_else(|_| panic!("the IAM zygote answered {line:?}"))
    }
}

/// This process's [`IamZygote`], started on first use.
pub fn iam_zygote() -> &'static IamZygote {
    static ZYGOTE: OnceLock<IamZygote> = OnceLock::new();
    ZYGOTE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ykmfa-iam-zygote-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the IAM zygote's directory");
        let socket = dir.join("zygote.sock");
        let log = dir.join("zygote.log");
        let mut cmd = guarded(&venv_bin("python"));
        cmd.arg(workspace().join("tests/support/iam_zygote.py"))
            .arg(&socket);
        let (tx, rx) = std::sync::mpsc::channel();
        let log_path = log.clone();
        std::thread::spawn(move || {
            let child = spawn(&mut cmd, &log_path);
            tx.send(child.id()).ok();
            let _keep = child;
            loop {
                std::thread::park();
            }
        });
        let pid = rx.recv().expect("the IAM zygote's thread");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "the bench can't start: the IAM zygote (pid {pid}) made no socket in 60 s; its log ({}) says:\n{}",
                log.display(),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        IamZygote { socket }
    })
}

/// Kills an endpoint the zygote forked, if that pid is still one (its command line is the
/// zygote's: a pid freed and taken by another process is left alone).
fn kill_forked(pid: u32) {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if !text(&cmdline).contains("iam_zygote.py") {
        return;
    }
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
}

/// This process's bench ([`Bench::shared`]).
static SHARED: OnceLock<Bench> = OnceLock::new();

static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// What the machine lacks to start a bench of `spec`, each said as a sentence naming it and
/// what installs it (empty: nothing), given the `PATH` to look in and the effective user id.
/// [`Bench::start`] fails with these: a test that needs the bench never passes without it.
pub fn missing_for(spec: &Spec, path: &str, euid: Option<u32>) -> Vec<String> {
    let mut missing = Vec::new();
    match euid {
        Some(0) => {}
        Some(uid) => missing.push(format!(
            "it runs as user {uid}, not root (each bench runs pcscd in private mount and network namespaces): run the tests as root, as bench/test does"
        )),
        None => missing.push(
            "the effective user id is unreadable (/proc/self/status), so root can't be confirmed".into(),
        ),
    }
    let on_path =
        |program: &str| std::env::split_paths(path).any(|dir| dir.join(program).is_file());
    for (program, package) in [
        ("pcscd", "pcscd"),
        ("unshare", "util-linux"),
        ("nsenter", "util-linux"),
        ("setpriv", "util-linux"),
        ("ip", "iproute2"),
        ("mount", "mount"),
        ("sh", "dash"),
    ] {
        if !on_path(program) {
            missing.push(format!(
                "{program} is not on PATH ({path}): bench/setup installs it (apt package {package})"
            ));
        }
    }
    if !Path::new(VPCD_DRIVER).is_file() {
        missing.push(format!(
            "vpcd's driver {VPCD_DRIVER} is missing: bench/setup installs it (apt package vsmartcard-vpcd)"
        ));
    }
    if !spec.yubikeys.is_empty() {
        if let Err(path) = find_sibling("virtual-yubikey") {
            missing.push(format!(
                "the virtual YubiKey ({}) is not built: bench/setup builds it",
                path.display()
            ));
        }
    }
    let nitrokey = workspace().join("bench/nitrokey-card/target/debug/nitrokey-card");
    if spec.nitrokey && !nitrokey.is_file() {
        missing.push(format!(
            "the Nitrokey card ({}) is not built: bench/setup builds it",
            nitrokey.display()
        ));
    }
    if spec.iam {
        let python = state_dir().join("venv/bin/python");
        if !python.is_file() {
            missing.push(format!(
                "the bench's Python ({}) is missing, and with it the strict IAM endpoint (moto): bench/setup creates it",
                python.display()
            ));
        }
    }
    missing
}

/// The process's effective user id, from `/proc/self/status` (no libc in the tests).
pub fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The variable that tells a test binary started by [`in_own_process!`] which test it runs.
pub const OWN_PROCESS: &str = "YKMFA_TEST_OWN_PROCESS";

/// Runs the rest of the calling `#[test]` function in a process of its own: the same test
/// binary, that one test alone (`--exact`). For tests that need a bench of their own in this
/// process (libpcsclite binds one pcscd per process, [`Bench::shared`]). In the child it
/// returns and the body runs; in the parent it waits for the child, fails unless the child ran
/// exactly that test and it passed, and then returns from the test.
///
/// ```ignore
/// #[test]
/// fn enrolls_on_a_nitrokey() {
///     support::in_own_process!(enrolls_on_a_nitrokey);
///     let bench = Bench::shared(spec); // this process's own bench
/// }
/// ```
#[macro_export]
macro_rules! in_own_process {
    ($test:ident) => {
        if !$crate::enter_own_process(concat!(module_path!(), "::", stringify!($test))) {
            return;
        }
    };
}

/// [`in_own_process!`]'s work: `path` is the test's module path and name, starting with the
/// test binary's crate name. True in the child (run the body), false in the parent once the
/// child passed.
pub fn enter_own_process(path: &str) -> bool {
    // libtest names a test by its path without the crate.
    let name = path.split_once("::").map_or(path, |(_, name)| name);
    if std::env::var(OWN_PROCESS).is_ok_and(|v| v == name) {
        return true;
    }
    let mut child = Command::new(std::env::current_exe().expect("the test binary"));
    // `--include-ignored`: an `#[ignore]`d test asked for by name runs in its process too.
    child
        .args([name, "--exact", "--include-ignored", "--test-threads=1"])
        .env(OWN_PROCESS, name)
        .stdin(Stdio::null());
    if SHARED.get().is_some() {
        // The socket of this process's bench, set by Bench::shared: the child picks its own.
        child.env_remove("PCSCLITE_CSOCK_NAME");
    }
    let out = child
        .output()
        .expect("run the test in a process of its own");
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{name}, in a process of its own:\n{stdout}{}",
        text(&out.stderr)
    );
    false
}

/// vpcd keeps its two slots in static variables, so two reader entries that load the same
/// library overwrite each other's slots. Each entry gets its own copy of the driver, which
/// dlopen() loads as a separate instance.
const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";

fn write_entry(dir: &Path, file: &str, name: &str, port: u16) {
    let lib = dir.join("lib").join(format!("{file}.so"));
    std::fs::create_dir_all(dir.join("lib")).expect("lib dir");
    std::fs::copy(VPCD_DRIVER, &lib)
        .expect("vpcd driver (is vsmartcard-vpcd installed? run bench/setup)");
    std::fs::write(
        dir.join("conf").join(file),
        format!(
            "FRIENDLYNAME \"{name}\"\nDEVICENAME /dev/null:{port}\nLIBPATH {}\nCHANNELID {port}\n",
            lib.display()
        ),
    )
    .expect("reader entry");
}

/// A command that runs in the bench's network namespace, dying with its starter.
fn in_netns(netns: &str, program: &Path) -> Command {
    let mut c = Command::new("nsenter");
    c.arg(format!("--net={netns}"))
        .args(["--", "setpriv", "--pdeathsig", "KILL", "--"])
        .arg(program);
    c
}

/// Polls `ready` until it holds or `timeout` passes.
pub fn wait_for(timeout: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `SerialNumber`s of devices as the AWS CLI prints them.
fn serials(devices: &[serde_json::Value]) -> Vec<String> {
    devices
        .iter()
        .filter_map(|d| d["SerialNumber"].as_str().map(str::to_owned))
        .collect()
}

/// Seconds since the Unix epoch, now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
}

/// Output as text, for assertions.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The TOTP codes (SHA1, 6 digits, 30 s) of the previous and the current step for a Base32 seed.
pub fn totp_pair(seed: &str) -> (String, String) {
    let key = base32::decode(
        base32::Alphabet::Rfc4648 { padding: false },
        seed.trim_end_matches('='),
    )
    .expect("base32");
    let step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        / 30;
    let code = |s: u64| {
        let t = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, key.clone());
        t.generate(s * 30)
    };
    (code(step - 1), code(step))
}
