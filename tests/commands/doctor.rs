//! `ykmfa doctor` on the bench: each state a user meets (pcscd stopped, hung or gone, no token,
//! two tokens, a token another program holds, a locked token, a host clock off by five minutes
//! under libfaketime, no AWS credentials, a user or role lacking permissions, the policy
//! simulator denied) and the line doctor gives it, with its status and exit code.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use support::{text, venv_bin, Bench, Spec, YubiKeySpec, YUBIKEY_SERIAL};

const ACCOUNT: &str = "123456789012";

/// One doctor run: its JSON report, exit code and stderr.
struct Report {
    json: Value,
    code: Option<i32>,
    stderr: String,
}

impl Report {
    fn check(&self, id: &str) -> &Value {
        self.json["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no check {id} in {:#}", self.json))
    }

    fn status(&self, id: &str) -> &str {
        self.check(id)["status"].as_str().expect("status")
    }

    fn detail(&self, id: &str) -> &str {
        self.check(id)["detail"].as_str().expect("detail")
    }

    fn fixes(&self, id: &str) -> Vec<String> {
        self.check(id)["fix"]
            .as_array()
            .expect("fix")
            .iter()
            .map(|f| f.as_str().expect("str").to_owned())
            .collect()
    }
}

fn parse(code: Option<i32>, stdout: &str, stderr: String) -> Report {
    let json: Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("doctor --json: {e}\nstdout: {stdout}\nstderr: {stderr}"));
    assert_eq!(json["schema"], "ykmfa.doctor/1");
    assert_eq!(
        json["exit_code"].as_i64(),
        code.map(i64::from),
        "the JSON names the exit code"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    Report { json, code, stderr }
}

/// `ykmfa doctor --json ARGS` with extra environment.
fn doctor(bench: &Bench, args: &[&str], env: &[(&str, &str)]) -> Report {
    let mut all = vec!["doctor", "--json"];
    all.extend_from_slice(args);
    let run = bench.run_with(&all, env);
    parse(run.code, &run.stdout, run.human())
}

/// `ykmfa doctor ARGS` as a person sees it: the report on stdout, without logs.
fn human(bench: &Bench, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["doctor"];
    all.extend_from_slice(args);
    let out = bench.ykmfa(&all).output().expect("run ykmfa");
    let stdout = text(&out.stdout);
    for line in stdout.lines() {
        assert!(
            line.chars().count() <= 80,
            "wider than 80 columns: {line:?}"
        );
    }
    assert!(!stdout.contains('\x1b'), "no colour off a terminal");
    (out.status.code(), stdout, text(&out.stderr))
}

fn line<'a>(report: &'a str, start: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{report}"))
}

fn no_iam(yubikeys: Vec<YubiKeySpec>) -> Bench {
    Bench::start(Spec {
        yubikeys,
        nitrokey: false,
        iam: false,
    })
}

fn yubikey(serial: u32) -> YubiKeySpec {
    YubiKeySpec {
        serial,
        ..YubiKeySpec::default()
    }
}

