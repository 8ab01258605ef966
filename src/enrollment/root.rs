//! The root user's MFA. AWS enrolls it only in the console (REFERENCE.md §1): the console shows
//! a secret, as a QR code or as Base32 text after "Show secret key", and asks for two
//! consecutive codes. This module reads that secret, writes it to a token and computes the two
//! codes there; no IAM call is made.
//!
//! It must never put the secret, or the otpauth URI that carries it, into an error, a log line or
//! a `Debug` output. Every buffer that holds either is zeroized on drop, the decoded QR image
//! included; the result is a [`Seed`]. Like the rest of the library it never prints.

use std::ops::{Deref, DerefMut};

use zeroize::{Zeroize, Zeroizing};

use super::{Card, Cause, Failure, Leftover, Refusal, Step, WriteError, AWS_ISSUER};
use crate::oath::{self, Algorithm, Code, CredentialData, CredentialId, TimeStep};
use crate::seed::{Seed, SeedError};

/// AWS virtual MFA: TOTP, HMAC-SHA1, 6 digits, 30 s (the only kind the console issues).
const PERIOD: u32 = 30;
const DIGITS: u32 = 6;
/// The account part of the default name when no account id is given.
pub const UNKNOWN_ACCOUNT: &str = "aws";
/// Larger inputs are refused before decoding: a console screenshot is far smaller.
pub const MAX_PNG_BYTES: usize = 32 << 20;
/// Images are refused from their header, before any pixel is decoded: a 4K screenshot fits,
/// and the console's QR code needs far less. Memory follows the pixels, not the file: an
/// 8192×8192 16-bit RGBA PNG of a few kilobytes would decode to 512 MiB.
const MAX_SIDE: u32 = 4096;
/// The decoded pixels, at the image's own depth (a 4096×4096 RGBA image is exactly this).
const MAX_DECODED_BYTES: u64 = 64 << 20;
/// Room for the longest QR payload (7089 numeric characters), so the buffer never grows.
const QR_PAYLOAD_CAPACITY: usize = 8192;

/// The secret the console showed, and the name its QR code carried, if it carried one.
/// No `Debug`: it holds the seed.
pub struct ConsoleSecret {
    /// The shared secret.
    pub seed: Seed,
    /// The credential name from the otpauth label, as the QR code says it.
    pub label: Option<CredentialId>,
}

/// Why the secret could not be read. No variant holds any part of the input.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Base32 that does not decode.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// Text that is not an `otpauth://totp/` or `otpauth://hotp/` URI.
    #[error("it is not an otpauth:// URI (the console's QR code holds one)")]
    NotOtpauth,
    /// An HOTP URI.
    #[error("the otpauth URI is for a counter-based (HOTP) credential; AWS virtual MFA is time-based (TOTP)")]
    NotTotp,
    /// No `secret` parameter.
    #[error("the otpauth URI has no secret")]
    NoSecret,
    /// A parameter given twice: which one counts is a guess ykmfa does not make.
    #[error("the otpauth URI gives '{0}' more than once")]
    Repeated(&'static str),
    /// A hash other than SHA1.
    #[error("the otpauth URI asks for {0}; AWS virtual MFA uses HMAC-SHA1")]
    Algorithm(&'static str),
    /// A code length other than 6.
    #[error("the otpauth URI asks for {0}; AWS virtual MFA codes have 6 digits")]
    Digits(String),
    /// A period other than 30 s.
    #[error("the otpauth URI asks for {0}; AWS virtual MFA codes change every 30 s")]
    Period(String),
    /// A malformed %-escape, or text that is not UTF-8.
    #[error("the otpauth URI has a malformed %-escape or is not UTF-8")]
    Encoding,
    /// The label can't be stored as a credential name.
    #[error("the QR code's label can't be a credential name: {0}")]
    Label(oath::Error),
    /// The QR image could not be read.
    #[error(transparent)]
    Qr(#[from] QrError),
}

/// Why a QR image gave no text.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// Not a PNG, or a broken one (the decoder's message says where; it never holds pixels).
    #[error("the image is not a readable PNG: {0}")]
    Image(String),
    /// Bigger than any screenshot of a QR code.
    #[error(
        "the image is too large: at most {} MiB, {MAX_SIDE} pixels a side and {} MiB of decoded \
         pixels; crop it to the QR code",
        MAX_PNG_BYTES >> 20,
        MAX_DECODED_BYTES >> 20
    )]
    TooLarge,
    /// No QR code found.
    #[error("no QR code was found in the image")]
    NoCode,
    /// A QR code was found but its content could not be decoded.
    #[error("a QR code was found but could not be read (cut off, blurred or too small?)")]
    Unreadable,
    /// Several QR codes with different content.
    #[error("the image holds more than one QR code; crop it to the console's")]
    Several,
}

