//! The root user's MFA. AWS enrolls it only in the console (REFERENCE.md §1): the console shows
//! a secret, as a QR code or as Base32 text after "Show secret key", and asks for two
//! consecutive codes. This module reads that secret, writes it to a token and computes the two
//! codes there; no IAM call is made.
//!
//! It must never put the secret, or the otpauth URI that carries it, into an error, a log line or
//! a `Debug` output. Every buffer that holds either is zeroized on drop, the decoded QR image
//! included; the result is a [`Seed`]. Like the rest of the library it never prints.

mod assist;
mod source;

use std::ops::{Deref, DerefMut};

use zeroize::{Zeroize, Zeroizing};

use super::{Cause, Failure, Refusal, Step};
use crate::mfa::Leftover;
use crate::oath::{self, Algorithm, Code, CredentialData, CredentialId, TimeStep};
use crate::seed::{Seed, SeedError};
use crate::token::{Card, WriteError};

pub use assist::{ask_on_tty, prepare, removed, validity, Console, Error, Ready};
pub use source::{Source, SourceError, Unreadable, MAX_SECRET_TEXT};

/// AWS virtual MFA: TOTP, HMAC-SHA1, 6 digits, 30 s (the only kind the console issues).
const PERIOD: u32 = 30;
const DIGITS: u32 = 6;
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

/// `--account`: an AWS account id is 12 digits (surrounding spaces are ignored).
pub fn account_id(text: &str) -> Option<&str> {
    let text = text.trim();
    (text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())).then_some(text)
}

/// The credential's name: an explicit `--label` wins over the QR code's, the QR code's over
/// the default for `account`.
pub fn credential_id(
    explicit: Option<CredentialId>,
    from_qr: Option<CredentialId>,
    account: Option<&str>,
) -> Result<CredentialId, Cause> {
    match explicit.or(from_qr) {
        Some(id) => Ok(id),
        None => Ok(crate::mfa::labels::root_label(account)?),
    }
}

/// What a person answered when asked whether the console accepted the codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// The console accepted the codes: the credential stays.
    Keep,
    /// It did not: the credential goes.
    Remove,
    /// Neither yes nor no.
    AskAgain,
}

impl Confirmation {
    /// An answer line (`None` at the end of input). An empty answer is not a no: deleting a
    /// credential the console did accept would leave the root user with an MFA device nobody can
    /// answer for, so only an explicit n removes it. The end of input (Ctrl-D) keeps it, for the
    /// same reason.
    pub fn of(answer: Option<&str>) -> Self {
        match answer.map(|a| a.trim().to_ascii_lowercase()).as_deref() {
            None | Some("y" | "yes") => Confirmation::Keep,
            Some("n" | "no") => Confirmation::Remove,
            Some(_) => Confirmation::AskAgain,
        }
    }
}

/// What the person sees while [`await_verdict`] waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// The answer was neither yes nor no: ask again.
    Again,
    /// A second passed: the time left is redrawn (`now` is the clock's time).
    Tick(u64),
}

/// Waits for the answer to "did the console accept the codes?" among `answers` (lines; the end
/// of input closes it), asking again after an unclear one, with a [`Asking::Tick`] each second
/// while the pair is valid when `ticking`. `None`: `interrupted` came first.
pub async fn await_verdict(
    answers: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    interrupted: impl std::future::Future<Output = ()>,
    valid_until: u64,
    clock: &dyn crate::mfa::Clock,
    ticking: bool,
    show: impl Fn(Asking),
) -> Option<Confirmation> {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut expired = false;
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            line = answers.recv() => match Confirmation::of(line.as_deref()) {
                Confirmation::AskAgain => show(Asking::Again),
                answer => return Some(answer),
            },
            () = &mut interrupted => return None,
            _ = tick.tick(), if ticking && !expired => {
                let now = clock.now();
                expired = now >= valid_until;
                show(Asking::Tick(now));
            }
        }
    }
}

/// Read-only checks before anything is written: the token opens (unlocked), does not hold the
/// name, and has room.
pub fn check<C: Card>(card: &mut C, id: &CredentialId) -> Result<(), Cause> {
    if let Some(error) = card.refuses_credentials() {
        return Err(Cause::Card {
            step: Step::Preflight,
            error,
        });
    }
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
mod tests;