#[test]
fn pcscd_that_hangs_then_dies_then_is_gone() {
    let bench = no_iam(vec![YubiKeySpec::default()]);
    let fine = doctor(&bench, &["--no-aws"], &[]);
    assert_eq!(fine.code, Some(0), "{:#}", fine.json);
    for id in [
        "pcscd",
        "readers",
        "tokens",
        "polkit",
        "token-in-use",
        "oath-password",
    ] {
        assert_eq!(fine.status(id), "ok", "{id}: {:#}", fine.json);
    }
    assert_eq!(fine.status("credentials"), "skip");
    assert_eq!(fine.detail("credentials"), "--no-aws");

    // Stopped (SIGSTOP): connects, never answers. doctor says so instead of hanging.
    let pid = bench.pcscd_pid().to_string();
    let signal = |sig: &str| {
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
    };
    signal("-STOP");
    let hung = doctor(&bench, &["--no-aws"], &[]);
    signal("-CONT");
    assert_eq!(hung.code, Some(4), "{:#}", hung.json);
    assert_eq!(hung.status("pcscd"), "fail");
    assert!(
        hung.detail("pcscd")
            .starts_with("pcscd did not answer within 5 s"),
        "{}",
        hung.detail("pcscd")
    );
    assert!(hung.fixes("pcscd")[0].contains("restart"));
    assert_eq!(hung.status("readers"), "skip");

    // Killed: its socket stays behind, which doctor names (running as root, polkit can't be it).
    bench.kill_pcscd();
    assert!(bench.socket.exists());
    let stale = doctor(&bench, &["--no-aws"], &[]);
    assert_eq!(stale.code, Some(4));
    assert_eq!(stale.status("pcscd"), "fail");
    assert!(
        stale
            .detail("pcscd")
            .contains("left from a pcscd that stopped"),
        "{}",
        stale.detail("pcscd")
    );
    for id in [
        "readers",
        "tokens",
        "polkit",
        "token-in-use",
        "oath-password",
    ] {
        assert_eq!(stale.status(id), "skip", "{id}");
    }

    // Gone, socket and all.
    std::fs::remove_file(&bench.socket).expect("remove the socket");
    let gone = doctor(&bench, &["--no-aws"], &[]);
    assert_eq!(gone.code, Some(4));
    assert!(
        gone.detail("pcscd")
            .starts_with("the PC/SC service (pcscd) is not running: no socket at"),
        "{}",
        gone.detail("pcscd")
    );
    assert!(gone.fixes("pcscd")[0].contains("systemctl start pcscd.socket"));
    let (code, report, stderr) = human(&bench, &["--no-aws"]);
    assert_eq!(code, Some(4));
    assert!(
        line(&report, "fail  pcscd").contains("is not running"),
        "{report}"
    );
    assert!(report.contains("fix: start it: sudo systemctl start pcscd.socket"));
    assert!(line(&report, "skip  readers").contains("needs pcscd"));
    assert!(stderr.contains("error: 1 check failed: pcscd"), "{stderr}");
}

#[test]
fn no_reader_and_no_token() {
    let bench = no_iam(vec![]);
    let r = doctor(&bench, &["--no-aws"], &[]);
    assert_eq!(r.code, Some(0), "warnings only: {:#}", r.json);
    assert_eq!(r.status("pcscd"), "ok");
    assert_eq!(r.status("readers"), "warn");
    assert_eq!(r.status("tokens"), "warn");
    assert_eq!(
        r.detail("tokens"),
        "no token with an OATH application is connected"
    );
    assert!(r.fixes("tokens")[0].starts_with("insert your YubiKey"));
    assert_eq!(r.status("oath-password"), "skip");
    assert_eq!(
        r.json["summary"],
        json!({"ok": 3, "warn": 2, "fail": 0, "skip": 9})
    );
    let (code, report, stderr) = human(&bench, &["--no-aws"]);
    assert_eq!(code, Some(0));
    assert!(
        line(&report, "warn  tokens").contains("no token"),
        "{report}"
    );
    assert!(
        stderr.contains("Nothing failed; 2 warnings above."),
        "{stderr}"
    );
}

#[test]
fn two_tokens_are_listed_and_need_serial() {
    let bench = no_iam(vec![yubikey(11_111_111), yubikey(22_222_222)]);
    let r = doctor(&bench, &["--no-aws"], &[]);
    assert_eq!(r.code, Some(0));
    assert_eq!(r.status("tokens"), "warn");
    let detail = r.detail("tokens");
    assert!(detail.starts_with("2 tokens: YubiKey 11111111"), "{detail}");
    assert!(detail.contains("YubiKey 22222222"), "{detail}");
    assert!(detail.contains("need --serial"), "{detail}");
    assert_eq!(
        r.fixes("tokens")[0],
        "pass --serial to say which, e.g. --serial 11111111"
    );
    let serials: Vec<&Value> = r.check("tokens")["data"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|t| &t["serial"])
        .collect();
    assert_eq!(serials, [&json!(11_111_111), &json!(22_222_222)]);
    assert!(r
        .detail("oath-password")
        .contains("YubiKey 22222222: no password"));
}

