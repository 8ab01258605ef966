//! What an operation says on the way, for the binary to print: a [`Note`] the caller words
//! itself (shared sentences), or a [`Line`] worded here, from the operation's own data.

use crate::token::Unusable;

/// A line for a person: progress, or a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Progress or status.
    Info(String),
    /// Something to look at.
    Warn(String),
}

/// What an operation (`revoke`, `resync`) has to say before its outcome.
#[derive(Debug)]
pub enum Note<'a> {
    /// IAM refused to show the devices' tags: credentials are found by name only.
    TagsDenied,
    /// Cards that could not be used.
    Skipped(&'a [Unusable]),
    /// A line to show as it is.
    Line(Line),
}

impl Note<'_> {
    /// Progress, worded by the operation.
    pub fn info(text: String) -> Self {
        Note::Line(Line::Info(text))
    }

    /// A warning, worded by the operation.
    pub fn warn(text: String) -> Self {
        Note::Line(Line::Warn(text))
    }
}
