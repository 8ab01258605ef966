//! Fuzzing of the parsers of what people and other tools hand to ykmfa (the card's answers are
//! in `fuzz.rs`): otpauth URIs and pasted secrets, QR-code images, bulk manifests (TOML and CSV),
//! the AWS config file, and the enrollment journal's records. Each must answer every input with a
//! value or a typed error: never a panic. `YKMFA_FUZZ_CASES` sets the cases per target.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use ykmfa::mfa::bulk::manifest::{self, Format};
use ykmfa::mfa::enroll::root::{read_qr, ConsoleSecret};
use ykmfa::mfa::journal::enroll::{Journal, JournalError};

fn cases() -> u32 {
    std::env::var("YKMFA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(2000)
}

fn fuzz<S: Strategy>(
    target: &str,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let started = Instant::now();
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let result = TestRunner::new(config).run(&strategy, check);
    let _ = writeln!(
        std::io::stderr(),
        "fuzz {target}: {} cases, {:.1} s",
        cases(),
        started.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        panic!("fuzz {target}: {e}");
    }
}

/// Text made of the pieces these formats are built from, so that inputs get past the first
/// character more often than random bytes would.
fn pieces(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(words).prop_map(str::to_owned),
            1 => "[ -~]{0,6}",
            1 => any::<char>().prop_map(String::from),
        ],
        0..24,
    )
    .prop_map(|v| v.concat())
}

#[test]
fn fuzz_otpauth_and_pasted_secrets() {
    const WORDS: &[&str] = &[
        "otpauth://",
        "OTPAUTH://",
        "totp/",
        "hotp/",
        "Amazon%20Web%20Services:",
        "root@123",
        "?",
        "&",
        "=",
        "secret",
        "issuer",
        "algorithm",
        "SHA1",
        "SHA256",
        "digits",
        "6",
        "8",
        "period",
        "30",
        "60",
        "JBSWY3DPEHPK3PXP",
        "GEZDGNBV",
        "%",
        "%2",
        "%ZZ",
        "%00",
        "=",
        " ",
        "\n",
        "-",
        "a",
        "7",
    ];
    fuzz("otpauth URI / pasted secret", pieces(WORDS), |text| {
        let parsed = [
            ConsoleSecret::from_text(&text),
            ConsoleSecret::from_uri(&text),
        ];
        // Whatever is accepted is a usable AWS secret.
        for secret in parsed.iter().flatten() {
            prop_assert!(secret.seed.len() >= 10);
        }
        Ok(())
    });
}

#[test]
fn fuzz_qr_images() {
    // A real PNG, then damaged: truncated, bytes flipped, or any bytes after the signature.
    let png = {
        let code = qrcode::QrCode::new(b"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP").expect("qr");
        let width = code.width() as u32;
        let colors = code.to_colors();
        let side = width + 8;
        let mut pixels = Vec::new();
        for y in 0..side {
            for x in 0..side {
                let inside = (4..width + 4).contains(&x) && (4..width + 4).contains(&y);
                let dark =
                    inside && colors[((y - 4) * width + (x - 4)) as usize] == qrcode::Color::Dark;
                pixels.push(if dark { 0 } else { 255 });
            }
        }
        let mut png = Vec::new();
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut png),
            &pixels,
            side,
            side,
            image::ExtendedColorType::L8,
        )
        .expect("png");
        png
    };
    assert!(
        ConsoleSecret::from_qr_png(&png).is_ok(),
        "the undamaged image decodes, so damage starts from a readable code"
    );
    let damaged = (
        0..png.len(),
        prop::collection::vec((0..png.len(), any::<u8>()), 0..8),
    )
        .prop_map(move |(cut, flips)| {
            let mut b = png.clone();
            for (i, v) in flips {
                b[i] = v;
            }
            b.truncate(cut.max(8));
            b
        });
    let raw = prop::collection::vec(any::<u8>(), 0..256).prop_map(|mut v| {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.append(&mut v);
        b
    });
    fuzz("QR image", prop_oneof![damaged, raw], |bytes| {
        let _ = read_qr(&bytes);
        let _ = ConsoleSecret::from_qr_png(&bytes);
        Ok(())
    });
}

