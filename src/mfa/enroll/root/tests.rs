use super::*;
use crate::mfa::fakes::{FakeCard, WriteStage};
use crate::token::Serial;

const SEED: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const AWS_URI: &str = "otpauth://totp/Amazon%20Web%20Services:root-account-mfa-device@123456789012?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Amazon%20Web%20Services";

fn totp(seed: &[u8], step: u64) -> String {
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 0, 30, seed.to_vec())
        .generate(step * 30)
}

fn secret_bytes() -> Vec<u8> {
    Seed::from_base32(SEED).expect("seed").expose().to_vec()
}

#[test]
fn reads_aws_style_uris() {
    let s = ConsoleSecret::from_uri(AWS_URI).expect("parses");
    assert_eq!(s.seed.expose(), secret_bytes().as_slice());
    let label = s.label.expect("label");
    assert_eq!(label.issuer.as_deref(), Some("Amazon Web Services"));
    assert_eq!(label.account, "root-account-mfa-device@123456789012");
    assert_eq!(
        label.to_string(),
        "Amazon Web Services:root-account-mfa-device@123456789012"
    );
}

#[test]
fn uri_variants_that_mean_the_same() {
    for (uri, issuer, account) in [
        // Issuer only as a parameter.
        (
            "otpauth://totp/root@1?secret=JBSWY3DPEHPK3PXP&issuer=Amazon%20Web%20Services",
            Some("Amazon Web Services"),
            "root@1",
        ),
        // A space after the colon, upper-case scheme and type, explicit AWS parameters.
        (
            "OTPAUTH://TOTP/AWS:%20root@1?SECRET=jbswy3dpehpk3pxp&algorithm=sha1&digits=6&period=30",
            Some("AWS"),
            "root@1",
        ),
        // No issuer at all; unknown parameters and a fragment are ignored.
        (
            "otpauth://totp/root@1?secret=JBSWY3DPEHPK3PXP&image=https%3A%2F%2Fx#frag",
            None,
            "root@1",
        ),
    ] {
        let s = ConsoleSecret::from_uri(uri).expect(uri);
        let label = s.label.expect("label");
        assert_eq!(label.issuer.as_deref(), issuer, "{uri}");
        assert_eq!(label.account, account, "{uri}");
    }
    let no_label = ConsoleSecret::from_uri("otpauth://totp/?secret=JBSWY3DPEHPK3PXP").expect("ok");
    assert!(no_label.label.is_none());
}

#[test]
fn text_is_base32_or_a_uri() {
    let s = ConsoleSecret::from_text(" JBSW Y3DP EHPK 3PXP\n").expect("base32");
    assert!(s.label.is_none());
    assert_eq!(s.seed.expose(), b"Hello!\xde\xad\xbe\xef");
    assert!(ConsoleSecret::from_text(AWS_URI)
        .expect("uri")
        .label
        .is_some());
    assert!(matches!(
        ConsoleSecret::from_text("not base32!"),
        Err(SecretError::Seed(SeedError::NotBase32))
    ));
}

#[test]
fn refuses_what_aws_never_issues_without_repeating_the_secret() {
    let base = "otpauth://totp/AWS:root@1?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let cases: Vec<(String, &str)> = vec![
        (format!("{base}&algorithm=SHA256"), "HMAC-SHA256"),
        (format!("{base}&algorithm=sha512"), "HMAC-SHA512"),
        (format!("{base}&algorithm=MD5"), "unknown hash"),
        (format!("{base}&digits=8"), "8-digit"),
        (format!("{base}&digits=x"), "unreadable digit"),
        (format!("{base}&period=60"), "60 s"),
        (format!("{base}&secret=AAAAAAAAAAAAAAAA"), "more than once"),
        (base.replace("totp", "hotp"), "HOTP"),
        (base.replace("otpauth", "https"), "not an otpauth"),
        (base.replace("totp/", "totx/"), "not an otpauth"),
        ("otpauth://totp/AWS:root@1?issuer=AWS".into(), "no secret"),
        (base.replace("PXP", "PX1"), "Base32"),
        (base.replace("AWS:", "AWS%G1:"), "%-escape"),
        (base.replace("AWS:", "AWS%FF:"), "UTF-8"),
        (
            format!(
                "otpauth://totp/Amazon%20Web%20Services:{}?secret=JBSWY3DPEHPK3PXP",
                "r".repeat(60)
            ),
            "64",
        ),
    ];
    for (uri, expected) in cases {
        let err = ConsoleSecret::from_uri(&uri)
            .err()
            .unwrap_or_else(|| panic!("accepted {uri}"));
        let text = err.to_string();
        assert!(text.contains(expected), "{uri}: {text}");
        for probe in ["JBSWY3DP", "jbswy3dp", "AAAAAAAA", "PXP"] {
            assert!(!text.contains(probe), "{uri}: {text}");
            assert!(!format!("{err:?}").contains(probe), "{uri}: {err:?}");
        }
    }
}

