//! A one-way fingerprint of a credential's secret: how ykmfa later tells the credential it wrote
//! from another of the same name (a person re-enrolled by hand, another ykmfa, a reset token).
//!
//! A credential on a token is the last copy of its seed, so an undo or a recovery deletes one
//! only when the token proves it is the very credential ykmfa wrote. The proof is the HMAC of a
//! random challenge, computed on the host from the seed just before the PUT (so the journal holds
//! it before the credential can exist), and asked of the token again before any delete.
//!
//! The challenge has its top bit set: as a TOTP time step it lies some 10^11 years ahead, so the
//! stored response can never serve as an authentication code. It is kept in the journal; the seed
//! never is.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::{Algorithm, CredentialData};

/// The HMAC of a random non-time-step challenge under a credential's secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The 8-byte challenge, hex.
    challenge: String,
    /// The full HMAC of the challenge, hex.
    hmac: String,
}

/// What the token's answer to the fingerprint's challenge shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The token's credential has the secret ykmfa wrote.
    Same,
    /// Another secret under the same name.
    Different,
}

impl Fingerprint {
    /// The fingerprint of `data`'s secret under a fresh random challenge.
    pub fn of(data: &CredentialData) -> Self {
        let mut challenge = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut challenge);
        challenge[0] |= 0x80;
        let hmac = hmac(data.algorithm, data.secret.expose(), &challenge);
        Fingerprint {
            challenge: hex(&challenge),
            hmac: hex(&hmac),
        }
    }

    /// The challenge to send with CALCULATE.
    pub fn challenge(&self) -> Vec<u8> {
        unhex(&self.challenge).unwrap_or_default()
    }

    /// Compares a CALCULATE answer to the challenge: the full HMAC (P2 00, without its digits
    /// byte), or a truncated answer (P2 01: digits byte, then 4 bytes), which is all some tokens
    /// (Nitrokey's Secrets App) compute.
    pub fn compare(&self, answer: &[u8]) -> Proof {
        let Some(full) = unhex(&self.hmac) else {
            return Proof::Different;
        };
        let same = match answer {
            [_digits, a, b, c, d] => {
                // RFC 4226 dynamic truncation of our HMAC, top bit masked as tokens do.
                let Some(offset) = full.last().map(|l| usize::from(l & 0x0F)) else {
                    return Proof::Different;
                };
                let Some(ours) = full.get(offset..offset + 4) else {
                    return Proof::Different;
                };
                let ours = [ours[0] & 0x7F, ours[1], ours[2], ours[3]];
                bool::from(ours.ct_eq(&[*a & 0x7F, *b, *c, *d]))
            }
            _ => answer.len() == full.len() && bool::from(answer.ct_eq(&full)),
        };
        if same {
            Proof::Same
        } else {
            Proof::Different
        }
    }

    /// Whether the record is well formed (a journal edited by hand may not be).
    pub fn is_valid(&self) -> bool {
        unhex(&self.challenge).is_some_and(|c| c.len() == 8 && c[0] & 0x80 != 0)
            && unhex(&self.hmac).is_some_and(|h| h.len() >= 20)
    }
}

fn hmac(algorithm: Algorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC pads short keys with zeros and hashes long ones, exactly as YKOATH tokens store them,
    // so the host's answer equals the token's.
    // HMAC takes keys of any length; were it ever to refuse one, an empty answer matches no
    // token's, and the credential is kept.
    fn run<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
        match <M as KeyInit>::new_from_slice(key) {
            Ok(mut mac) => {
                mac.update(message);
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }
    match algorithm {
        Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, message),
        Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, message),
        Algorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, message),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests;
