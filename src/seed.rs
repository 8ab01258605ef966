//! The seed: the shared secret of an OATH credential, as AWS issues it for a virtual MFA device.
//!
//! Rule one of ykmfa lives here. A [`Seed`] has no `Debug`, `Display`, `Serialize` or `Clone`;
//! its bytes are zeroized on drop; the only ways out are [`Seed::expose`] (borrowed, for the
//! code that writes it to a token) and nothing else. Intermediate buffers used while decoding are
//! zeroized too.
//!
//! The wipe on drop is written out rather than left to `Zeroizing`, so that unit tests can
//! check it through [`drop_probe`]: the bytes are overwritten in place first (the buffer keeps
//! its length, and the probe sees exactly what the allocator will get back), then the whole
//! capacity is wiped and the buffer released.

use zeroize::{Zeroize, Zeroizing};

/// A shared secret that must never be shown, logged, stored or copied around.
pub struct Seed(Vec<u8>);

impl Drop for Seed {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
        #[cfg(test)]
        drop_probe::record(&self.0);
        // Also the spare capacity, then the length.
        self.0.zeroize();
    }
}

/// Why a seed could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SeedError {
    /// The text is not Base32 (the message never repeats the text).
    #[error("the secret is not valid Base32 (RFC 4648: letters A-Z and digits 2-7)")]
    NotBase32,
    /// Nothing to decode.
    #[error("the secret is empty")]
    Empty,
    /// Shorter than any real service issues; most likely a paste went wrong.
    #[error("the secret decodes to {0} bytes; at least 10 are expected (80 bits, RFC 4226)")]
    TooShort(usize),
}

impl Seed {
    /// Takes ownership of raw secret bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Seed(bytes)
    }

    /// Decodes Base32 as services print it: any case, spaces or dashes between groups, padding
    /// optional.
    pub fn from_base32(text: &str) -> Result<Self, SeedError> {
        let mut clean: Zeroizing<String> = Zeroizing::new(String::with_capacity(text.len()));
        for c in text.chars() {
            match c {
                ' ' | '\t' | '\n' | '\r' | '-' | '=' => {}
                c if c.is_ascii_alphanumeric() => clean.push(c.to_ascii_uppercase()),
                _ => return Err(SeedError::NotBase32),
            }
        }
        if clean.is_empty() {
            return Err(SeedError::Empty);
        }
        // A Base32 text of length 1, 3 or 6 (mod 8) cannot be produced by any byte string.
        if matches!(clean.len() % 8, 1 | 3 | 6) {
            return Err(SeedError::NotBase32);
        }
        let bytes = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &clean)
            .ok_or(SeedError::NotBase32)?;
        let seed = Seed::from_bytes(bytes);
        if seed.len() < 10 {
            return Err(SeedError::TooShort(seed.len()));
        }
        Ok(seed)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The secret bytes, borrowed: only for code that hands them to a token.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Overwrites the bytes with zeros now, before the value is dropped (the length stays).
    pub fn wipe(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

/// Makes sure no core dump of this process can be written while a seed may be in memory:
/// the core size limit drops to 0 and the process is marked not dumpable (which also keeps
/// other processes of the same user from attaching a debugger to read its memory).
///
/// Called once at start-up by the binary; failure is reported, not fatal.
pub fn forbid_core_dumps() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{setrlimit, Resource, Rlimit};
        setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        )?;
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    }
    Ok(())
}

/// What the last [`Seed`] dropped on this thread looked like just before its buffer was
/// released: the test hook that proves the wipe on drop.
#[cfg(test)]
pub(crate) mod drop_probe {
    use std::cell::RefCell;

    thread_local! {
        static LAST: RefCell<Option<(usize, bool)>> = const { RefCell::new(None) };
    }

    pub(super) fn record(bytes: &[u8]) {
        LAST.with(|l| *l.borrow_mut() = Some((bytes.len(), bytes.iter().all(|&b| b == 0))));
    }

    /// `(length, all zero)` of the last seed dropped on this thread, once.
    pub(crate) fn take() -> Option<(usize, bool)> {
        LAST.with(|l| l.borrow_mut().take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base32_as_services_print_it() {
        let a = Seed::from_base32("JBSWY3DPEHPK3PXP").expect("valid");
        assert_eq!(a.expose(), b"Hello!\xde\xad\xbe\xef");
        for variant in [
            "jbswy3dpehpk3pxp",
            "JBSW Y3DP EHPK 3PXP",
            "JBSW-Y3DP-EHPK-3PXP",
            "JBSWY3DPEHPK3PXP\n",
        ] {
            assert_eq!(
                Seed::from_base32(variant).expect(variant).expose(),
                a.expose()
            );
        }
        // Padding is accepted and not required.
        let padded = Seed::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").expect("valid");
        assert_eq!(padded.expose(), b"12345678901234567890");
    }

    #[test]
    fn rejects_what_is_not_a_seed() {
        assert_eq!(Seed::from_base32("").err(), Some(SeedError::Empty));
        assert_eq!(Seed::from_base32("  ").err(), Some(SeedError::Empty));
        assert_eq!(
            Seed::from_base32("JBSWY3DPEHPK3PX1").err(),
            Some(SeedError::NotBase32)
        );
        assert_eq!(
            Seed::from_base32("JBSWY3DPEHPK3PX!").err(),
            Some(SeedError::NotBase32)
        );
        assert_eq!(
            Seed::from_base32("JBSWY3D").err(),
            Some(SeedError::TooShort(4))
        );
        assert_eq!(
            Seed::from_base32("JBSWY3DPE").err(),
            Some(SeedError::NotBase32)
        );
    }

    #[test]
    fn errors_never_repeat_the_input() {
        let err = Seed::from_base32("JBSWY3DPEHPK3PX!").err().expect("error");
        assert!(!err.to_string().contains("JBSWY3DP"));
    }

    #[test]
    fn wipe_zeroes_the_bytes_in_place() {
        let mut s = Seed::from_bytes(vec![1, 2, 3]);
        s.wipe();
        assert_eq!(s.expose(), &[0, 0, 0]);
    }

    #[test]
    fn drop_wipes_every_byte_before_the_buffer_is_released() {
        drop_probe::take();
        let seed = Seed::from_base32("JBSWY3DPEHPK3PXP").expect("valid");
        assert_eq!(seed.len(), 10);
        drop(seed);
        assert_eq!(drop_probe::take(), Some((10, true)));

        // Through the owners a seed travels in, too.
        let data = crate::oath::CredentialData::aws_totp(
            crate::oath::CredentialId::totp(Some("Example"), "alice").expect("id"),
            Seed::from_bytes(vec![0xA5; 20]),
            false,
        );
        drop(data);
        assert_eq!(drop_probe::take(), Some((20, true)));
    }
}