/// Holds the card in `reader` exclusively, as GnuPG's scdaemon does, from a process whose name
/// is `scdaemon` (pyscard, from the bench's virtualenv, started through a link of that name).
fn hold_exclusively(bench: &Bench, reader: &str) -> std::process::Child {
    let python = venv_bin("python");
    let link = bench.dir.join("scdaemon");
    std::os::unix::fs::symlink(&python, &link).expect("symlink");
    let site = std::fs::read_dir(support::state_dir().join("venv/lib"))
        .expect("venv lib")
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.exists())
        .expect("site-packages");
    let script = r#"
import sys, time
from smartcard.scard import *
hr, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
assert hr == SCARD_S_SUCCESS, SCardGetErrorMessage(hr)
hr, card, proto = SCardConnect(ctx, sys.argv[1], SCARD_SHARE_EXCLUSIVE, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1)
assert hr == SCARD_S_SUCCESS, SCardGetErrorMessage(hr)
print("held", flush=True)
time.sleep(300)
"#;
    let mut c = Command::new("setpriv");
    c.args(["--pdeathsig", "KILL", "--"])
        .arg(&link)
        .args(["-c", script, reader])
        .env("PYTHONPATH", site)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in bench.env() {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("start the holder");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("holder");
    assert_eq!(first.trim(), "held", "the holder did not get the card");
    child
}

#[test]
fn a_token_held_by_scdaemon_is_named_with_its_fix() {
    let bench = no_iam(vec![YubiKeySpec::default()]);
    let reader = bench.tokens[0].reader.clone();
    let mut holder = hold_exclusively(&bench, &reader);
    let r = doctor(&bench, &["--no-aws"], &[]);
    let (code, report, _) = human(&bench, &["--no-aws"]);
    let _ = holder.kill();
    let _ = holder.wait();

    assert_eq!(r.code, Some(4), "{:#}", r.json);
    assert_eq!(r.status("token-in-use"), "fail");
    let detail = r.detail("token-in-use");
    assert!(detail.contains(&reader), "{detail}");
    assert!(
        detail.contains(&format!("GnuPG's scdaemon (pid {})", holder.id())),
        "{detail}"
    );
    // Other programs known to take tokens may run on this machine too: each gets its fix.
    assert!(
        r.fixes("token-in-use")
            .iter()
            .any(|f| f.starts_with("gpgconf --kill scdaemon")),
        "{:?}",
        r.fixes("token-in-use")
    );
    assert_eq!(r.status("tokens"), "warn");
    assert!(
        r.detail("tokens").contains("not readable"),
        "{}",
        r.detail("tokens")
    );
    assert_eq!(code, Some(4));
    assert!(line(&report, "fail  token in use").contains("another program holds"));
    assert!(report.contains("fix: gpgconf --kill scdaemon"), "{report}");

    // Let go, the token is there again (once pcscd has noticed the holder is gone).
    support::wait_for(Duration::from_secs(10), "pcscd to release the card", || {
        doctor(&bench, &["--no-aws"], &[]).status("token-in-use") == "ok"
    });
    assert_eq!(doctor(&bench, &["--no-aws"], &[]).status("tokens"), "ok");
}

