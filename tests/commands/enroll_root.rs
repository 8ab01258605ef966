//! `ykmfa enroll --root` on the bench: the real pcscd with the virtual YubiKey, `ykman` as the
//! independent client, no IAM (root MFA is enrolled in the console; ykmfa makes no AWS call).
//!
//! Each test makes its own seed, feeds it as the console would show it (Base32 text, or a QR code
//! rendered to PNG here), checks the two printed codes against `totp-rs` and the credential
//! against `ykman`, and scans every output of the run (stderr at RUST_LOG=trace) and every file
//! under the bench's HOME for that seed. A pseudo-terminal (`script` from util-linux) drives
//! the question asked after the codes.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Bench, Spec};

const ACCOUNT: &str = "123456789012";
const DEFAULT_LABEL: &str = "Amazon Web Services:root@123456789012";
/// What AWS's console puts in its QR code for the root user.
const QR_LABEL: &str = "Amazon Web Services:root-account-mfa-device@123456789012";

/// A fresh random seed, Base32 as the console shows it.
fn new_seed() -> String {
    let bytes: [u8; 20] = rand::random();
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &bytes)
}

fn totp(seed: &str, step: u64) -> String {
    let key = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, seed).expect("b32");
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 0, 30, key).generate(step * 30)
}

/// The URI the console's QR code holds, for `label` ("issuer:account").
fn otpauth(label: &str, seed: &str, extra: &str) -> String {
    let issuer = label.split_once(':').map_or("", |(i, _)| i);
    format!(
        "otpauth://totp/{}?secret={seed}&issuer={}{extra}",
        label.replace(' ', "%20"),
        issuer.replace(' ', "%20")
    )
}

/// A QR code of `text` as a PNG (RGBA, 4 pixels a module, with the quiet zone), as a screenshot
/// of the console would be.
fn qr_png(text: &str) -> Vec<u8> {
    let code = qrcode::QrCode::new(text.as_bytes()).expect("qr");
    let width = code.width() as u32;
    let colors = code.to_colors();
    let scale = 4;
    let side = (width + 8) * scale;
    let mut pixels = Vec::with_capacity((side * side * 4) as usize);
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = (x / scale, y / scale);
            let dark = (4..width + 4).contains(&mx)
                && (4..width + 4).contains(&my)
                && colors[((my - 4) * width + (mx - 4)) as usize] == qrcode::Color::Dark;
            let v = if dark { 0 } else { 255 };
            pixels.extend([v, v, v, 255]);
        }
    }
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        &pixels,
        side,
        side,
        image::ExtendedColorType::Rgba8,
    )
    .expect("png");
    png
}

/// What one run printed, and when it ran.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    started: u64,
    ended: u64,
}

impl Outcome {
    /// stderr without the JSON log lines: what a person reads.
    fn human(&self) -> String {
        self.stderr
            .lines()
            .filter(|l| !l.starts_with("{\""))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "ykmfa failed:\nstdout: {}\nstderr: {}",
            self.stdout,
            self.human()
        );
        &self.stdout
    }

    /// The pair printed must be T-1 and T for a step T during the run.
    fn assert_codes(&self, seed: &str, codes: &[String]) {
        let pairs: Vec<[String; 2]> = (self.started / 30..=self.ended / 30)
            .map(|t| [totp(seed, t - 1), totp(seed, t)])
            .collect();
        assert!(
            pairs.iter().any(|p| p[..] == codes[..]),
            "codes {codes:?} are not T-1,T for any step of the run ({pairs:?})"
        );
    }
}

/// A bench with one virtual YubiKey and a record of everything the test saw, for the seed scan.
struct Root {
    bench: Bench,
    seen: Mutex<Vec<(String, Vec<u8>)>>,
}

impl Root {
    fn start() -> Self {
        Root {
            bench: Bench::start(Spec::one_yubikey()),
            seen: Mutex::new(Vec::new()),
        }
    }

    fn record(&self, name: String, bytes: &[u8]) {
        self.bench.record_output(name.clone(), bytes.to_vec());
        self.seen.lock().expect("seen").push((name, bytes.to_vec()));
    }

    /// `ykmfa ARGS` with `input` on stdin, at RUST_LOG=trace (JSON logs), recorded.
    fn run(&self, args: &[&str], input: &[u8]) -> Outcome {
        let mut cmd = self.bench.ykmfa(args);
        cmd.env("RUST_LOG", "trace")
            .env("YKMFA_LOG_FORMAT", "json")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = support::now();
        let mut child = cmd.spawn().expect("run ykmfa");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        // Fed from a thread: ykmfa reads stdin only after finding the token, and its logs could
        // fill the stderr pipe meanwhile.
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("ykmfa output");
        feeder.join().expect("feeder");
        let ended = support::now();
        self.record(format!("stdout of ykmfa {args:?}"), &out.stdout);
        self.record(format!("stderr of ykmfa {args:?}"), &out.stderr);
        Outcome {
            code: out.status.code(),
            stdout: support::text(&out.stdout),
            stderr: support::text(&out.stderr),
            started,
            ended,
        }
    }