impl ConsoleSecret {
    /// Text as a person pastes it: a whole otpauth URI, or the Base32 secret (any case, spaces
    /// between groups, padding optional).
    pub fn from_text(text: &str) -> Result<Self, SecretError> {
        let text = text.trim();
        if starts_with_ignore_case(text, "otpauth:") {
            return Self::from_uri(text);
        }
        Ok(ConsoleSecret {
            seed: Seed::from_base32(text)?,
            label: None,
        })
    }

    /// Parses an `otpauth://totp/LABEL?secret=…&issuer=…` URI (Google's Key URI format) and
    /// refuses what AWS never issues: HOTP, SHA256/SHA512, other digit counts or periods.
    pub fn from_uri(uri: &str) -> Result<Self, SecretError> {
        let uri = uri.trim();
        let rest = strip_prefix_ignore_case(uri, "otpauth://").ok_or(SecretError::NotOtpauth)?;
        let (kind, rest) = rest.split_once('/').ok_or(SecretError::NotOtpauth)?;
        if kind.eq_ignore_ascii_case("hotp") {
            return Err(SecretError::NotTotp);
        }
        if !kind.eq_ignore_ascii_case("totp") {
            return Err(SecretError::NotOtpauth);
        }
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (label, query) = rest.split_once('?').unwrap_or((rest, ""));

        let mut secret: Option<Zeroizing<String>> = None;
        let mut issuer: Option<Zeroizing<String>> = None;
        let mut algorithm: Option<Zeroizing<String>> = None;
        let mut digits: Option<Zeroizing<String>> = None;
        let mut period: Option<Zeroizing<String>> = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (slot, name) = match key.to_ascii_lowercase().as_str() {
                "secret" => (&mut secret, "secret"),
                "issuer" => (&mut issuer, "issuer"),
                "algorithm" => (&mut algorithm, "algorithm"),
                "digits" => (&mut digits, "digits"),
                "period" => (&mut period, "period"),
                // image=, counter= and vendor extensions say nothing AWS's codes depend on.
                _ => continue,
            };
            if slot.is_some() {
                return Err(SecretError::Repeated(name));
            }
            *slot = Some(percent_decode(value)?);
        }

        if let Some(a) = algorithm {
            match a.to_ascii_uppercase().as_str() {
                "SHA1" => {}
                "SHA256" => return Err(SecretError::Algorithm(algorithm_name(Algorithm::Sha256))),
                "SHA512" => return Err(SecretError::Algorithm(algorithm_name(Algorithm::Sha512))),
                _ => return Err(SecretError::Algorithm("an unknown hash")),
            }
        }
        if let Some(d) = digits {
            match d.trim().parse::<u32>() {
                Ok(DIGITS) => {}
                Ok(n) => return Err(SecretError::Digits(format!("{n}-digit codes"))),
                Err(_) => return Err(SecretError::Digits("an unreadable digit count".into())),
            }
        }
        if let Some(p) = period {
            match p.trim().parse::<u64>() {
                Ok(n) if n == u64::from(PERIOD) => {}
                Ok(n) => return Err(SecretError::Period(format!("a period of {n} s"))),
                Err(_) => return Err(SecretError::Period("an unreadable period".into())),
            }
        }
        let secret = secret.ok_or(SecretError::NoSecret)?;
        let seed = Seed::from_base32(&secret)?;
        drop(secret);

