//! Password protection of the OATH applet: key derivation and mutual authentication.
//!
//! The password becomes a 16-byte key with PBKDF2-HMAC-SHA1 (1000 rounds, the salt from SELECT).
//! VALIDATE proves the host knows the key and makes the card prove it too; the card's proof is
//! checked in constant time so a card impersonator learns nothing from timing.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// An OATH applet password (or a Nitrokey PIN). No `Debug`, zeroized on drop.
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps a password read from a prompt or the environment.
    pub fn new(text: String) -> Self {
        Password(Zeroizing::new(text))
    }

    /// The password bytes.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Whether the password is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The password as it was read (a prompt, `YKMFA_OATH_PASSWORD`), without a copy.
impl From<Zeroizing<String>> for Password {
    fn from(text: Zeroizing<String>) -> Self {
        Password(text)
    }
}

/// The 16-byte access key derived from a password.
pub type AccessKey = Zeroizing<[u8; 16]>;

/// PBKDF2-HMAC-SHA1(password, salt, 1000 rounds, 16 bytes), as YKOATH specifies.
pub fn derive_key(password: &Password, salt: &[u8]) -> AccessKey {
    let mut key = Zeroizing::new([0u8; 16]);
    pbkdf2::pbkdf2_hmac::<Sha1>(password.expose(), salt, 1000, key.as_mut());
    key
}

/// HMAC-SHA1 of `message` under `key`.
pub fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match <Hmac<Sha1> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cold]
fn unreachable_hmac() -> ! {
    // `new_from_slice` only fails for fixed-size-key MACs; HMAC is not one.
    panic!("HMAC rejected a key, which it never does")
}

/// Constant-time comparison of the card's proof with the expected one.
pub fn verify(expected: &[u8], actual: &[u8]) -> bool {
    expected.len() == actual.len() && bool::from(expected.ct_eq(actual))
}

#[cfg(test)]
mod tests;