    fn names(&self) -> Vec<String> {
        self.bench.tokens[0].credential_names()
    }

    /// `ykman` computes the credential's current code; it must be the seed's.
    fn assert_ykman_code(&self, label: &str, seed: &str) {
        let before = support::now();
        let out = self.bench.ykman_ok(
            &self.bench.tokens[0].reader,
            &["oath", "accounts", "code", "--single", label],
        );
        let after = support::now();
        self.record(format!("ykman code {label}"), out.as_bytes());
        let code = out.trim();
        assert!(
            (before / 30..=after / 30).any(|t| totp(seed, t) == code),
            "ykman's code {code} for '{label}' is not the seed's"
        );
    }

    /// No trace of `seeds` in any output seen, nor in any file under the bench's HOME.
    fn assert_no_leak(&self, seeds: &[&str]) {
        let seeds: Vec<String> = seeds.iter().map(|s| (*s).to_owned()).collect();
        let mut hay = self.seen.lock().expect("seen").clone();
        hay.extend(support::seeds::files_below(&self.bench.dir.join("home")));
        assert!(!hay.is_empty(), "nothing was recorded");
        support::seeds::assert_absent(&seeds, &hay);
    }
}

/// The non-empty lines of stdout.
fn lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn secret_on_stdin_gives_the_codes_of_t_minus_1_and_t() {
    let root = Root::start();
    let seed = new_seed();
    let run = root.run(
        &[
            "enroll",
            "--root",
            "--secret-stdin",
            "--yes",
            "--account",
            ACCOUNT,
        ],
        format!("{seed}\n").as_bytes(),
    );
    let codes = lines(run.ok());
    assert_eq!(codes.len(), 2, "two codes on stdout: {codes:?}");
    run.assert_codes(&seed, &codes);
    assert_eq!(root.names(), [DEFAULT_LABEL]);
    root.assert_ykman_code(DEFAULT_LABEL, &seed);
    // Kept without a question, with the command that removes it if the console refused.
    let human = run.human();
    assert!(
        human.contains(&format!(
            "ykman --device 12345678 oath accounts delete '{DEFAULT_LABEL}'"
        )),
        "{human}"
    );
    assert!(human.contains("Enter them within"), "{human}");
    root.assert_no_leak(&[&seed]);
}