/// A QR code of `text` as a PNG with a quiet zone, `scale` pixels a module, in `color`.
fn qr_png(text: &[u8], scale: u32, color: image::ColorType) -> Vec<u8> {
    let code = qrcode::QrCode::new(text).expect("qr");
    let width = code.width() as u32;
    let colors = code.to_colors();
    let side = (width + 8) * scale;
    let dark = |x: u32, y: u32| {
        let (mx, my) = (x / scale, y / scale);
        (4..width + 4).contains(&mx)
            && (4..width + 4).contains(&my)
            && colors[((my - 4) * width + (mx - 4)) as usize] == qrcode::Color::Dark
    };
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut png);
    let mut pixels = Vec::new();
    for y in 0..side {
        for x in 0..side {
            let v = if dark(x, y) { 0u8 } else { 255 };
            match color {
                image::ColorType::L8 => pixels.push(v),
                image::ColorType::Rgba8 => pixels.extend([v, v, v, 255]),
                image::ColorType::Rgb16 => {
                    pixels.extend([u16::from(v) * 257; 3].iter().flat_map(|s| s.to_be_bytes()))
                }
                _ => unreachable!(),
            }
        }
    }
    image::ImageEncoder::write_image(encoder, &pixels, side, side, color.into()).expect("png");
    png
}

#[test]
fn reads_the_console_qr_code_from_a_png() {
    for color in [
        image::ColorType::L8,
        image::ColorType::Rgba8,
        image::ColorType::Rgb16,
    ] {
        let png = qr_png(AWS_URI.as_bytes(), 4, color);
        let s = ConsoleSecret::from_qr_png(&png).expect("reads");
        assert_eq!(s.seed.expose(), secret_bytes().as_slice(), "{color:?}");
        assert_eq!(
            s.label.expect("label").to_string(),
            "Amazon Web Services:root-account-mfa-device@123456789012"
        );
    }
}

#[test]
fn qr_codes_that_are_not_an_aws_secret() {
    let png = qr_png(
        b"https://example.com/JBSWY3DPEHPK3PXP",
        4,
        image::ColorType::L8,
    );
    let err = ConsoleSecret::from_qr_png(&png).err().expect("refused");
    assert!(matches!(err, SecretError::NotOtpauth), "{err}");
    assert!(!err.to_string().contains("JBSWY3DP"));

    let blank = {
        let mut png = Vec::new();
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut png),
            &[255u8; 64 * 64],
            64,
            64,
            image::ExtendedColorType::L8,
        )
        .expect("png");
        png
    };
    assert!(matches!(
        ConsoleSecret::from_qr_png(&blank),
        Err(SecretError::Qr(QrError::NoCode))
    ));
    assert!(matches!(
        ConsoleSecret::from_qr_png(b"GIF89a not a png"),
        Err(SecretError::Qr(QrError::Image(_)))
    ));
}

/// A PNG that is all header: signature, IHDR for `width`×`height` at `depth` bits of
/// `color` (PNG colour type), an empty IDAT and IEND. Decoding it would fail, so only a
/// refusal from the header gives [`QrError::TooLarge`].
fn png_header(width: u32, height: u32, depth: u8, color: u8) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, color, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &[]);
    chunk(&mut png, b"IEND", &[]);
    png
}

