//! `mfa_serial` in the AWS config file. Fixture files with comments, other profiles, SSO
//! sessions, nested sub-sections, tabs and odd spacing: after setting the key, every byte but
//! that key's line (or the inserted line) is as it was, and the AWS CLI's own parser (botocore,
//! from the bench's virtualenv) reads exactly one change. Then `ykmfa enroll` end to end on the
//! bench: `--write-mfa-serial`, the question on a terminal (answered yes and no), nothing written
//! unasked, and a broken config file left alone while the enrollment stands.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::{Bench, Spec, YubiKeySpec};
use ykmfa::aws_config::{Change, ConfigError, Edit};

const ARN: &str = "arn:aws:iam::123456789012:mfa/alice-yk12345678";

fn fixture(name: &str) -> PathBuf {
    support::workspace()
        .join("tests/fixtures/aws-config")
        .join(name)
}

/// A private copy of a fixture in a fresh directory.
fn copy_of(name: &str, test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ykmfa-awsconfig-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("config");
    std::fs::copy(fixture(name), &path).expect("copy fixture");
    path
}

/// The profiles as the AWS CLI reads them (botocore's own config loader).
fn botocore_profiles(path: &Path) -> Result<Value, String> {
    let out = Command::new(support::venv_bin("python"))
        .arg("-c")
        .arg(
            "import json, sys\nfrom botocore.configloader import load_config\n\
             print(json.dumps(load_config(sys.argv[1]).get('profiles', {})))",
        )
        .arg(path)
        .output()
        .expect("run botocore");
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).expect("json"))
    } else {
        Err(support::text(&out.stderr))
    }
}

/// `text` with `line` inserted after line `after` (1-based), written with the file's newline.
fn inserted(text: &str, after: usize, line: &str) -> String {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let new = format!("{line}{newline}");
    lines.insert(after, &new);
    lines.concat()
}

/// Sets mfa_serial in `profile` of a copy of `name` and checks the file byte for byte against
/// `expected(original)`, and botocore's reading against the original's plus that one key.
fn check(name: &str, profile: &str, change: Change, expected: impl Fn(&str) -> String) {
    let path = copy_of(name, &format!("{name}-{profile}"));
    let original = std::fs::read_to_string(&path).expect("read");
    let before = botocore_profiles(&path).expect("botocore reads the fixture");

    let edit = Edit::plan(&path, profile, "mfa_serial", ARN).expect("plan");
    assert_eq!(edit.change, change, "{name} [{profile}]");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        original,
        "planning wrote"
    );
    edit.apply().expect("apply");

    let after_text = std::fs::read_to_string(&path).expect("read");
    assert_eq!(after_text, expected(&original), "{name} [{profile}]");
    let mut want = before;
    want[profile]["mfa_serial"] = Value::String(ARN.into());
    assert_eq!(
        botocore_profiles(&path).expect("botocore reads the result"),
        want
    );
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers, ["config"], "temporary files left behind");
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

#[test]
fn adds_the_key_after_a_nested_sub_section_in_the_sections_style() {
    // [profile dev]'s last line is the nested `multipart_threshold` (line 16); its style is
    // `credential_process = ...` (the `s3 =` line has no value to copy spacing from).
    check("odd.ini", "dev", Change::Added, |t| {
        inserted(t, 16, &format!("mfa_serial = {ARN}"))
    });
}

#[test]
fn replaces_an_existing_key_keeping_its_case_and_spacing() {
    check(
        "odd.ini",
        "ops",
        Change::Replaced {
            previous: "arn:aws:iam::333333333333:mfa/ops-old".into(),
        },
        |t| {
            t.replacen(
                "MFA_Serial   =   arn:aws:iam::333333333333:mfa/ops-old   \n",
                &format!("MFA_Serial   =   {ARN}   \n"),
                1,
            )
        },
    );
}

#[test]
fn the_default_profile_and_tabs_around_the_equals_sign() {
    // [default] ends with `cli_pager =` (line 7); the last key with a value is `output=json`.
    check("odd.ini", "default", Change::Added, |t| {
        inserted(t, 7, &format!("mfa_serial={ARN}"))
    });
    check("odd.ini", "tabbed", Change::Added, |t| {
        inserted(t, 41, &format!("mfa_serial\t=\t{ARN}"))
    });
}

#[test]
fn keys_indented_under_their_header_and_colons_as_botocore_reads_them() {
    check(
        "indented.ini",
        "indented",
        Change::Replaced {
            previous: "arn:aws:iam::444444444444:mfa/old".into(),
        },
        |t| {
            t.replacen(
                "\tmfa_serial: arn:aws:iam::444444444444:mfa/old\n",
                &format!("\tmfa_serial: {ARN}\n"),
                1,
            )
        },
    );
    check("indented.ini", "next", Change::Added, |t| {
        inserted(t, 9, &format!("  mfa_serial = {ARN}"))
    });
}

