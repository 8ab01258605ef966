//! The card's primitives: HMAC over the three OATH hash algorithms, randomness, key fingerprints.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use std::io::Read;

/// OATH hash algorithm, low nibble of the PUT / SET CODE type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA1 (`01`).
    Sha1,
    /// HMAC-SHA256 (`02`).
    Sha256,
    /// HMAC-SHA512 (`03`).
    Sha512,
}

impl Algorithm {
    /// From the low nibble of a type byte.
    pub fn from_code(code: u8) -> Option<Algorithm> {
        match code & 0x0F {
            0x01 => Some(Algorithm::Sha1),
            0x02 => Some(Algorithm::Sha256),
            0x03 => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            Algorithm::Sha1 => 0x01,
            Algorithm::Sha256 => 0x02,
            Algorithm::Sha512 => 0x03,
        }
    }

    /// Name used in the state dump.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }

    /// Hash block size: hosts pre-hash longer secrets, so a stored key never exceeds it.
    pub fn block_size(self) -> usize {
        match self {
            Algorithm::Sha1 | Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    /// HMAC of `message` under `key`.
    pub fn hmac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
            // HMAC accepts keys of any length, so this cannot fail.
            match <M as hmac::digest::KeyInit>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(message);
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            Algorithm::Sha1 => run::<Hmac<Sha1>>(key, message),
            Algorithm::Sha256 => run::<Hmac<Sha256>>(key, message),
            Algorithm::Sha512 => run::<Hmac<Sha512>>(key, message),
        }
    }
}

/// RFC 4226 dynamic truncation: 4 bytes at the offset given by the last nibble, top bit cleared.
pub fn truncate(mac: &[u8]) -> [u8; 4] {
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0F);
    let mut out = [0u8; 4];
    if let Some(src) = mac.get(offset..offset + 4) {
        out.copy_from_slice(src);
    }
    out[0] &= 0x7F;
    out
}

/// Bytes from the kernel's CSPRNG.
pub fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut out));
    if filled.is_err() {
        // A bench without /dev/urandom still works; its challenges are just predictable.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let digest = Sha256::digest(nanos.to_be_bytes());
        for (o, d) in out.iter_mut().zip(digest.iter().cycle()) {
            *o = *d;
        }
    }
    out
}

/// First 16 hex digits of SHA-256: identifies a stored key in dumps without revealing it.
pub fn fingerprint(key: &[u8]) -> String {
    crate::apdu::hex(&Sha256::digest(key)[..8]).to_lowercase()
}

/// SHA-256, for the salt-derived device id.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Constant-time comparison of two MACs.
pub fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4226_truncation_example() {
        // RFC 4226 section 5.4.
        let mac = [
            0x1f, 0x86, 0x98, 0x69, 0x0e, 0x02, 0xca, 0x16, 0x61, 0x85, 0x50, 0xef, 0x7f, 0x19,
            0xda, 0x8e, 0x94, 0x5b, 0x55, 0x5a,
        ];
        assert_eq!(u32::from_be_bytes(truncate(&mac)), 0x50ef7f19);
    }

    #[test]
    fn hmac_lengths() {
        assert_eq!(Algorithm::Sha1.hmac(b"k", b"m").len(), 20);
        assert_eq!(Algorithm::Sha256.hmac(b"k", b"m").len(), 32);
        assert_eq!(Algorithm::Sha512.hmac(b"k", b"m").len(), 64);
    }

    #[test]
    fn fingerprint_is_16_hex() {
        assert_eq!(fingerprint(b"abc"), "ba7816bf8f01cfea");
    }
}
