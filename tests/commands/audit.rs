//! `ykmfa audit` against the strict IAM endpoint of the bench: a neglected account (root without
//! MFA and with access keys, a weak password policy, users with 0, 1 and 2 devices, a console
//! user without MFA, an orphan made by ykmfa) and a second, well-kept account, each in its own
//! AWS account on one server. The human table, the `ykmfa.audit/1` JSON field by field, the
//! `--fail-on` exit codes, the calls made, and denied permissions.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use support::{Bench, Run, Spec};

const A: &str = "123456789012";
const A_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const B: &str = "111111111111";
const B_KEY: &str = "AKIARTXV5AHDQBENCHKY";

/// Seeds one account through boto3 in one process (an AWS CLI process per call would take a
/// second each). Devices are created and enabled with real codes; seeds never leave the script.
const SEED: &str = r#"
import base64, hashlib, hmac, json, struct, sys, time
import boto3
spec = json.load(sys.stdin)
iam = boto3.client("iam", endpoint_url=spec["endpoint"], region_name="us-east-1",
                   aws_access_key_id=spec["key"], aws_secret_access_key="bench")
def code(seed, step):
    seed = seed.decode() if isinstance(seed, bytes) else seed
    key = base64.b32decode(seed + "=" * (-len(seed) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)
def create(name, tags=()):
    d = iam.create_virtual_mfa_device(VirtualMFADeviceName=name,
        Tags=[{"Key": k, "Value": v} for k, v in tags])["VirtualMFADevice"]
    return d["SerialNumber"], d["Base32StringSeed"]
out = {"devices": {}, "orphans": [], "root": None}
for u in spec["users"]:
    iam.create_user(UserName=u["name"])
    if u.get("console"):
        iam.create_login_profile(UserName=u["name"], Password="Bench-pass-1234!")
    out["devices"][u["name"]] = []
    for i in range(u.get("devices", 0)):
        serial, seed = create("%s-%d" % (u["name"], i))
        step = int(time.time()) // 30
        iam.enable_mfa_device(UserName=u["name"], SerialNumber=serial,
            AuthenticationCode1=code(seed, step - 1), AuthenticationCode2=code(seed, step))
        out["devices"][u["name"]].append(serial)
for o in spec.get("orphans", []):
    out["orphans"].append(create(o["name"], o.get("tags", {}).items())[0])
if spec.get("root_device"):
    out["root"] = create(spec["root_device"], spec.get("root_tags", {}).items())[0]
if spec.get("policy") is not None:
    iam.update_account_password_policy(**spec["policy"])
json.dump(out, sys.stdout)
"#;

fn seed(bench: &Bench, key: &str, spec: Value) -> Value {
    let mut spec = spec;
    spec["endpoint"] = json!(bench.iam.as_ref().expect("iam").url);
    spec["key"] = json!(key);
    let mut child = Command::new(support::venv_bin("python"))
        .args(["-c", SEED])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(spec.to_string().as_bytes())
        .expect("spec");
    let out = child.wait_with_output().expect("seed script");
    assert!(
        out.status.success(),
        "seeding failed: {}",
        support::text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("seed output")
}

/// The neglected account A and the well-kept account B on one bench (no tokens: the audit
/// reads IAM only).
fn bench() -> (Bench, Value, Value) {
    let bench = Bench::start(Spec {
        iam: true,
        ..Spec::default()
    });
    let a = seed(
        &bench,
        A_KEY,
        json!({
            "users": [
                {"name": "nomfa", "console": true, "devices": 0},
                {"name": "robot", "console": false, "devices": 0},
                {"name": "solo", "console": true, "devices": 1},
                {"name": "pair", "console": true, "devices": 2},
            ],
            "orphans": [{"name": "alice-yk12345678", "tags": {
                "ykmfa:token-serial": "12345678",
                "ykmfa:token-kind": "YubiKey",
                "ykmfa:credential": "Amazon Web Services:alice@123456789012",
            }}],
            "policy": {"MinimumPasswordLength": 8, "RequireNumbers": true,
                       "PasswordReusePrevention": 5, "AllowUsersToChangePassword": true},
        }),
    );
    // Root: no MFA device, and an access key.
    bench.iam_call(
        "POST",
        "/_bench/root",
        json!({"account": A, "add_access_key_id": "AKIAROOTKEYAUDITBENCH"}),
    );
    let b = seed(
        &bench,
        B_KEY,
        json!({
            "users": [
                {"name": "ann", "console": true, "devices": 2},
                {"name": "ben", "console": false, "devices": 1},
            ],
            "root_device": "root-account-mfa-device",
            "root_tags": {"ykmfa:token-serial": "87654321", "ykmfa:token-kind": "YubiKey"},
            "policy": {"MinimumPasswordLength": 16, "RequireNumbers": true,
                       "RequireSymbols": true, "RequireUppercaseCharacters": true,
                       "RequireLowercaseCharacters": true, "PasswordReusePrevention": 24,
                       "AllowUsersToChangePassword": true},
        }),
    );
    let root_device = b["root"].as_str().expect("root device").to_owned();
    bench.iam_call(
        "POST",
        "/_bench/root",
        json!({"account": B, "assign_device": root_device}),
    );
    (bench, a, b)
}

fn audit(bench: &Bench, key: &str, args: &[&str]) -> Run {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    bench.run_with(&all, &[("AWS_ACCESS_KEY_ID", key)])
}

fn json_of(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.human()))
}

