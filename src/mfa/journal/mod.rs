//! What a run in flight writes down before each change it can't take back, so that a run killed
//! at any point is finished or undone by the next one: [`enroll`]'s per-user record and lock,
//! [`bulk`]'s lines of a manifest's rows, and the one [`recover`] that reads either.

pub mod bulk;
pub mod enroll;
pub mod recover;

#[cfg(test)]
mod tests;