#[test]
fn a_locked_token_says_how_to_unlock_and_checks_the_password_given() {
    let bench = no_iam(vec![YubiKeySpec::default()]);
    let reader = bench.tokens[0].reader.clone();
    bench.ykman_ok(
        &reader,
        &["oath", "access", "change", "--new-password", "hunter2"],
    );

    let locked = doctor(&bench, &["--no-aws"], &[]);
    assert_eq!(
        locked.code,
        Some(0),
        "a password is a warning: {:#}",
        locked.json
    );
    assert_eq!(locked.status("oath-password"), "warn");
    assert_eq!(
        locked.detail("oath-password"),
        format!("YubiKey {YUBIKEY_SERIAL}: locked by an OATH password")
    );
    assert!(locked.fixes("oath-password")[0].contains("YKMFA_OATH_PASSWORD"));

    let wrong = doctor(&bench, &["--no-aws"], &[("YKMFA_OATH_PASSWORD", "hunter3")]);
    assert_eq!(wrong.code, Some(5), "{:#}", wrong.json);
    assert_eq!(wrong.status("oath-password"), "fail");
    assert!(wrong.detail("oath-password").contains("does not unlock"));

    let right = doctor(&bench, &["--no-aws"], &[("YKMFA_OATH_PASSWORD", "hunter2")]);
    assert_eq!(right.code, Some(0));
    assert_eq!(right.status("oath-password"), "ok");
    assert!(right
        .detail("oath-password")
        .contains("YKMFA_OATH_PASSWORD unlocks it"));
    for r in [&locked, &wrong, &right] {
        let all = format!("{}{}", r.json, r.stderr);
        assert!(!all.contains("hunter"), "the password is never shown");
    }
}

/// A user with an access key, and the policy given.
fn user_with_key(bench: &Bench, name: &str, policy: Value) -> (String, String) {
    bench.aws(&["iam", "create-user", "--user-name", name]);
    bench.aws(&[
        "iam",
        "put-user-policy",
        "--user-name",
        name,
        "--policy-name",
        "ykmfa",
        "--policy-document",
        &policy.to_string(),
    ]);
    let key = bench.aws(&["iam", "create-access-key", "--user-name", name]);
    (
        key["AccessKey"]["AccessKeyId"]
            .as_str()
            .expect("id")
            .to_owned(),
        key["AccessKey"]["SecretAccessKey"]
            .as_str()
            .expect("secret")
            .to_owned(),
    )
}

fn allow(actions: &[&str]) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
}

fn iam_bench() -> Bench {
    Bench::start(Spec {
        yubikeys: vec![YubiKeySpec::default()],
        nitrokey: false,
        iam: true,
    })
}