#[test]
fn huge_images_are_refused_from_their_header() {
    // The control: a small header passes the checks and fails at decoding.
    assert!(matches!(
        read_qr(&png_header(64, 64, 8, 0)),
        Err(QrError::Image(_))
    ));
    for (w, h, depth, color) in [
        // 8192×8192 RGBA, 16 bits: 512 MiB decoded.
        (8192, 8192, 16, 6),
        // Sides over the cap, whatever the depth.
        (4097, 16, 8, 0),
        (16, 4097, 8, 0),
        // Within the sides, over the byte cap: 128 MiB.
        (4096, 4096, 16, 6),
        // Just over it: 4096×2049×8 bytes.
        (4096, 2049, 16, 6),
    ] {
        let err = read_qr(&png_header(w, h, depth, color)).err();
        assert!(
            matches!(err, Some(QrError::TooLarge)),
            "{w}x{h}@{depth}: {err:?}"
        );
    }
    let message = QrError::TooLarge.to_string();
    assert!(message.contains("4096 pixels a side"), "{message}");
    assert!(message.contains("64 MiB"), "{message}");
}

fn label() -> CredentialId {
    crate::mfa::labels::root_label(Some("123456789012")).expect("label")
}

#[test]
fn writes_and_computes_t_minus_1_and_t() {
    let mut card = FakeCard::new(Some(32));
    let now = 1_700_000_015; // mid-step: 56_666_667
    let seed = Seed::from_base32(SEED).expect("seed");
    let w = write(&mut card, &label(), seed, false, now).expect("written");
    let step = now / 30;
    assert_eq!(w.codes[0].value, totp(&secret_bytes(), step - 1));
    assert_eq!(w.codes[1].value, totp(&secret_bytes(), step));
    assert_eq!(w.valid_until, (step + 2) * 30);
    assert_eq!(w.credential, "Amazon Web Services:root@123456789012");
    assert_eq!(card.names().len(), 1);
    // Writing the same name again is refused by check(), before any write.
    assert!(matches!(
        check(&mut card, &label()),
        Err(Cause::Refused(Refusal::CredentialExists(_)))
    ));
    remove(&mut card, &label()).expect("removed");
    assert!(card.names().is_empty());
}

#[test]
fn a_failure_after_put_deletes_the_credential_again() {
    let mut card = FakeCard::new(Some(32));
    card.fail_write(WriteStage::AfterPut, || oath::Error::TouchTimeout);
    let seed = Seed::from_base32(SEED).expect("seed");
    let f = write(&mut card, &label(), seed, true, 1_700_000_015).expect_err("fails");
    assert!(matches!(
        f.cause,
        Cause::Card {
            step: Step::Calculate,
            error: oath::Error::TouchTimeout
        }
    ));
    assert_eq!(f.undone.len(), 1);
    assert!(f.leftovers.is_empty());
    assert!(card.names().is_empty());

    // When the delete fails too, the credential is named as left over.
    let mut card = FakeCard::new(Some(32));
    card.fail_write(WriteStage::AfterPut, || oath::Error::TouchTimeout);
    card.fail_deletes(|| oath::Error::TouchTimeout);
    let seed = Seed::from_base32(SEED).expect("seed");
    let f = write(&mut card, &label(), seed, false, 1_700_000_015).expect_err("fails");
    assert!(matches!(
        &f.leftovers[..],
        [Leftover::Credential { name, token_serial: Some(Serial(12_345_678)), .. }]
            if name == "Amazon Web Services:root@123456789012"
    ));
}

#[test]
fn check_refuses_a_full_token() {
    let mut card = FakeCard::new(Some(1));
    card.add_key("other", &[1; 20]);
    assert!(matches!(
        check(&mut card, &label()),
        Err(Cause::Refused(Refusal::TokenFull(1)))
    ));
}

