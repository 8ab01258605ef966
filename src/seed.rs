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
    ///
    /// Decoded here rather than by a crate: every character is checked before a byte is
    /// decoded, and the bytes go straight into the seed's buffer, allocated at its final size.
    /// So no path leaves a partly decoded secret behind, and no buffer is ever reallocated
    /// (which would leave the old one unwiped).
    pub fn from_base32(text: &str) -> Result<Self, SeedError> {
        // The values of the characters (0-31), as secret as the seed; never longer than `text`.
        let mut values = Zeroizing::new(Vec::with_capacity(text.len()));
        for c in text.bytes() {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | b'-' | b'=' => {}
                _ => values.push(base32_value(c).ok_or(SeedError::NotBase32)?),
            }
        }
        if values.is_empty() {
            return Err(SeedError::Empty);
        }
        // A Base32 text of length 1, 3 or 6 (mod 8) cannot be produced by any byte string.
        if matches!(values.len() % 8, 1 | 3 | 6) {
            return Err(SeedError::NotBase32);
        }
        // 5 bits a character; the last few bits of an unpadded text are filler.
        let len = values.len() * 5 / 8;
        if len < 10 {
            return Err(SeedError::TooShort(len));
        }
        let mut seed = Seed(Vec::with_capacity(len));
        let mut bits: Zeroizing<u16> = Zeroizing::new(0);
        let mut held = 0u32;
        for &v in values.iter() {
            *bits = (*bits << 5) | u16::from(v);
            held += 5;
            if held >= 8 {
                held -= 8;
                seed.0.push((*bits >> held) as u8);
                *bits &= (1 << held) - 1;
            }
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

/// The value of an RFC 4648 Base32 character, either case.
fn base32_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a'),
        b'2'..=b'7' => Some(c - b'2' + 26),
        _ => None,
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

/// What became of the request to keep this process's memory out of swap ([`lock_memory`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryLock {
    /// Every page, present and future, stays in RAM once touched.
    Locked,
    /// Not tried, and why.
    NotTried(String),
    /// The system refused (`mlockall`'s error).
    Refused(String),
}

/// The line `-v` shows: what was done, never anything that was in memory.
impl std::fmt::Display for MemoryLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemoryLock::Locked => {
                f.write_str("memory locked: seeds and codes are never swapped out")
            }
            MemoryLock::NotTried(why) => write!(f, "memory not locked (best effort): {why}"),
            MemoryLock::Refused(e) => {
                write!(f, "memory not locked (best effort): mlockall refused: {e}")
            }
        }
    }
}

/// Whether locking every page is safe, from the memory-lock limit (soft and hard, `None` when
/// unlimited) and whether the process has `CAP_IPC_LOCK`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LockPlan {
    /// Lock now.
    Lock,
    /// Raise the soft limit to the (unlimited) hard one, then lock.
    RaiseThenLock,
    /// Leave memory as it is, for this reason.
    Skip(String),
}

/// `mlockall(MCL_FUTURE)` under a finite limit turns every later allocation past the limit
/// into a failure, and a failed allocation aborts a Rust program. So the whole process is
/// locked only when no limit applies: unlimited, or `CAP_IPC_LOCK` (which bypasses it).
fn lock_plan(soft: Option<u64>, hard: Option<u64>, ipc_lock: bool) -> LockPlan {
    match (soft, hard) {
        _ if ipc_lock => LockPlan::Lock,
        (None, _) => LockPlan::Lock,
        (Some(_), None) => LockPlan::RaiseThenLock,
        (Some(limit), Some(_)) => LockPlan::Skip(format!(
            "the memory-lock limit (ulimit -l) is {} KiB; locking every page could make a later \
             allocation fail",
            limit / 1024
        )),
    }
}

/// Keeps every page of this process out of swap, where the system allows it: a seed or a code
/// swapped out would outlive the process on disk. Best effort: failing is reported, never fatal.
///
/// The whole process is locked (`mlockall` with `MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT`), not
/// just a [`Seed`]'s buffer: the seed also passes through the HTTP and XML layers of the AWS SDK,
/// whose buffers ykmfa does not own. `MCL_ONFAULT` locks pages as they are first touched, so
/// reserved but unused memory (thread stacks, allocator arenas) costs nothing.
pub fn lock_memory() -> MemoryLock {
    #[cfg(target_os = "linux")]
    {
        use rustix::mm::{mlockall, MlockAllFlags};
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

        let limit = getrlimit(Resource::Memlock);
        let ipc_lock = rustix::thread::capabilities(None).is_ok_and(|c| {
            c.effective
                .contains(rustix::thread::CapabilitySet::IPC_LOCK)
        });
        match lock_plan(limit.current, limit.maximum, ipc_lock) {
            LockPlan::Lock => {}
            LockPlan::RaiseThenLock => {
                let unlimited = Rlimit {
                    current: None,
                    maximum: None,
                };
                if let Err(e) = setrlimit(Resource::Memlock, unlimited) {
                    return MemoryLock::NotTried(format!(
                        "the memory-lock limit could not be raised: {e}"
                    ));
                }
            }
            LockPlan::Skip(why) => return MemoryLock::NotTried(why),
        }
        match mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT) {
            Ok(()) => MemoryLock::Locked,
            Err(e) => MemoryLock::Refused(e.to_string()),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        MemoryLock::NotTried("memory locking is only done on Linux".into())
    }
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
mod tests;
