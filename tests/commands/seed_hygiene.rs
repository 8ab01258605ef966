//! The seed while it is live inside a running `ykmfa enroll`: the process cannot be dumped to a
//! core file (even when the user allowed cores), and its environment never holds the seed.
//!
//! The seed is live from IAM's answer to the end of the token transaction; a credential that
//! needs a touch holds the transaction open (the virtual YubiKey waits before it answers), which
//! gives the test a window to look at the process and to abort it.
//!
//! And the seed scan itself (`support::seeds`), which every bench test relies on: each encoding
//! it looks for is caught, and what is not a seed or a pair of its codes is not.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use std::collections::BTreeSet;

use support::seeds::{self, code, needles, CodePairs, Finder, PAIR_SPAN};
use support::{Bench, Spec, YubiKeySpec};

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

// ---------------------------------------------------------------------------------------------
// The seed scan

#[test]
fn needles_cover_every_encoding() {
    // "Hello!" and DE AD BE EF.
    let seed = "JBSWY3DPEHPK3PXP";
    let raw = b"Hello!\xde\xad\xbe\xef";
    // Only ever printed with `{:#04x?}`.
    #[allow(dead_code)]
    #[derive(Debug)]
    struct Request<'a> {
        key: &'a [u8],
    }
    let nested_pretty = format!("{:#04x?}", Request { key: raw });
    let probes: Vec<(&str, Vec<u8>)> = vec![
        ("Base32", b"JBSWY3DPEHPK3PXP".to_vec()),
        ("Base32", b"jbswy3dpehpk3pxp".to_vec()),
        ("Base32 in groups of four", b"JBSW Y3DP EHPK 3PXP".to_vec()),
        (
            "Base32 in groups of four",
            b"secret: jbsw y3dp ehpk 3pxp".to_vec(),
        ),
        ("hex of the key", b"48656c6c6f21deadbeef".to_vec()),
        ("hex of the key", b"48656C6C6F21DEADBEEF".to_vec()),
        ("base64 of the key", b"SGVsbG8h3q2+7w".to_vec()),
        ("base64 of the key", b"SGVsbG8h3q2+7w==".to_vec()),
        // The wire form, alone (padded, unpadded) and inside bodies logged base64-encoded, the
        // seed starting 2, 1, 2 and 1 bytes into a 3-byte group (made with Python's base64):
        // `Base32StringSeed=JBSWY3DPEHPK3PXP`, `"JBSWY3DPEHPK3PXP"`, `s=JBSWY3DPEHPK3PXP&`,
        // `{"seed": "jbswy3dpehpk3pxp"}`.
        (
            "base64 of the Base32 text",
            b"SkJTV1kzRFBFSFBLM1BYUA==".to_vec(),
        ),
        (
            "base64 of the Base32 text",
            b"SkJTV1kzRFBFSFBLM1BYUA".to_vec(),
        ),
        (
            "base64 of the Base32 text",
            b"QmFzZTMyU3RyaW5nU2VlZD1KQlNXWTNEUEVIUEszUFhQ".to_vec(),
        ),
        (
            "base64 of the Base32 text",
            b"IkpCU1dZM0RQRUhQSzNQWFAi".to_vec(),
        ),
        (
            "base64 of the Base32 text",
            b"cz1KQlNXWTNEUEVIUEszUFhQJg==".to_vec(),
        ),
        (
            "base64 of the Base32 text",
            b"eyJzZWVkIjogImpic3d5M2RwZWhwazNweHAifQ==".to_vec(),
        ),
        ("key bytes", raw.to_vec()),
        ("{:?} of the key bytes", format!("{raw:?}").into_bytes()),
        (
            "{:?} of the key bytes",
            format!("{:#?}", raw.to_vec()).into_bytes(),
        ),
        (
            "{:?} of the Base32 text's bytes",
            format!("{:?}", seed.as_bytes()).into_bytes(),
        ),
        (
            "{:#04x?} of the key bytes",
            format!("{raw:#04x?}").into_bytes(),
        ),
        (
            "{:#04x?} of the key bytes",
            nested_pretty.clone().into_bytes(),
        ),
        (
            "{:#04x?} of the key bytes",
            serde_json::json!({ "fields": { "message": nested_pretty } })
                .to_string()
                .into_bytes(),
        ),
        (
            "{:#04x?} of the key bytes",
            raw.iter()
                .map(|b| format!("{b:#04x}"))
                .collect::<Vec<_>>()
                .join(", ")
                .into_bytes(),
        ),
        (
            "{:#04X?} of the key bytes",
            format!("{raw:#04X?}").into_bytes(),
        ),
        (
            "{:#04x?} of the Base32 text's bytes",
            format!("{:#04x?}", seed.as_bytes()).into_bytes(),
        ),
        (
            "{:#04X?} of the Base32 text's bytes",
            format!("{:#04X?}", seed.as_bytes()).into_bytes(),
        ),
    ];
    // Each probe is caught by the needles of its own encoding, through the same search a scan
    // makes: removing an encoding fails its probes.
    let all = needles(seed);
    for (encoding, probe) in &probes {
        let own = all
            .iter()
            .filter(|n| n.encoding == *encoding)
            .cloned()
            .collect();
        assert!(
            Finder::of(own).find(probe).is_some(),
            "{encoding}: {}",
            String::from_utf8_lossy(probe)
        );
    }
    // Every encoding has a probe.
    let encodings: BTreeSet<&str> = all.iter().map(|n| n.encoding).collect();
    let probed: BTreeSet<&str> = probes.iter().map(|(e, _)| *e).collect();
    assert_eq!(encodings, probed, "encodings without a probe");

    // Another seed's encodings, and ordinary output, hold none of these needles.
    let finder = Finder::new(&[seed.to_owned()]);
    let other = "KRSXG5CTMVSWIMRQGIZTANBQGAYDAMBQ";
    let other_raw =
        base32::decode(base32::Alphabet::Rfc4648 { padding: false }, other).expect("base32");
    for probe in [
        other.as_bytes().to_vec(),
        format!("{other_raw:?} {other_raw:#04x?} {:?}", other.as_bytes()).into_bytes(),
        b"{\"timestamp\":\"2025-01-01T00:00:00.123456Z\",\"level\":\"TRACE\"}".to_vec(),
    ] {
        assert_eq!(
            finder.find(&probe),
            None,
            "{}",
            String::from_utf8_lossy(&probe)
        );
    }
}