#[test]
fn a_clock_five_minutes_ahead_under_faketime() {
    let bench = iam_bench();
    let (id, secret) = user_with_key(&bench, "admin", allow(&["iam:*"]));
    let keys = [
        ("AWS_ACCESS_KEY_ID", id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
    ];
    let in_sync = doctor(&bench, &[], &keys);
    assert_eq!(in_sync.code, Some(0), "{:#}", in_sync.json);
    assert_eq!(in_sync.status("clock"), "ok");

    // libfaketime moves every clock of the process (the runtime's worker threads too).
    let mut c = Command::new("faketime");
    c.args(["-f", "+300"])
        .arg(support::ykmfa_bin())
        .args(["doctor", "--json"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in bench.env() {
        c.env(k, v);
    }
    for (k, v) in keys {
        c.env(k, v);
    }
    let out = c.output().expect("faketime (Debian package faketime)");
    let skewed = parse(out.status.code(), &text(&out.stdout), text(&out.stderr));
    assert_eq!(skewed.status("clock"), "fail", "{:#}", skewed.json);
    let detail = skewed.detail("clock");
    assert!(
        detail.contains("s ahead of AWS's: codes computed here are refused"),
        "{detail}"
    );
    let seconds = skewed.check("clock")["data"]["skew_seconds"]
        .as_f64()
        .expect("seconds");
    assert!((298.0..=302.0).contains(&seconds), "{seconds}");
    assert!(skewed.fixes("clock")[0].contains("timedatectl set-ntp true"));
    assert_eq!(skewed.code, Some(1), "the clock is the first failure");
    // Everything else still works under the shifted clock.
    for id in ["pcscd", "tokens", "credentials", "identity", "iam.enroll"] {
        assert_eq!(skewed.status(id), "ok", "{id}: {:#}", skewed.json);
    }
}

#[test]
fn without_aws_credentials_or_an_answer() {
    let bench = iam_bench();
    let mut c = bench.ykmfa(&["doctor", "--json"]);
    c.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let out = c.output().expect("run");
    let r = parse(out.status.code(), &text(&out.stdout), text(&out.stderr));
    assert_eq!(r.code, Some(6), "{:#}", r.json);
    assert_eq!(r.status("credentials"), "fail");
    assert!(
        r.detail("credentials")
            .starts_with("no usable AWS credentials"),
        "{}",
        r.detail("credentials")
    );
    assert!(r.fixes("credentials")[0].contains("aws configure"));
    for id in ["clock", "identity", "iam.enroll", "iam.audit"] {
        assert_eq!(r.status(id), "skip", "{id}");
    }
    assert!(r.detail("identity").contains("needs AWS credentials"));
    assert_eq!(r.status("tokens"), "ok", "the machine is still checked");

    // An endpoint that never answers: doctor ends, with the lines saying so.
    bench.iam_fault(
        json!({"action": "GetCallerIdentity", "kind": "delay", "delay_ms": 60000,
                           "count": "always"}),
    );
    let r = doctor(&bench, &["--timeout", "2"], &[]);
    assert_eq!(r.code, Some(6), "{:#}", r.json);
    assert_eq!(r.status("credentials"), "ok");
    assert_eq!(r.status("identity"), "fail");
    assert!(
        r.detail("identity").contains("no answer from AWS in time")
            || r.detail("identity").contains("did not answer within 2 s"),
        "{}",
        r.detail("identity")
    );
    assert_eq!(r.status("clock"), "warn", "{}", r.detail("clock"));
    assert_eq!(r.status("iam.enroll"), "skip");
}

#[test]
fn permissions_by_the_policy_simulator() {
    let bench = Bench::start(Spec {
        yubikeys: vec![],
        nitrokey: false,
        iam: true,
    });
    // An administrator: every command allowed.
    let (admin, admin_secret) = user_with_key(&bench, "admin", allow(&["iam:*"]));
    let admin_keys = [
        ("AWS_ACCESS_KEY_ID", admin.as_str()),
        ("AWS_SECRET_ACCESS_KEY", admin_secret.as_str()),
    ];
    let r = doctor(&bench, &[], &admin_keys);
    assert_eq!(r.status("identity"), "ok");
    assert_eq!(
        r.detail("identity"),
        format!("arn:aws:iam::{ACCOUNT}:user/admin (account {ACCOUNT})")
    );
    assert_eq!(
        r.detail("credentials"),
        "from environment variables (AWS_ACCESS_KEY_ID)"
    );
    for command in ["enroll", "resync", "revoke", "status", "audit"] {
        assert_eq!(
            r.status(&format!("iam.{command}")),
            "ok",
            "{command}: {:#}",
            r.json
        );
    }
    assert_eq!(r.code, Some(0));

    // A user who may enroll but not enable (so not at all) nor delete (no undo), and no tags.
    let (bob, bob_secret) = user_with_key(
        &bench,
        "bob",
        allow(&[
            "iam:GetUser",
            "iam:ListMFADevices",
            "iam:CreateVirtualMFADevice",
            "iam:DeactivateMFADevice",
            "iam:ResyncMFADevice",
            "iam:ListAccountAliases",
            "iam:ListVirtualMFADevices",
            "iam:ListMFADeviceTags",
        ]),
    );
    let bob_keys = [
        ("AWS_ACCESS_KEY_ID", bob.as_str()),
        ("AWS_SECRET_ACCESS_KEY", bob_secret.as_str()),
    ];
    let r = doctor(&bench, &[], &bob_keys);
    assert_eq!(r.code, Some(6), "{:#}", r.json);
    assert_eq!(r.status("iam.enroll"), "fail");
    let enroll = r.detail("iam.enroll");
    assert!(
        enroll.starts_with("not allowed: iam:EnableMFADevice, iam:DeleteVirtualMFADevice"),
        "{enroll}"
    );
    assert!(
        enroll.contains("optional, not allowed (it does less without them): iam:TagMFADevice"),
        "{enroll}"
    );
    assert_eq!(
        r.fixes("iam.enroll")[0],
        "ask an administrator to allow iam:EnableMFADevice, iam:DeleteVirtualMFADevice"
    );
    assert_eq!(r.status("iam.resync"), "ok", "{}", r.detail("iam.resync"));
    assert_eq!(r.status("iam.revoke"), "fail");
    assert!(r
        .detail("iam.revoke")
        .contains("iam:DeleteVirtualMFADevice"));
    assert_eq!(r.status("iam.audit"), "fail");
    assert!(r.detail("iam.audit").contains("iam:GetAccountSummary"));
    // --for limits the lines to the commands named.
    let only = doctor(&bench, &["--for", "resync,status"], &bob_keys);
    let ids: Vec<&str> = only.json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["id"].as_str().filter(|i| i.starts_with("iam.")))
        .collect();
    assert_eq!(ids, ["iam.resync", "iam.status"]);
    assert_eq!(only.code, Some(0));
    // The human report: the line and the fix, and never a key.
    let mut c = bench.ykmfa(&["doctor"]);
    for (k, v) in bob_keys {
        c.env(k, v);
    }
    let out = c.output().expect("run");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        line(&stdout, "fail  iam: enroll").contains("not allowed: iam:EnableMFADevice"),
        "{stdout}"
    );
    for secret in [&bob, &bob_secret] {
        assert!(!stdout.contains(secret.as_str()) && !stderr.contains(secret.as_str()));
    }

    // A role with a path, through an assumed-role session: GetRole finds its ARN.
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]});
    bench.aws(&[
        "iam",
        "create-role",
        "--role-name",
        "Auditor",
        "--path",
        "/ops/",
        "--assume-role-policy-document",
        &trust.to_string(),
    ]);
    bench.aws(&[
        "iam",
        "put-role-policy",
        "--role-name",
        "Auditor",
        "--policy-name",
        "read",
        "--policy-document",
        &allow(&["iam:Get*", "iam:List*"]).to_string(),
    ]);
    let session = bench.aws(&[
        "sts",
        "assume-role",
        "--role-arn",
        &format!("arn:aws:iam::{ACCOUNT}:role/ops/Auditor"),
        "--role-session-name",
        "doctor",
    ]);
    let creds = &session["Credentials"];
    let role_keys = [
        (
            "AWS_ACCESS_KEY_ID",
            creds["AccessKeyId"].as_str().expect("id"),
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            creds["SecretAccessKey"].as_str().expect("secret"),
        ),
        (
            "AWS_SESSION_TOKEN",
            creds["SessionToken"].as_str().expect("token"),
        ),
    ];
    let r = doctor(&bench, &[], &role_keys);
    assert!(
        r.detail("identity")
            .contains(":assumed-role/Auditor/doctor"),
        "{}",
        r.detail("identity")
    );
    assert_eq!(
        r.check("iam.audit")["data"]["principal"],
        format!("arn:aws:iam::{ACCOUNT}:role/ops/Auditor")
    );
    assert_eq!(r.status("iam.audit"), "ok", "{:#}", r.json);
    assert_eq!(r.status("iam.enroll"), "fail");
    assert!(r
        .detail("iam.enroll")
        .contains("iam:CreateVirtualMFADevice"));

    // The simulator itself denied: what each command needs, instead.
    bench.iam_fault(
        json!({"action": "SimulatePrincipalPolicy", "code": "AccessDenied", "count": "always"}),
    );
    let r = doctor(&bench, &[], &bob_keys);
    assert_eq!(r.status("iam.simulator"), "warn");
    assert!(r
        .detail("iam.simulator")
        .contains("iam:SimulatePrincipalPolicy is not allowed"));
    assert_eq!(r.status("iam.enroll"), "skip");
    assert!(
        r.detail("iam.enroll")
            .starts_with("needs iam:GetUser, iam:ListMFADevices, iam:CreateVirtualMFADevice"),
        "{}",
        r.detail("iam.enroll")
    );
    assert!(r.detail("iam.audit").contains("iam:GetAccountSummary"));
    assert_eq!(r.code, Some(0), "nothing known to fail: {:#}", r.json);
}