#[test]
fn json_output_and_the_default_label_without_an_account() {
    let root = Root::start();
    let seed = new_seed();
    // Grouped and lower case, as people copy it; no --yes: without a terminal nothing is asked.
    let typed = seed
        .to_ascii_lowercase()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let run = root.run(
        &["enroll", "--root", "--secret-stdin", "--json", "--touch"],
        typed.as_bytes(),
    );
    assert!(run.human().contains("Touch your token"), "{}", run.human());
    let v: serde_json::Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(v["schema"], "ykmfa.enroll-root/1");
    assert_eq!(v["credential"], "Amazon Web Services:root@aws");
    let codes: Vec<String> = v["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("str").to_owned())
        .collect();
    run.assert_codes(&seed, &codes);
    // Valid until the end of step T+1, T being the step whose code is the second.
    let t = (run.started / 30..=run.ended / 30)
        .find(|t| totp(&seed, *t) == codes[1])
        .expect("step");
    assert_eq!(v["valid_until"], (t + 2) * 30);
    assert_eq!(root.names(), ["Amazon Web Services:root@aws"]);
    assert_eq!(
        root.bench.tokens[0].dump()["credentials"][0]["touch"],
        true,
        "--touch is honoured"
    );
    root.assert_no_leak(&[&seed]);
}

#[test]
fn a_refused_touch_after_the_write_removes_the_credential() {
    let root = Root::start();
    root.bench.tokens[0].control(serde_json::json!({"cmd": "touch", "mode": "refuse"}));
    let seed = new_seed();
    let run = root.run(
        &["enroll", "--root", "--secret-stdin", "--touch", "--yes"],
        seed.as_bytes(),
    );
    assert_eq!(run.code, Some(5), "{}", run.human());
    assert!(run.human().contains("not touched"), "{}", run.human());
    assert!(
        run.human().contains("nothing is left on the token"),
        "{}",
        run.human()
    );
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    assert!(root.names().is_empty(), "{:?}", root.names());
    root.assert_no_leak(&[&seed]);
}

#[test]
fn the_console_qr_code_from_a_file_and_from_stdin() {
    let root = Root::start();
    // From a file (outside HOME: the scan of HOME must not see the test's own input).
    let seed = new_seed();
    let file = root.bench.dir.join("console-qr.png");
    std::fs::write(&file, qr_png(&otpauth(QR_LABEL, &seed, ""))).expect("png");
    let run = root.run(
        &[
            "enroll",
            "--root",
            "--qr",
            file.to_str().expect("path"),
            "--yes",
        ],
        b"",
    );
    run.assert_codes(&seed, &lines(run.ok()));
    assert_eq!(root.names(), [QR_LABEL]);
    root.assert_ykman_code(QR_LABEL, &seed);

    // From stdin, as `wl-paste -t image/png | ykmfa enroll --root --qr -` gives it. The label
    // comes from the QR code, whatever --account says.
    let other_label = "Amazon Web Services:root-account-mfa-device@210987654321";
    let seed2 = new_seed();
    let png = qr_png(&otpauth(
        other_label,
        &seed2,
        "&algorithm=SHA1&digits=6&period=30",
    ));
    let run = root.run(
        &[
            "enroll",
            "--root",
            "--qr",
            "-",
            "--yes",
            "--account",
            ACCOUNT,
        ],
        &png,
    );
    run.assert_codes(&seed2, &lines(run.ok()));
    let mut names = root.names();
    names.sort();
    assert_eq!(names, [QR_LABEL, other_label]);
    root.assert_ykman_code(other_label, &seed2);
    root.assert_no_leak(&[&seed, &seed2]);
}

#[test]
fn bad_input_is_refused_before_anything_is_written() {
    let root = Root::start();
    let seed = new_seed();
    let qr = |name: &str, text: &str| {
        let path = root.bench.dir.join(name);
        std::fs::write(&path, qr_png(text)).expect("png");
        path.display().to_string()
    };
    let cases: Vec<(Vec<String>, Vec<u8>, &str)> = vec![
        (
            vec!["--secret-stdin".into()],
            format!("{}!{}\n", &seed[..10], &seed[11..]).into_bytes(),
            "not valid Base32",
        ),
        (
            vec!["--secret-stdin".into()],
            b"\n".to_vec(),
            "the secret is empty",
        ),
        (
            vec![
                "--qr".into(),
                qr("url.png", &format!("https://example.com/?secret={seed}")),
            ],
            Vec::new(),
            "the QR code does not hold an otpauth:// URI",
        ),
        (
            vec![
                "--qr".into(),
                qr("sha256.png", &otpauth(QR_LABEL, &seed, "&algorithm=SHA256")),
            ],
            Vec::new(),
            "HMAC-SHA256",
        ),
        (
            vec![
                "--qr".into(),
                qr("digits.png", &otpauth(QR_LABEL, &seed, "&digits=8")),
            ],
            Vec::new(),
            "8-digit codes",
        ),
        (
            vec!["--qr".into(), "-".into()],
            qr_png(&otpauth(QR_LABEL, &seed, "&period=60")),
            "a period of 60 s",
        ),
        (
            vec!["--secret-stdin".into()],
            otpauth(QR_LABEL, &seed, "&algorithm=SHA512").into_bytes(),
            "HMAC-SHA512",
        ),
        (
            vec!["--qr".into(), "-".into()],
            b"GIF89a, not a PNG".to_vec(),
            "cannot read the QR code: the image is not a readable PNG",
        ),
        (
            vec!["--account".into(), "12345".into(), "--secret-stdin".into()],
            seed.clone().into_bytes(),
            "not an AWS account id",
        ),
    ];
    for (extra, input, expected) in cases {
        let mut args = vec!["enroll", "--root", "--yes"];
        args.extend(extra.iter().map(String::as_str));
        let run = root.run(&args, &input);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.human());
        assert!(
            run.human().contains(expected),
            "{args:?}: expected '{expected}' in\n{}",
            run.human()
        );
        assert!(run.stdout.trim().is_empty(), "{args:?}: {}", run.stdout);
        assert!(root.names().is_empty(), "{args:?}: {:?}", root.names());
    }
    root.assert_no_leak(&[&seed]);
}

#[test]
fn an_existing_label_is_refused_and_left_untouched() {
    let root = Root::start();
    let theirs = new_seed();
    root.bench.ykman_ok(
        &root.bench.tokens[0].reader,
        &["oath", "accounts", "add", "-f", DEFAULT_LABEL, &theirs],
    );
    let before = root.bench.tokens[0].dump();
    let seed = new_seed();
    let run = root.run(
        &[
            "enroll",
            "--root",
            "--secret-stdin",
            "--yes",
            "--account",
            ACCOUNT,
        ],
        seed.as_bytes(),
    );
    assert_eq!(run.code, Some(5), "{}", run.human());
    assert!(
        run.human().contains("already holds a credential"),
        "{}",
        run.human()
    );
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    assert_eq!(
        root.bench.tokens[0].dump()["credentials"],
        before["credentials"],
        "the credential is untouched"
    );
    root.assert_ykman_code(DEFAULT_LABEL, &theirs);
    root.assert_no_leak(&[&seed]);
}