/// (check, severity, subject) of every finding, in the report's order.
fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["check"].as_str().expect("check").to_owned(),
                f["severity"].as_str().expect("severity").to_owned(),
                f["subject"].as_str().expect("subject").to_owned(),
            )
        })
        .collect()
}

fn row(check: &str, severity: &str, subject: &str) -> (String, String, String) {
    (check.into(), severity.into(), subject.into())
}

#[test]
fn audits_a_seeded_account_and_a_clean_one() {
    let (bench, a, _b) = bench();
    let orphan = a["orphans"][0].as_str().expect("orphan").to_owned();
    assert_eq!(orphan, format!("arn:aws:iam::{A}:mfa/alice-yk12345678"));

    // ---- account A, JSON, field by field ----
    let run = audit(&bench, A_KEY, &["--json"]);
    assert_eq!(
        run.code,
        Some(0),
        "no --fail-on: exit 0 whatever the findings\n{}",
        run.human()
    );
    let r = json_of(&run);
    assert_eq!(r["schema"], "ykmfa.audit/1");
    assert_eq!(r["account"], A);
    assert!(
        r["baseline"]
            .as_str()
            .unwrap()
            .starts_with("CIS AWS Foundations Benchmark v3.0.0"),
        "{}",
        r["baseline"]
    );
    assert_eq!(
        r["root"],
        json!({"mfa": "none", "mfa_device": null, "access_keys_present": true,
               "mfa_device_kind": null, "hardware_mfa": false})
    );
    // Every user device has a kind: the seeded ones are untagged, so of unknown origin.
    let kinds: Vec<(&str, &str)> = r["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| (d["user"].as_str().unwrap(), d["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("solo", "virtual"),
            ("pair", "virtual"),
            ("pair", "virtual")
        ]
    );
    assert_eq!(
        r["password_policy"],
        json!({
            "minimum_password_length": 8,
            "require_uppercase_characters": false,
            "require_lowercase_characters": false,
            "require_numbers": true,
            "require_symbols": false,
            "password_reuse_prevention": 5,
            "allow_users_to_change_password": true,
            "expire_passwords": false,
            "max_password_age": 0,
            "hard_expiry": false,
        })
    );
    assert_eq!(
        r["users"],
        json!({"total": 4, "with_mfa": 2, "without_mfa": 2, "console_without_mfa": 1, "single_device": 1})
    );
    assert_eq!(
        r["orphans"],
        json!([{
            "serial": orphan,
            "tags": {
                "ykmfa:token-serial": "12345678",
                "ykmfa:token-kind": "YubiKey",
                "ykmfa:credential": "Amazon Web Services:alice@123456789012",
            },
            "token": "YubiKey 12345678",
            "credential": "Amazon Web Services:alice@123456789012",
        }])
    );
    assert_eq!(
        findings(&r),
        vec![
            row("root-mfa-disabled", "critical", "root"),
            row("root-access-keys", "critical", "root"),
            row("console-without-mfa", "high", "nomfa"),
            row("password-policy-weak", "medium", "password-policy"),
            row("password-policy-weak", "low", "password-policy"),
            row("password-policy-weak", "low", "password-policy"),
            row("password-policy-weak", "low", "password-policy"),
            row("password-policy-weak", "low", "password-policy"),
            row("single-mfa-device", "low", "solo"),
            row("orphan-device", "low", &orphan),
        ]
    );
    let f = &r["findings"];
    assert_eq!(
        f[0],
        json!({
            "check": "root-mfa-disabled",
            "severity": "critical",
            "subject_kind": "root",
            "subject": "root",
            "summary": "the root user has no MFA device",
            "fix": "sign in to the console as root, open Security credentials and assign an MFA device; ykmfa writes its secret to a token",
            "command": format!("ykmfa enroll --root --account {A}"),
            "reference": "CIS v3.0.0 1.5",
        })
    );
    assert_eq!(f[2]["subject_kind"], "user");
    assert_eq!(f[2]["command"], "ykmfa enroll --user nomfa");
    assert_eq!(f[2]["reference"], "CIS v3.0.0 1.10");
    assert_eq!(f[3]["summary"], "minimum length 8, baseline 14");
    assert_eq!(
        f[4]["summary"],
        "remembers 5 previous passwords, baseline 24"
    );
    assert_eq!(
        f[3]["command"],
        "aws iam update-account-password-policy --minimum-password-length 14 --require-uppercase-characters --require-lowercase-characters --require-numbers --require-symbols --password-reuse-prevention 24 --allow-users-to-change-password"
    );
    assert_eq!(f[9]["subject_kind"], "device");
    assert_eq!(
        f[9]["command"],
        format!("aws iam delete-virtual-mfa-device --serial-number {orphan}")
    );
    assert!(
        f[9]["summary"]
            .as_str()
            .unwrap()
            .contains("made by ykmfa for YubiKey 12345678"),
        "{}",
        f[9]
    );
    assert_eq!(
        r["counts"],
        json!({"info": 0, "low": 6, "medium": 1, "high": 1, "critical": 2})
    );
    assert_eq!(r["fail_on"], Value::Null);
    assert_eq!(r["failing"], 0);

    // ---- account A, the human table ----
    let run = audit(&bench, A_KEY, &[]);
    let text = run.ok();
    for line in text.lines() {
        let unbreakable = line.split(' ').any(|w| w.len() > 40);
        assert!(
            line.chars().count() <= 80 || unbreakable,
            "wider than 80: {line}"
        );
    }
    for expected in [
        "Account 123456789012",
        "no MFA, access keys present",
        "critical  root",
        "high      nomfa",
        "low       solo",
        "low       mfa/alice-yk12345678",
        "aws iam delete-login-profile --user-name nomfa",
        "ykmfa enroll --user solo --serial SERIAL-OF-THE-SECOND-TOKEN",
    ] {
        assert!(
            text.contains(expected),
            "'{expected}' missing from:\n{text}"
        );
    }
    // The policy's five gaps share one fix, listed once (as a pasteable command).
    assert_eq!(
        text.matches("aws iam update-account-password-policy")
            .count(),
        1,
        "{text}"
    );
    assert!(
        !text.contains("robot"),
        "a user with neither MFA nor console is no finding:\n{text}"
    );

    // ---- account B: nothing at high level; root's MFA is virtual, ben has no backup ----
    let run = audit(&bench, B_KEY, &["--json", "--fail-on", "high"]);
    assert_eq!(run.code, Some(0), "{}", run.human());
    let r = json_of(&run);
    assert_eq!(r["account"], B);
    assert_eq!(r["root"]["mfa"], "virtual");
    assert_eq!(
        r["root"]["mfa_device"],
        format!("arn:aws:iam::{B}:mfa/root-account-mfa-device")
    );
    assert_eq!(r["root"]["access_keys_present"], false);
    // The token-held root device: virtual to AWS, so root fails the hardware-MFA control
    // (AWS Config root-account-hardware-mfa-enabled), and the finding says why.
    assert_eq!(r["root"]["mfa_device_kind"], "virtual-on-token");
    assert_eq!(r["root"]["hardware_mfa"], false);
    assert_eq!(r["devices"][0]["root"], true);
    assert_eq!(r["devices"][0]["kind"], "virtual-on-token");
    let root = &r["findings"][0];
    assert_eq!(root["check"], "root-mfa-virtual");
    let said = root["summary"].as_str().unwrap();
    assert!(
        said.starts_with("the root user does not meet the hardware-MFA control")
            && said.contains("ykmfa wrote the secret to a token")
            && said.contains("any virtual device fails the control"),
        "{said}"
    );
    assert_eq!(
        root["reference"],
        "CIS v3.0.0 1.6; AWS Config root-account-hardware-mfa-enabled"
    );
    assert_eq!(
        findings(&r),
        vec![
            row("root-mfa-virtual", "low", "root"),
            row("single-mfa-device", "low", "ben"),
        ]
    );
    assert_eq!(r["orphans"], json!([]));
    assert_eq!(r["fail_on"], "high");
    assert_eq!(r["failing"], 0);
    let run = audit(&bench, B_KEY, &[]);
    let text = run.ok();
    assert!(text.contains("meets the baseline"), "{}", run.stdout);
    assert!(
        text.contains("virtual MFA on a token (not hardware to AWS), no access keys"),
        "{text}"
    );

    bench.assert_no_seed_leaked();
}