#[test]
fn only_an_explicit_no_removes_the_credential() {
    for (answer, expected) in [
        (Some("n\n"), Confirmation::Remove),
        (Some(" NO \n"), Confirmation::Remove),
        (Some("y\n"), Confirmation::Keep),
        (Some("Yes\n"), Confirmation::Keep),
        (None, Confirmation::Keep),
        (Some("\n"), Confirmation::AskAgain),
        (Some("maybe\n"), Confirmation::AskAgain),
    ] {
        assert_eq!(Confirmation::of(answer), expected, "{answer:?}");
    }
}

#[test]
fn account_ids_are_12_digits() {
    assert_eq!(account_id(" 123456789012\n"), Some("123456789012"));
    assert_eq!(account_id("12345"), None);
    assert_eq!(account_id("12345678901x"), None);
}

fn left_on_token() -> Leftover {
    Leftover::Credential {
        name: "AWS:root@aws".into(),
        token_serial: None,
        token: "YubiKey 5".into(),
        reason: "the token was removed".into(),
    }
}

#[test]
fn an_error_says_what_is_left_on_the_token() {
    let undone = |left| Error::Undone {
        interrupted: true,
        left,
    };
    assert_eq!(
        undone(None).remains(),
        "; the credential was removed from the token"
    );
    let remains = undone(Some(left_on_token())).remains();
    assert!(remains.starts_with("\nThis could not be undone and remains:\n  - "));
    let failed = |undone: Vec<String>| {
        let cause = Cause::Interrupted;
        let leftovers = Vec::new();
        Error::Failed(Box::new(Failure {
            cause,
            undone,
            leftovers,
        }))
    };
    assert_eq!(failed(Vec::new()).remains(), "");
    assert_eq!(
        failed(vec!["deleted".into()]).remains(),
        "\nThe credential was removed again: nothing is left on the token."
    );
    assert!(failed(Vec::new()).leftover().is_none());
}

#[test]
fn validity_counts_down_then_says_expired() {
    let until = 1_700_000_000 - 1_700_000_000 % 86_400 + 12 * 3600 + 34 * 60 + 56; // 12:34:56 UTC
    let left = validity(until, until - 47);
    assert_eq!(left, "Enter them within 47 s (until 12:34:56 UTC).");
    assert!(validity(until, until).contains("expired"));
    assert!(validity(until, until + 5).contains("expired"));
}

#[test]
fn the_codes_and_the_outcome_as_a_person_reads_them() {
    let mut card = FakeCard::new(Some(32));
    let ask = || Ok(Zeroizing::new(SEED.to_owned()));
    let account = Some("123456789012");
    let ready = prepare(&mut card, &Source::Prompt, ask, None, account).expect("ready");
    let name = "Amazon Web Services:root@123456789012";
    let code = format!("(ykman oath accounts code '{name}')");
    let stays = ready.stays("YubiKey 5 [12345678]", Some(Serial(12_345_678)));
    assert!(stays.starts_with(&format!("'{name}' stays on YubiKey 5 [12345678]. If the console did not accept the codes, remove it: ykman --device 12345678 oath accounts delete")), "{stays}");
    assert!(
        stays.ends_with(&format!(
            "\nThe codes just used can't sign in again: the next sign-in needs a fresh one {code}.\n{}", super::assist::ROOT_PRIMARY
        )),
        "{stays}"
    );
    assert_eq!(
        removed(&ready.id, "YubiKey 5"),
        format!("Removed '{name}' from YubiKey 5: nothing is left of this attempt.")
    );

    let seed = Seed::from_base32(SEED).expect("seed");
    let w = write(&mut card, &label(), seed, false, 1_700_000_015).expect("written");
    assert_eq!(
        w.instructions(),
        "Type these into the console, in this order (MFA code 1, MFA code 2):"
    );
    assert!(w.done("YubiKey 5").starts_with(&format!(
        "Done: the root user's MFA is on YubiKey 5 as '{name}'. The codes just used"
    )));
    assert_eq!(
        w.json(),
        serde_json::json!({
            "schema": "ykmfa.enroll-root/1",
            "credential": name,
            "codes": [w.codes[0].value, w.codes[1].value],
            "valid_until": w.valid_until,
        })
    );
}
