//! The seed while it is live inside a running `ykmfa enroll`: the process cannot be dumped to a
//! core file (even when the user allowed cores), and its environment never holds the seed.
//!
//! The seed is live from IAM's answer to the end of the token transaction; a credential that
//! needs a touch holds the transaction open (the virtual YubiKey waits before it answers), which
//! gives the test a window to look at the process and to abort it.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{seeds, Bench, Spec, YubiKeySpec};

/// Whether `status` says a core file was written.
fn aborted(mut child: std::process::Child) -> std::process::ExitStatus {
    Command::new("kill")
        .args(["-ABRT", &child.id().to_string()])
        .status()
        .expect("kill");
    child.wait().expect("wait")
}

fn cores_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("core"))
        .collect()
}

#[test]
fn a_live_seed_cannot_be_dumped_and_is_in_no_environment() {
    let bench = Bench::start(Spec {
        yubikeys: vec![YubiKeySpec {
            touch_delay_ms: 60_000,
            ..YubiKeySpec::default()
        }],
        nitrokey: false,
        iam: true,
    });
    bench.aws(&["iam", "create-user", "--user-name", "alice"]);
    let cwd = bench.dir.join("cores");
    std::fs::create_dir_all(&cwd).expect("mkdir");

    // The control: on this machine a process that allows core dumps does dump on SIGABRT.
    // Without it, the assertion below could not fail.
    let control = Command::new("bash")
        .args(["-c", "ulimit -c unlimited; exec sleep 60"])
        .current_dir(&cwd)
        .spawn()
        .expect("sleep");
    std::thread::sleep(Duration::from_millis(300));
    let status = aborted(control);
    assert!(
        status.core_dumped(),
        "this machine does not write core dumps at all ({status:?}; see \
         /proc/sys/kernel/core_pattern): the test cannot tell ykmfa's protection apart"
    );
    for core in cores_in(&cwd) {
        std::fs::remove_file(cwd.join(core)).ok();
    }

    // ykmfa with cores allowed by its parent, stopped while the seed is live.
    let out = cwd.join("stdout");
    let err = cwd.join("stderr");
    let c = bench.ykmfa(&["enroll", "--user", "alice", "--touch"]);
    let program = c.get_program().to_owned();
    let mut shell = Command::new("bash");
    shell
        .arg("-c")
        .arg("ulimit -c unlimited; exec \"$0\" \"$@\"")
        .arg(program)
        .args(c.get_args())
        .env_clear()
        .current_dir(&cwd)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout"))
        .stderr(std::fs::File::create(&err).expect("stderr"));
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            shell.env(k, v);
        }
    }
    shell
        .env("RUST_LOG", "trace")
        .env("YKMFA_LOG_FORMAT", "json");
    let child = shell.spawn().expect("ykmfa");
    let pid = child.id();

    // The credential is on the token and the CALCULATE waits for a touch: the seed is live.
    support::wait_for(Duration::from_secs(30), "the credential write", || {
        !bench.tokens[0].credential_names().is_empty()
    });
    let issued = bench.issued_seeds();
    assert_eq!(issued.len(), 1, "IAM issued the seed");

    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("core limit line");
    assert!(
        core.split_whitespace().skip(4).take(2).all(|v| v == "0"),
        "ykmfa lowered its core limit to 0 (soft and hard): {core}"
    );
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
    seeds::assert_absent(
        &issued,
        &[(format!("/proc/{pid}/environ of ykmfa"), environ)],
    );

    let status = aborted(child);
    assert_eq!(
        status.signal(),
        Some(6),
        "ykmfa ended by SIGABRT: {status:?}"
    );
    assert!(
        !status.core_dumped(),
        "the kernel wrote a core dump of ykmfa while the seed was live"
    );
    assert_eq!(cores_in(&cwd), Vec::<String>::new(), "no core file");

    bench.record_output(
        "stdout of the aborted enroll".into(),
        std::fs::read(&out).unwrap(),
    );
    bench.record_output(
        "stderr of the aborted enroll".into(),
        std::fs::read(&err).unwrap(),
    );
    assert!(bench.assert_no_seed_leaked() >= 1);
}