#[test]
fn fuzz_manifests() {
    const TOML: &[&str] = &[
        "[[enroll]]\n",
        "[[enroll]",
        "[enroll]\n",
        "user = ",
        "\"alice\"",
        "\"bob\"",
        "'x'",
        "account = ",
        "\"arn:aws:iam::111111111111:role/Admin\"",
        "\"arn:aws:iam::1:role\"",
        "serial = ",
        "12345678",
        "-1",
        "99999999999999999999",
        "touch = ",
        "true",
        "label = ",
        "\"Amazon Web Services:alice\"",
        "device_name = ",
        "tags = ",
        "{ team = \"ops\" }",
        "[1, 2]",
        "\n",
        "#",
        "\"",
        "=",
        ",",
    ];
    const CSV: &[&str] = &[
        "user,account,serial,touch,label,device_name,tags\n",
        "user\n",
        "alice",
        "bob",
        ",",
        "\n",
        "\r\n",
        "\"",
        "\"\"",
        "12345678",
        "yes",
        "no",
        "true",
        "team=ops;env=prod",
        "=",
        ";",
        "arn:aws:iam::111111111111:role/Admin",
        "profile:dev",
        " ",
        "colour",
    ];
    fuzz(
        "bulk manifest",
        prop_oneof![
            pieces(TOML).prop_map(|t| (t, Format::Toml)),
            pieces(CSV).prop_map(|t| (t, Format::Csv)),
        ],
        |(text, format)| {
            match manifest::parse(&text, format) {
                Ok(rows) => {
                    // Every accepted row names a user, and no user twice per account.
                    let mut keys: Vec<String> = rows.iter().map(|r| r.key()).collect();
                    prop_assert!(rows.iter().all(|r| !r.user.as_str().is_empty()));
                    keys.sort();
                    let n = keys.len();
                    keys.dedup();
                    prop_assert_eq!(n, keys.len());
                }
                Err(problems) => prop_assert!(!problems.is_empty()),
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_aws_config() {
    const WORDS: &[&str] = &[
        "[default]\n",
        "[profile dev]\n",
        "[profile  dev ]\n",
        "[sso-session corp]\n",
        "[profile prod]",
        "[",
        "]",
        "region = us-east-1\n",
        "mfa_serial = arn:old\n",
        "mfa_serial=\n",
        "s3 =\n",
        "  max_concurrent_requests = 10\n",
        "\t",
        "# comment\n",
        "; note\n",
        "\r\n",
        "\n",
        "=",
        " ",
        "key",
        "dev",
    ];
    fuzz("AWS config", pieces(WORDS), |text| {
        let value = "arn:aws:iam::123456789012:mfa/alice";
        if let Ok((updated, _)) = ykmfa::aws_config::set(&text, "dev", "mfa_serial", value) {
            // What was written reads back, as the only change.
            prop_assert_eq!(
                ykmfa::aws_config::get(&updated, "dev", "mfa_serial")
                    .ok()
                    .flatten(),
                Some(value.to_owned())
            );
        }
        Ok(())
    });
}

#[test]
fn fuzz_enrollment_journal_records() {
    let dir = std::env::temp_dir().join(format!("ykmfa-fuzz-journal-{}", std::process::id()));
    let journal = Journal::at(&dir);
    drop(journal.lock("123456789012", "alice").expect("lock"));
    const WORDS: &[&str] = &[
        "{",
        "}",
        "\"schema\":",
        "\"ykmfa.enrollment-journal/1\"",
        "\"account\":",
        "\"user\":",
        "\"alice\"",
        "\"stage\":",
        "\"writing\"",
        "\"token_serial\":",
        "12345678",
        "null",
        ",",
        ":",
        "\"",
        "[",
        "]",
        "\n",
        "-1",
        "1e99",
    ];
    fuzz("enrollment journal record", pieces(WORDS), |text| {
        std::fs::write(dir.join("123456789012-alice.json"), &text).expect("write");
        match journal.lock("123456789012", "alice") {
            Ok(_) | Err(JournalError::Corrupt(_)) => Ok(()),
            Err(e) => Err(TestCaseError::fail(format!("unexpected {e}"))),
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