#[test]
fn fail_on_sets_the_exit_code() {
    let (bench, _, _) = bench();
    // At or above: A has two critical findings, one high, one medium, six low.
    for (level, failing) in [
        ("critical", 2),
        ("high", 3),
        ("medium", 4),
        ("low", 10),
        ("info", 10),
    ] {
        let run = audit(&bench, A_KEY, &["--json", "--fail-on", level]);
        assert_eq!(run.code, Some(9), "--fail-on {level}: {}", run.human());
        let r = json_of(&run);
        assert_eq!(r["failing"], failing, "--fail-on {level}");
        assert!(
            run.human().contains(&format!(
                "{failing} findings at or above '{level}' (--fail-on {level})"
            )),
            "{}",
            run.human()
        );
    }
    // B's findings are all low.
    assert_eq!(audit(&bench, B_KEY, &["--fail-on", "medium"]).code, Some(0));
    assert_eq!(audit(&bench, B_KEY, &["--fail-on", "LOW"]).code, Some(9));

    let run = audit(&bench, A_KEY, &["--fail-on", "severe"]);
    assert_eq!(run.code, Some(2), "{}", run.human());
    assert!(
        run.human()
            .contains("use one of: info, low, medium, high, critical"),
        "{}",
        run.human()
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn calls_are_few_and_counted() {
    let (bench, _, _) = bench();
    bench.iam_call("POST", "/_bench/calls/reset", json!({}));
    let run = audit(&bench, A_KEY, &["-v", "--concurrency", "2"]);
    run.ok();
    let calls = bench.iam_call("GET", &format!("/_bench/calls?account={A}"), json!({}));
    let count = |action: &str| {
        calls["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["action"] == action && c["account"] == A)
            .count()
    };
    // One ListMFADevices per user; a login profile only for the two users without MFA; tags
    // for the one orphan and the three user devices (their kind).
    assert_eq!(count("ListUsers"), 1);
    assert_eq!(count("ListMFADevices"), 4);
    assert_eq!(count("GetLoginProfile"), 2);
    assert_eq!(count("ListMFADeviceTags"), 4);
    assert_eq!(count("ListVirtualMFADevices"), 1);
    assert_eq!(count("GetAccountSummary"), 1);
    assert_eq!(count("GetAccountPasswordPolicy"), 1);
    // -v says how many it made (GetCallerIdentity included).
    let line = run
        .human()
        .lines()
        .find(|l| l.contains("IAM/STS calls in"))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no call count under -v:\n{}", run.human()));
    assert!(line.starts_with("15 IAM/STS calls in "), "{line}");
    assert!(line.contains("at most 2 per-user calls at once"), "{line}");
}

#[test]
fn denied_permissions() {
    let (bench, _, _) = bench();
    // Without ListMFADeviceTags the audit goes on; the orphans' tags are unknown.
    bench.iam_fault(json!({"action": "ListMFADeviceTags", "code": "AccessDenied", "count": "always", "account": A}));
    let run = audit(&bench, A_KEY, &["--json"]);
    let r = json_of(&run);
    assert_eq!(run.code, Some(0), "{}", run.human());
    assert_eq!(r["orphans"][0]["tags"], Value::Null);
    assert_eq!(r["orphans"][0]["token"], Value::Null);
    assert!(
        run.human().contains("iam:ListMFADeviceTags was denied"),
        "{}",
        run.human()
    );
    // Without ListUsers there is no audit: exit 6 and the permission named.
    bench.iam_fault(json!({"action": "ListUsers", "code": "AccessDenied", "account": A}));
    let run = audit(&bench, A_KEY, &[]);
    assert_eq!(run.code, Some(6), "{}", run.human());
    assert!(run.human().contains("iam:ListUsers"), "{}", run.human());
    assert!(run.stdout.is_empty(), "no partial report: {}", run.stdout);
}