/// `ykmfa ARGS` on a pseudo-terminal (`script`), typed at like a person would.
struct Pty {
    child: std::process::Child,
    input: std::process::ChildStdin,
    screen: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Pty {
    fn start(root: &Root, args: &[&str]) -> Pty {
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let mut line = format!(
            "exec {}",
            quote(&support::ykmfa_bin().display().to_string())
        );
        for a in args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let mut cmd = Command::new("script");
        // -e: ykmfa's exit code; -f: flush at once. `exec`: Ctrl-C reaches ykmfa, not a shell.
        cmd.args(["-qefc", &line, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TERM", "xterm")
            .env("RUST_LOG", "trace")
            .env("YKMFA_LOG_FORMAT", "json")
            .envs(root.bench.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("script (util-linux)");
        let input = child.stdin.take().expect("stdin");
        let mut output = child.stdout.take().expect("stdout");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let sink = screen.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("screen").extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            child,
            input,
            screen,
            reader: Some(reader),
        }
    }

    fn text(&self) -> String {
        support::text(&self.screen.lock().expect("screen"))
    }

    /// Waits until the screen shows `what` (after the first `after` bytes).
    fn expect(&self, what: &str, after: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen.lock().expect("screen").clone();
            let tail = support::text(&screen[after.min(screen.len())..]);
            if let Some(i) = tail.find(what) {
                return after + i + what.len();
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what:?}; the screen shows:\n{}",
                support::text(&screen)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.input.write_all(bytes).expect("type");
        self.input.flush().expect("flush");
    }

    /// Waits for ykmfa to end; records the screen for the seed scan.
    fn finish(mut self, root: &Root, name: &str) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "ykmfa did not end:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Some(r) = self.reader.take() {
            r.join().expect("reader");
        }
        let screen = self.screen.lock().expect("screen").clone();
        root.record(format!("terminal of {name}"), &screen);
        (status.code(), support::text(&screen))
    }
}

/// Starts `ykmfa enroll --root` on a terminal, types the secret at the no-echo prompt, and waits
/// for the question after the codes. Returns the terminal and where the question ended.
fn at_the_question(root: &Root, seed: &str) -> (Pty, usize) {
    let mut pty = Pty::start(root, &["enroll", "--root", "--account", ACCOUNT]);
    let at = pty.expect("not shown as you type): ", 0);
    // The prompt is printed just before echo goes off: give it a moment.
    std::thread::sleep(Duration::from_millis(300));
    pty.send(format!("{seed}\n").as_bytes());
    let at = pty.expect("[y/n] ", at);
    assert_eq!(root.names(), [DEFAULT_LABEL], "written before the question");
    (pty, at)
}

#[test]
fn answering_n_removes_the_credential() {
    let root = Root::start();
    let seed = new_seed();
    let (mut pty, _) = at_the_question(&root, &seed);
    pty.send(b"n\n");
    let (code, screen) = pty.finish(&root, "answer n");
    assert_eq!(code, Some(1), "{screen}");
    assert!(screen.contains("did not accept the codes"), "{screen}");
    assert!(
        screen.contains("nothing is left of this attempt"),
        "{screen}"
    );
    assert!(root.names().is_empty(), "{:?}", root.names());
    root.assert_no_leak(&[&seed]);
}

#[test]
fn ctrl_c_at_the_question_removes_the_credential() {
    let root = Root::start();
    let seed = new_seed();
    let (mut pty, _) = at_the_question(&root, &seed);
    pty.send(b"\x03");
    let (code, screen) = pty.finish(&root, "Ctrl-C");
    assert_eq!(code, Some(130), "{screen}");
    assert!(
        screen.contains("nothing is left of this attempt"),
        "{screen}"
    );
    assert!(root.names().is_empty(), "{:?}", root.names());
    root.assert_no_leak(&[&seed]);
}

#[test]
fn answering_y_keeps_it_and_an_empty_answer_asks_again() {
    let root = Root::start();
    let seed = new_seed();
    let (mut pty, at) = at_the_question(&root, &seed);
    pty.send(b"\n");
    let at = pty.expect("Please answer y or n.", at);
    pty.expect("[y/n] ", at);
    pty.send(b"y\n");
    let (code, screen) = pty.finish(&root, "answer y");
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains("Done: the root user's MFA is on"),
        "{screen}"
    );
    assert_eq!(root.names(), [DEFAULT_LABEL]);
    root.assert_ykman_code(DEFAULT_LABEL, &seed);
    root.assert_no_leak(&[&seed]);
}
