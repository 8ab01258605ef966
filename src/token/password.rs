//! The token's OATH password as automation gives it: `YKMFA_OATH_PASSWORD`, taken out of the
//! environment at start-up so that no child process inherits it (a credential process of the
//! AWS profile, an SSO helper, the pager: none of them needs it).

use std::sync::OnceLock;

use zeroize::Zeroizing;

/// The variable automation gives the token's OATH password in.
pub const VARIABLE: &str = "YKMFA_OATH_PASSWORD";

/// `YKMFA_OATH_PASSWORD` as it was at start-up, taken out of the environment.
static TAKEN: OnceLock<Option<Zeroizing<String>>> = OnceLock::new();

/// Takes `YKMFA_OATH_PASSWORD` out of the process environment and keeps it for [`from_env`].
/// Call it before any other thread exists: changing the environment while another thread reads
/// it is a data race in the C library.
pub fn take_from_env() {
    TAKEN.get_or_init(|| take_variable(VARIABLE));
}

/// The password from `YKMFA_OATH_PASSWORD`, if it was set (a copy, zeroized on drop).
pub fn from_env() -> Option<Zeroizing<String>> {
    TAKEN
        .get_or_init(|| take_variable(VARIABLE))
        .as_ref()
        .map(|p| Zeroizing::new(String::clone(p)))
}

/// The token's OATH password: `YKMFA_OATH_PASSWORD` when it was set (automation), else what
/// `ask` gets when `asking` (the caller's rule: a person asked, without echo), else none. Never
/// from the command line, where other users could read it.
pub fn given<E>(
    asking: bool,
    ask: impl FnOnce() -> Result<Zeroizing<String>, E>,
) -> Result<Option<Zeroizing<String>>, E> {
    first_given(from_env(), asking, ask)
}

/// [`given`], with the variable's value as `env`.
fn first_given<E>(
    env: Option<Zeroizing<String>>,
    asking: bool,
    ask: impl FnOnce() -> Result<Zeroizing<String>, E>,
) -> Result<Option<Zeroizing<String>>, E> {
    match env {
        Some(p) => Ok(Some(p)),
        None if asking => ask().map(Some),
        None => Ok(None),
    }
}

/// Reads an environment variable and removes it at once. A value that is not UTF-8 is removed
/// too, wiped, and counts as unset (as `std::env::var` treated it before).
fn take_variable(name: &str) -> Option<Zeroizing<String>> {
    use std::os::unix::ffi::OsStringExt;

    let value = std::env::var_os(name);
    std::env::remove_var(name);
    match value?.into_string() {
        Ok(text) => Some(Zeroizing::new(text)),
        Err(raw) => {
            drop(Zeroizing::new(raw.into_vec()));
            None
        }
    }
}

#[cfg(test)]
mod tests;
