//! The names of credentials on a token: the one place they are made and recognised, so that
//! what `enroll` writes is what `resync`, `revoke`, `status` and `audit` look for.

/// The issuer authenticator apps show for AWS credentials (the label AWS's QR code carries).
pub const AWS_ISSUER: &str = "Amazon Web Services";