#[test]
fn a_missing_profile_is_appended_and_sso_sections_are_not_profiles() {
    check("odd.ini", "new", Change::SectionAdded, |t| {
        format!("{t}\n[profile new]\nmfa_serial = {ARN}\n")
    });
    // "corp" is an [sso-session], not a profile: a profile of that name is a new section.
    check("odd.ini", "corp", Change::SectionAdded, |t| {
        format!("{t}\n[profile corp]\nmfa_serial = {ARN}\n")
    });
}

#[test]
fn crlf_line_endings_are_kept() {
    check("crlf.ini", "win", Change::Added, |t| {
        format!("{t}mfa_serial = {ARN}\r\n")
    });
    check("crlf.ini", "other", Change::SectionAdded, |t| {
        format!("{t}\r\n[profile other]\r\nmfa_serial = {ARN}\r\n")
    });
}

#[test]
fn the_same_value_again_writes_nothing() {
    let path = copy_of("odd.ini", "same-value");
    Edit::plan(&path, "dev", "mfa_serial", ARN)
        .expect("plan")
        .apply()
        .expect("apply");
    let modified = std::fs::metadata(&path)
        .expect("meta")
        .modified()
        .expect("mtime");
    let once = std::fs::read(&path).expect("read");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = Edit::plan(&path, "dev", "mfa_serial", ARN).expect("plan");
    assert_eq!(again.change, Change::Unchanged);
    again.apply().expect("apply");
    assert_eq!(std::fs::read(&path).expect("read"), once);
    assert_eq!(
        std::fs::metadata(&path)
            .expect("meta")
            .modified()
            .expect("mtime"),
        modified
    );
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

#[test]
fn refuses_files_the_aws_cli_refuses_too_and_leaves_them_alone() {
    for (name, line, words) in [
        (
            "refuse-duplicate-profile.ini",
            5,
            "defined again (first on line 2)",
        ),
        ("refuse-key-before-section.ini", 1, "before any [section]"),
        ("refuse-not-a-setting.ini", 3, "neither a setting"),
        ("refuse-multiline-value.ini", 2, "several lines"),
        ("refuse-duplicate-key.ini", 4, "set twice"),
    ] {
        let path = copy_of(name, name);
        let original = std::fs::read(&path).expect("read");
        match Edit::plan(&path, "dev", "mfa_serial", ARN) {
            Err(ConfigError::Unparsable {
                line: l, reason, ..
            }) => {
                assert_eq!(l, line, "{name}: {reason}");
                assert!(reason.contains(words), "{name}: {reason}");
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(std::fs::read(&path).expect("read"), original, "{name}");
        // Refusing is right: the AWS CLI can't read these files either.
        let botocore = botocore_profiles(&path);
        assert!(
            botocore
                .as_ref()
                .is_err_and(|e| e.contains("ConfigParseError")),
            "botocore reads {name}: {botocore:?}"
        );
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }
}

#[test]
fn keeps_the_files_mode_and_a_symlink_to_it() {
    let path = copy_of("odd.ini", "mode-symlink");
    let dir = path.parent().expect("dir").to_owned();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    // A dotfile manager's layout: ~/.aws/config is a link into a repository.
    let link = dir.join("link-config");
    std::os::unix::fs::symlink(&path, &link).expect("symlink");
    Edit::plan(&link, "dev", "mfa_serial", ARN)
        .expect("plan")
        .apply()
        .expect("apply");
    assert!(std::fs::symlink_metadata(&link)
        .expect("meta")
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
        0o640
    );
    assert!(std::fs::read_to_string(&path)
        .expect("read")
        .contains(&format!("mfa_serial = {ARN}")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_file_is_created_private_with_its_directory() {
    let dir = std::env::temp_dir().join(format!("ykmfa-awsconfig-new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join(".aws").join("config");
    let edit = Edit::plan(&path, "default", "mfa_serial", ARN).expect("plan");
    assert_eq!(edit.change, Change::SectionAdded);
    assert!(!path.exists(), "planning created the file");
    edit.apply().expect("apply");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        format!("[default]\nmfa_serial = {ARN}\n")
    );
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.join(".aws")), 0o700);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_changed_after_reading_is_not_overwritten() {
    let path = copy_of("odd.ini", "changed-meanwhile");
    let edit = Edit::plan(&path, "dev", "mfa_serial", ARN).expect("plan");
    let theirs = "[default]\nregion = written-by-someone-else\n";
    std::fs::write(&path, theirs).expect("write");
    match edit.apply() {
        Err(ConfigError::ChangedMeanwhile(_)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&path).expect("read"), theirs);
    let entries = std::fs::read_dir(path.parent().expect("dir"))
        .expect("list")
        .count();
    assert_eq!(entries, 1, "temporary file left behind");
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

// ---- ykmfa enroll on the bench ----

fn bench(users: &[&str]) -> Bench {
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec::default()],
        nitrokey: false,
        iam: true,
    });
    for user in users {
        bench.aws(&["iam", "create-user", "--user-name", user]);
    }
    bench
}

/// The bench's AWS config file (its AWS_CONFIG_FILE), holding a copy of `fixture`.
fn config_with(bench: &Bench, fixture_name: &str) -> PathBuf {
    let path = bench.dir.join("home/.aws/config");
    std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
    std::fs::copy(fixture(fixture_name), &path).expect("copy");
    path
}

fn arn_of(user: &str) -> String {
    format!("arn:aws:iam::123456789012:mfa/{user}-yk12345678")
}

/// `aws configure get mfa_serial --profile PROFILE`: the AWS CLI itself reads the file.
fn aws_cli_reads(bench: &Bench, profile: &str) -> String {
    let out = Command::new(support::venv_bin("aws"))
        .args(["configure", "get", "mfa_serial", "--profile", profile])
        .envs(bench.env())
        .output()
        .expect("run aws");
    assert!(
        out.status.success(),
        "aws configure get: {}",
        support::text(&out.stderr)
    );
    support::text(&out.stdout).trim().to_owned()
}

#[test]
fn enroll_writes_mfa_serial_when_asked_by_flag_and_never_unasked() {
    let bench = bench(&["alice", "bob", "carol"]);
    let config = config_with(&bench, "odd.ini");
    let original = std::fs::read_to_string(&config).expect("read");

    // Not asked, no terminal: the file stays as it was; the line to add is printed.
    let run = bench.run(&["enroll", "--user", "alice"]);
    assert_eq!(run.ok().trim(), arn_of("alice"));
    // The fixture is one the Rust SDK reads too (it says "could not parse profile file" at
    // WARN about keys indented under a header or written with ':', which botocore accepts).
    assert!(
        !run.stderr.contains("could not parse profile file"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&config).expect("read"), original);
    let human = run.human();
    assert!(
        human.contains(&format!("add to [default] in {}", config.display())),
        "{human}"
    );
    assert!(human.contains(&format!("  mfa_serial = {}", arn_of("alice"))));
    // aws-vault's ykman prompt: the credential's name and the token's serial.
    assert!(human.contains("export AWS_VAULT_PROMPT=ykman"), "{human}");
    assert!(
        human
            .contains("export YKMAN_OATH_CREDENTIAL_NAME='Amazon Web Services:alice@123456789012'"),
        "{human}"
    );
    assert!(
        human.contains("export YKMAN_OATH_DEVICE_SERIAL=12345678"),
        "{human}"
    );

    // --write-mfa-serial=dev: exactly one line more, which the AWS CLI reads.
    let run = bench.run(&["enroll", "--user", "bob", "--write-mfa-serial=dev"]);
    assert_eq!(run.ok().trim(), arn_of("bob"));
    assert!(
        run.human().contains(&format!(
            "Set mfa_serial in [profile dev] of {}.",
            config.display()
        )),
        "{}",
        run.human()
    );
    let expected = inserted(&original, 16, &format!("mfa_serial = {}", arn_of("bob")));
    assert_eq!(std::fs::read_to_string(&config).expect("read"), expected);
    assert_eq!(aws_cli_reads(&bench, "dev"), arn_of("bob"));

    // The bare flag takes the profile the AWS CLI would use: here AWS_PROFILE.
    let run = bench.run_with(
        &["enroll", "--user", "carol", "--write-mfa-serial"],
        &[("AWS_PROFILE", "tabbed")],
    );
    assert_eq!(run.ok().trim(), arn_of("carol"));
    // The Rust SDK (ykmfa's own) read the file ykmfa wrote for bob without complaint.
    assert!(
        !run.stderr.contains("could not parse profile file"),
        "{}",
        run.stderr
    );
    // [profile tabbed]'s last line moved from 41 to 42 with bob's line.
    let expected = inserted(
        &expected,
        42,
        &format!("mfa_serial\t=\t{}", arn_of("carol")),
    );
    assert_eq!(std::fs::read_to_string(&config).expect("read"), expected);
    assert_eq!(aws_cli_reads(&bench, "tabbed"), arn_of("carol"));
    bench.assert_no_seed_leaked();
}

#[test]
fn enroll_replaces_a_profiles_mfa_serial_saying_what_it_was() {
    let bench = bench(&["dave"]);
    let config = config_with(&bench, "odd.ini");
    let original = std::fs::read_to_string(&config).expect("read");
    let run = bench.run(&["enroll", "--user", "dave", "--write-mfa-serial=ops"]);
    assert_eq!(run.ok().trim(), arn_of("dave"));
    let human = run.human();
    assert!(
        human.contains("warning: replaced mfa_serial in [profile ops]")
            && human.contains("(it was arn:aws:iam::333333333333:mfa/ops-old)"),
        "{human}"
    );
    assert_eq!(
        std::fs::read_to_string(&config).expect("read"),
        original.replacen("arn:aws:iam::333333333333:mfa/ops-old", &arn_of("dave"), 1)
    );
    assert_eq!(aws_cli_reads(&bench, "ops"), arn_of("dave"));
    bench.assert_no_seed_leaked();
}

#[test]
fn enroll_leaves_a_broken_config_alone_and_the_enrollment_stands() {
    let bench = bench(&["erin"]);
    let config = config_with(&bench, "refuse-duplicate-profile.ini");
    let original = std::fs::read(&config).expect("read");
    let run = bench.run(&["enroll", "--user", "erin", "--write-mfa-serial=dev"]);
    assert_eq!(run.ok().trim(), arn_of("erin"), "the enrollment stands");
    let human = run.human();
    assert!(
        human.contains("line 5: profile 'dev' is defined again (first on line 2)"),
        "{human}"
    );
    assert!(
        human.contains(&format!("  mfa_serial = {}", arn_of("erin"))),
        "the line to add by hand: {human}"
    );
    assert_eq!(std::fs::read(&config).expect("read"), original);
    // The AWS CLI can't read that file either: without it, IAM shows erin's device.
    std::fs::remove_file(&config).expect("remove");
    let listed = bench.aws(&["iam", "list-mfa-devices", "--user-name", "erin"]);
    assert_eq!(listed["MFADevices"].as_array().map(Vec::len), Some(1));
}

#[test]
fn enroll_asks_on_a_terminal_and_writes_only_on_yes() {
    let bench = bench(&["frank", "grace", "heidi"]);
    let config = config_with(&bench, "odd.ini");
    let original = std::fs::read_to_string(&config).expect("read");
    let question = format!(
        "Add mfa_serial to [profile dev] in {}? [y/N]",
        config.display()
    );

    // No: nothing written, and the line to add is shown.
    let args = ["enroll", "--user", "frank", "--profile", "dev"];
    let (code, screen) = bench.on_terminal(&args, "n\n", &[("TERM", "dumb")]);
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains(&question), "{screen}");
    assert!(
        screen.contains(&format!("Left {} unchanged", config.display())),
        "{screen}"
    );
    assert_eq!(std::fs::read_to_string(&config).expect("read"), original);

    // --json on a terminal: the output is for a program, so no question, nothing written.
    let args = ["enroll", "--user", "grace", "--profile", "dev", "--json"];
    let (code, screen) = bench.on_terminal(&args, "y\n", &[("TERM", "dumb")]);
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains(&question), "{screen}");
    assert_eq!(std::fs::read_to_string(&config).expect("read"), original);

    // Yes: written, one line.
    let args = ["enroll", "--user", "heidi", "--profile", "dev"];
    let (code, screen) = bench.on_terminal(&args, "y\n", &[("TERM", "dumb")]);
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains(&question), "{screen}");
    assert_eq!(
        std::fs::read_to_string(&config).expect("read"),
        inserted(&original, 16, &format!("mfa_serial = {}", arn_of("heidi")))
    );
    assert_eq!(aws_cli_reads(&bench, "dev"), arn_of("heidi"));
    bench.assert_no_seed_leaked();
}

#[test]
fn a_dry_run_says_it_would_write_mfa_serial_and_writes_nothing() {
    let bench = bench(&["alice"]);
    let config = config_with(&bench, "odd.ini");
    let original = std::fs::read(&config).expect("read");

    let run = bench.run(&[
        "enroll",
        "--user",
        "alice",
        "--dry-run",
        "--write-mfa-serial=dev",
    ]);
    run.ok();
    assert!(
        run.human().contains(&format!(
            "then set mfa_serial in [profile dev] of {}",
            config.display()
        )),
        "{}",
        run.human()
    );
    let run = bench.run(&[
        "enroll",
        "--user",
        "alice",
        "--dry-run",
        "--json",
        "--write-mfa-serial",
    ]);
    let plan: Value = serde_json::from_str(run.ok()).expect("json");
    assert_eq!(plan["write_mfa_serial"]["profile"], "default");
    assert_eq!(
        plan["write_mfa_serial"]["file"],
        config.display().to_string()
    );
    let run = bench.run(&["enroll", "--user", "alice", "--dry-run", "--json"]);
    let plan: Value = serde_json::from_str(run.ok()).expect("json");
    assert!(plan["write_mfa_serial"].is_null());

    assert_eq!(std::fs::read(&config).expect("read"), original, "unchanged");
}