#[test]
fn code_pairs_are_found_and_lone_codes_are_not() {
    let seeds = vec!["JBSWY3DPEHPK3PXP".to_owned()];
    let steps = 1_000..=1_010;
    let c = |t: u64| format!("{:06}", code(&seeds[0], t));
    let pairs = CodePairs::new(&seeds, &steps);
    let found = |hay: String| pairs.find(hay.as_bytes());

    // RFC 6238's SHA1 vector (the ASCII key "12345678901234567890" at 59 s): the codes are TOTP.
    assert_eq!(
        code("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1),
        287_082,
        "TOTP of the RFC 6238 vector"
    );

    // A pair, as EnableMFADevice sends it, as a Debug print logs it, and one a line.
    let (a, b) = (c(1_004), c(1_005));
    assert_eq!(
        found(format!(
            "Action=EnableMFADevice&AuthenticationCode1={a}&AuthenticationCode2={b}&SerialNumber=x"
        )),
        Some((0, 1_004))
    );
    assert_eq!(
        found(format!("EnableMfaDeviceInput {{ authentication_code1: Some(\"{a}\"), authentication_code2: Some(\"{b}\") }}")),
        Some((0, 1_004))
    );
    assert_eq!(found(format!("{b}\\n{a}\\n")), Some((0, 1_004)));
    // At the ends of the range.
    assert_eq!(
        found(format!("{} {}", c(1_000), c(1_001))),
        Some((0, 1_000))
    );
    assert_eq!(
        found(format!("{} {}", c(1_009), c(1_010))),
        Some((0, 1_009))
    );

    // Not a pair: one code alone, two codes of steps apart, too far apart, outside the range,
    // inside longer digit runs.
    assert_eq!(found(format!("code {a}")), None);
    assert_eq!(found(format!("{} {}", c(1_002), c(1_004))), None);
    assert_eq!(found(format!("{a}{}{b}", " ".repeat(PAIR_SPAN + 1))), None);
    assert_eq!(
        found(format!("{a}{}{b}", " ".repeat(PAIR_SPAN))),
        Some((0, 1_004))
    );
    assert_eq!(found(format!("{} {}", c(1_010), c(1_011))), None);
    assert_eq!(found(format!("1{a} {b}")), None);
    assert_eq!(found(format!("{a} {b}0")), None);
}
