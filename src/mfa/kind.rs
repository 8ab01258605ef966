//! What kind of MFA device an IAM device is, as `status` and `audit` report it to scripts.
//!
//! IAM gives no type: the serial's shape tells hardware TOTP (a serial such as `GAKT…`, not an
//! ARN) from a FIDO security key (`arn:…:u2f/…`) from a virtual device (`arn:…:mfa/…`), and
//! only ykmfa's own tags ([`TAG_TOKEN_SERIAL`]) tell a virtual device whose secret ykmfa wrote
//! to a token from one of unknown origin (a phone app, another tool). Pure: no I/O.

use std::fmt;

use crate::iam::names::TAG_TOKEN_SERIAL;

/// The kind of an MFA device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceKind {
    /// A hardware TOTP token (Thales, formerly Gemalto): AWS holds its seed by serial.
    HardwareTotp,
    /// A FIDO security key or passkey (`arn:…:u2f/…`).
    Fido,
    /// A virtual device whose secret ykmfa wrote to a token (its tags name the token).
    VirtualOnToken,
    /// A virtual device of unknown origin: no ykmfa tags naming a token (a phone app?), or
    /// tags that could not be read.
    Virtual,
}

impl DeviceKind {
    /// The kind of the device `serial` with `tags` (`None` or empty: no tags known).
    pub fn of(serial: &str, tags: Option<&[(String, String)]>) -> Self {
        // arn:PARTITION:iam::ACCOUNT:RESOURCE; hardware TOTP serials are no ARN at all.
        let resource = serial.splitn(6, ':').nth(5).unwrap_or_default();
        if !serial.starts_with("arn:") {
            DeviceKind::HardwareTotp
        } else if resource.starts_with("u2f/") {
            DeviceKind::Fido
        } else {
            let on_token = tags
                .unwrap_or_default()
                .iter()
                .any(|(k, v)| k == TAG_TOKEN_SERIAL && !v.trim().is_empty());
            match on_token {
                true => DeviceKind::VirtualOnToken,
                false => DeviceKind::Virtual,
            }
        }
    }

    /// The name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::HardwareTotp => "hardware-totp",
            DeviceKind::Fido => "fido",
            DeviceKind::VirtualOnToken => "virtual-on-token",
            DeviceKind::Virtual => "virtual",
        }
    }

    /// Whether AWS Config's `root-account-hardware-mfa-enabled` counts the device as virtual
    /// (any such device on root fails the control, a token-held one included).
    pub fn is_virtual(self) -> bool {
        matches!(self, DeviceKind::VirtualOnToken | DeviceKind::Virtual)
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