        let label = percent_decode(label)?;
        let label = credential_from_label(&label, issuer.as_deref().map(String::as_str))?;
        Ok(ConsoleSecret { seed, label })
    }

    /// Reads the console's QR code from a PNG image (a screenshot, or what the clipboard holds).
    pub fn from_qr_png(png: &[u8]) -> Result<Self, SecretError> {
        let payload = read_qr(png)?;
        let text = std::str::from_utf8(&payload).map_err(|_| SecretError::NotOtpauth)?;
        if !starts_with_ignore_case(text.trim(), "otpauth://") {
            return Err(SecretError::NotOtpauth);
        }
        Self::from_uri(text)
    }
}

fn algorithm_name(a: Algorithm) -> &'static str {
    match a {
        Algorithm::Sha1 => "HMAC-SHA1",
        Algorithm::Sha256 => "HMAC-SHA256",
        Algorithm::Sha512 => "HMAC-SHA512",
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    strip_prefix_ignore_case(text, prefix).is_some()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// RFC 3986 %-decoding into a zeroizing buffer that never grows (the output is never longer
/// than the input). `+` stays `+`: it is not a space outside form encoding.
fn percent_decode(text: &str) -> Result<Zeroizing<String>, SecretError> {
    let mut out = Zeroizing::new(Vec::with_capacity(text.len()));
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(SecretError::Encoding)?;
            let digit = |b: u8| char::from(b).to_digit(16).ok_or(SecretError::Encoding);
            out.push((digit(hex[0])? * 16 + digit(hex[1])?) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    match String::from_utf8(std::mem::take(&mut *out)) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(e) => {
            e.into_bytes().zeroize();
            Err(SecretError::Encoding)
        }
    }
}

/// The otpauth label is `[issuer:][ ]account`; the `issuer` parameter names the issuer when the
/// label does not. An empty label gives no name.
fn credential_from_label(
    label: &str,
    issuer_param: Option<&str>,
) -> Result<Option<CredentialId>, SecretError> {
    let label = label.trim();
    if label.is_empty() {
        return Ok(None);
    }
    let (issuer, account) = match label.split_once(':') {
        Some((issuer, account)) => (Some(issuer.trim()), account.trim_start()),
        None => (issuer_param.map(str::trim).filter(|i| !i.is_empty()), label),
    };
    CredentialId::totp(issuer, account)
        .map(Some)
        .map_err(SecretError::Label)
}

/// Pixels in a zeroizing buffer, in a form `image` and `rqrr` can work on in place: the QR
/// detector's copies of the image (it clones it while searching) are zeroized too.
#[derive(Clone)]
struct Pixels(Zeroizing<Vec<u8>>);

impl Deref for Pixels {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl DerefMut for Pixels {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

/// Decodes a PNG in memory and reads the one QR code in it. Nothing touches the disk.
pub fn read_qr(png: &[u8]) -> Result<Zeroizing<Vec<u8>>, QrError> {
    use image::ImageDecoder;

    if png.len() > MAX_PNG_BYTES {
        return Err(QrError::TooLarge);
    }
    // The decoder reads the header (IHDR) and refuses the sides there; the byte cap also bounds
    // what the PNG decoder allocates for itself.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    let decoder = image::codecs::png::PngDecoder::with_limits(std::io::Cursor::new(png), limits)
        .map_err(image_error)?;
    let (w, h) = decoder.dimensions();
    let color = decoder.color_type();
    // The buffer below is ours, allocated before decoding: the decoder's limits do not cover it.
    if decoder.total_bytes() > MAX_DECODED_BYTES {
        return Err(QrError::TooLarge);
    }
    let total = usize::try_from(decoder.total_bytes()).map_err(|_| QrError::TooLarge)?;
    let mut raw = Pixels(Zeroizing::new(vec![0u8; total]));
    decoder.read_image(&mut raw).map_err(image_error)?;

    let (channels, wide) = match color {
        image::ColorType::L8 => (1, false),
        image::ColorType::La8 => (2, false),
        image::ColorType::Rgb8 => (3, false),
        image::ColorType::Rgba8 => (4, false),
        image::ColorType::L16 => (1, true),
        image::ColorType::La16 => (2, true),
        image::ColorType::Rgb16 => (3, true),
        image::ColorType::Rgba16 => (4, true),
        _ => return Err(QrError::Image("unsupported colour type".into())),
    };
    let pixels = (w as usize) * (h as usize);
    let mut grey = Pixels(Zeroizing::new(Vec::with_capacity(pixels)));
    let size = if wide { 2 } else { 1 };
    for px in raw.chunks_exact(channels * size).take(pixels) {
        // 16-bit samples come in native byte order; their high byte is enough here.
        let sample = |i: usize| -> u32 {
            if wide {
                u32::from(u16::from_ne_bytes([px[2 * i], px[2 * i + 1]]) >> 8)
            } else {
                u32::from(px[i])
            }
        };
        let (luma, alpha) = match channels {
            1 => (sample(0), 255),
            2 => (sample(0), sample(1)),
            c => (
                (sample(0) * 299 + sample(1) * 587 + sample(2) * 114) / 1000,
                if c == 4 { sample(3) } else { 255 },
            ),
        };
        // Transparent pixels are shown over white by every viewer; so here.
        grey.0
            .push(((luma * alpha + 255 * (255 - alpha)) / 255) as u8);
    }
    drop(raw);
    let image = image::ImageBuffer::<image::Luma<u8>, Pixels>::from_raw(w, h, grey)
        .ok_or_else(|| QrError::Image("truncated pixel data".into()))?;

    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    if grids.is_empty() {
        return Err(QrError::NoCode);
    }
    let mut found: Option<Zeroizing<Vec<u8>>> = None;
    for grid in &grids {
        let mut payload = Zeroizing::new(Vec::with_capacity(QR_PAYLOAD_CAPACITY));
        if grid.decode_to(&mut *payload).is_err() {
            continue;
        }
        match &found {
            None => found = Some(payload),
            Some(first) if **first == *payload => {}
            Some(_) => return Err(QrError::Several),
        }
    }
    found.ok_or(QrError::Unreadable)
}

fn image_error(e: image::ImageError) -> QrError {
    match e {
        image::ImageError::Limits(_) => QrError::TooLarge,
        other => QrError::Image(other.to_string()),
    }
}

/// `Amazon Web Services:root@<account>`, or `…@aws` without an account id.
pub fn default_label(account: Option<&str>) -> Result<CredentialId, Refusal> {
    let account = account.unwrap_or(UNKNOWN_ACCOUNT);
    let name = format!("root@{account}");
    CredentialId::totp(Some(AWS_ISSUER), &name).map_err(|e| match e {
        oath::Error::NameTooLong { len, .. } => {
            Refusal::LabelTooLong(format!("{AWS_ISSUER}:{name}"), len)
        }
        _ => Refusal::LabelTooLong(format!("{AWS_ISSUER}:{name}"), 0),
    })
}

/// Read-only checks before anything is written: the token opens (unlocked), does not hold the
/// name, and has room.
pub fn check<C: Card>(card: &mut C, id: &CredentialId) -> Result<(), Cause> {
    let existing = card.list().map_err(|error| Cause::Card {
        step: Step::Preflight,
        error,
    })?;
    let name = id.to_bytes();
    if existing.iter().any(|c| c.raw_id == name) {
        return Err(Refusal::CredentialExists(id.to_string()).into());
    }
    if let Some(capacity) = card.capacity() {
        if existing.len() >= capacity {
            return Err(Refusal::TokenFull(existing.len()).into());
        }
    }
    Ok(())
}

/// The credential on the token and the two codes for the console.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Written {
    /// The credential name on the token.
    pub credential: String,
    /// Codes of steps T-1 and T, for the console's "MFA code 1" and "MFA code 2".
    pub codes: [Code; 2],
    /// Unix time until which the pair may be entered: the end of step T+1.
    pub valid_until: u64,
}

/// Writes the seed as an AWS-style credential and computes T-1 and T in the same transaction.
/// The seed is dropped (zeroized) before this returns. If the write may have happened and then
/// failed, the credential is deleted again, or named as a [`Leftover`].
pub fn write<C: Card>(
    card: &mut C,
    id: &CredentialId,
    seed: Seed,
    touch: bool,
    now: u64,
) -> Result<Written, Box<Failure>> {
    let data = CredentialData::aws_totp(id.clone(), seed, touch);
    let step = TimeStep::at(now, PERIOD);
    let result = card.write_and_calculate(&data, [step.prev(), step]);
    drop(data);
    match result {
        Ok(codes) => {
            let valid_until = codes[1].valid_to + u64::from(PERIOD);
            Ok(Written {
                credential: id.to_string(),
                codes,
                valid_until,
            })
        }
        Err(WriteError::NotWritten(error)) => Err(Box::new(Failure {
            cause: Cause::Card {
                step: Step::Write,
                error,
            },
            undone: Vec::new(),
            leftovers: Vec::new(),
        })),
        Err(WriteError::MaybeWritten(error)) => {
            let step = if matches!(error, oath::Error::TouchTimeout) {
                Step::Calculate
            } else {
                Step::Write
            };
            let (undone, leftovers) = match remove(card, id) {
                Ok(what) => (vec![what], Vec::new()),
                Err(left) => (Vec::new(), vec![left]),
            };
            Err(Box::new(Failure {
                cause: Cause::Card { step, error },
                undone,
                leftovers,
            }))
        }
    }
}

/// Deletes the credential (absent is fine). Says what was done, or what is left.
pub fn remove<C: Card>(card: &mut C, id: &CredentialId) -> Result<String, Leftover> {
    match card.delete(&id.to_bytes()) {
        Ok(()) => Ok(format!(
            "deleted credential '{id}' from {}",
            card.describe()
        )),
        Err(e) => Err(Leftover::Credential {
            name: id.to_string(),
            token_serial: card.serial(),
            token: card.describe(),
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oath::{Credential, OathType};
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
        let no_label =
            ConsoleSecret::from_uri("otpauth://totp/?secret=JBSWY3DPEHPK3PXP").expect("ok");
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

    #[test]
    fn default_labels() {
        assert_eq!(
            default_label(Some("123456789012")).expect("ok").to_string(),
            "Amazon Web Services:root@123456789012"
        );
        assert_eq!(
            default_label(None).expect("ok").to_string(),
            "Amazon Web Services:root@aws"
        );
        assert!(matches!(
            default_label(Some(&"9".repeat(60))),
            Err(Refusal::LabelTooLong(_, 85))
        ));
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

    /// A token in memory: credentials by name, with their keys, computing codes with its own
    /// HMAC; it can fail the write after PUT.
    #[derive(Default)]
    struct FakeCard {
        creds: Vec<(Vec<u8>, Vec<u8>)>,
        fail_after_put: bool,
        fail_delete: bool,
        capacity: Option<usize>,
    }

    impl FakeCard {
        fn code(key: &[u8], step: TimeStep) -> Code {
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("key");
            mac.update(&step.0.to_be_bytes());
            let h = mac.finalize().into_bytes();
            let o = usize::from(h[19] & 0x0f);
            let truncated = [6, h[o], h[o + 1], h[o + 2], h[o + 3]];
            Code::from_truncated(&truncated, step, 30).expect("code")
        }
    }

    impl Card for FakeCard {
        fn write_and_calculate(
            &mut self,
            data: &CredentialData,
            steps: [TimeStep; 2],
        ) -> Result<[Code; 2], WriteError> {
            let id = data.id.to_bytes();
            if self.creds.iter().any(|(n, _)| *n == id) {
                return Err(WriteError::NotWritten(oath::Error::CredentialExists(
                    data.id.to_string(),
                )));
            }
            self.creds.push((id, data.secret.expose().to_vec()));
            if self.fail_after_put {
                return Err(WriteError::MaybeWritten(oath::Error::TouchTimeout));
            }
            let key = &self.creds.last().expect("just put").1;
            Ok([Self::code(key, steps[0]), Self::code(key, steps[1])])
        }
        fn calculate(&mut self, _: &[u8], _: TimeStep) -> Result<Code, oath::Error> {
            Err(oath::Error::Unsupported("CALCULATE"))
        }
        fn delete(&mut self, raw_id: &[u8]) -> Result<(), oath::Error> {
            if self.fail_delete {
                return Err(oath::Error::TouchTimeout);
            }
            self.creds.retain(|(n, _)| n != raw_id);
            Ok(())
        }
        fn list(&mut self) -> Result<Vec<Credential>, oath::Error> {
            Ok(self
                .creds
                .iter()
                .map(|(n, _)| Credential {
                    id: CredentialId::parse(n, OathType::Totp),
                    raw_id: n.clone(),
                    oath_type: OathType::Totp,
                    algorithm: Some(Algorithm::Sha1),
                    touch: None,
                })
                .collect())
        }
        fn describe(&self) -> String {
            "YubiKey 12345678".into()
        }
        fn serial(&self) -> Option<Serial> {
            Some(Serial(12_345_678))
        }
        fn capacity(&self) -> Option<usize> {
            self.capacity
        }
        fn kind(&self) -> String {
            "YubiKey".into()
        }
    }

    fn label() -> CredentialId {
        default_label(Some("123456789012")).expect("label")
    }

    #[test]
    fn writes_and_computes_t_minus_1_and_t() {
        let mut card = FakeCard::default();
        let now = 1_700_000_015; // mid-step: 56_666_667
        let seed = Seed::from_base32(SEED).expect("seed");
        let w = write(&mut card, &label(), seed, false, now).expect("written");
        let step = now / 30;
        assert_eq!(w.codes[0].value, totp(&secret_bytes(), step - 1));
        assert_eq!(w.codes[1].value, totp(&secret_bytes(), step));
        assert_eq!(w.valid_until, (step + 2) * 30);
        assert_eq!(w.credential, "Amazon Web Services:root@123456789012");
        assert_eq!(card.creds.len(), 1);
        // Writing the same name again is refused by check(), before any write.
        assert!(matches!(
            check(&mut card, &label()),
            Err(Cause::Refused(Refusal::CredentialExists(_)))
        ));
        remove(&mut card, &label()).expect("removed");
        assert!(card.creds.is_empty());
    }

    #[test]
    fn a_failure_after_put_deletes_the_credential_again() {
        let mut card = FakeCard {
            fail_after_put: true,
            ..FakeCard::default()
        };
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
        assert!(card.creds.is_empty());

        // When the delete fails too, the credential is named as left over.
        let mut card = FakeCard {
            fail_after_put: true,
            fail_delete: true,
            ..FakeCard::default()
        };
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
        let mut card = FakeCard {
            capacity: Some(1),
            creds: vec![(b"other".to_vec(), vec![1; 20])],
            ..FakeCard::default()
        };
        assert!(matches!(
            check(&mut card, &label()),
            Err(Cause::Refused(Refusal::TokenFull(1)))
        ));
    }
}
