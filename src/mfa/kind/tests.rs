use super::*;

/// A case: the serial, the tags (if read) and the kind.
type Case<'a> = (&'a str, Option<&'a [(String, String)]>, DeviceKind);

fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn every_kind_from_the_serial_and_the_tags() {
    let on_token = tags(&[
        ("ykmfa:token-serial", "12345678"),
        ("ykmfa:token-kind", "YubiKey"),
    ]);
    let other = tags(&[("team", "ops"), ("ykmfa:credential", "x")]);
    let blank = tags(&[("ykmfa:token-serial", " ")]);
    let virt = "arn:aws:iam::123456789012:mfa/alice";
    let cases: [Case<'_>; 9] = [
        ("GAKT000A1B2C", None, DeviceKind::HardwareTotp),
        ("GAHT12345678", Some(&on_token), DeviceKind::HardwareTotp),
        (
            "arn:aws:iam::123456789012:u2f/user/alice/key-ABC",
            None,
            DeviceKind::Fido,
        ),
        (
            "arn:aws:iam::123456789012:u2f/root/key-ABC",
            Some(&on_token),
            DeviceKind::Fido,
        ),
        (virt, Some(&on_token), DeviceKind::VirtualOnToken),
        (
            "arn:aws-cn:iam::123456789012:mfa/root-account-mfa-device",
            Some(&on_token),
            DeviceKind::VirtualOnToken,
        ),
        (virt, None, DeviceKind::Virtual),
        (virt, Some(&other), DeviceKind::Virtual),
        (virt, Some(&blank), DeviceKind::Virtual),
    ];
    for (serial, tags, kind) in cases {
        assert_eq!(DeviceKind::of(serial, tags), kind, "{serial} {tags:?}");
    }
}

#[test]
fn names_and_the_hardware_control() {
    let json = serde_json::to_value([
        DeviceKind::HardwareTotp,
        DeviceKind::Fido,
        DeviceKind::VirtualOnToken,
        DeviceKind::Virtual,
    ])
    .unwrap_or_default();
    assert_eq!(
        json,
        serde_json::json!(["hardware-totp", "fido", "virtual-on-token", "virtual"])
    );
    for k in [DeviceKind::HardwareTotp, DeviceKind::Fido] {
        assert!(!k.is_virtual());
        assert_eq!(serde_json::to_value(k).ok(), Some(k.as_str().into()));
    }
    for k in [DeviceKind::VirtualOnToken, DeviceKind::Virtual] {
        assert!(k.is_virtual());
        assert_eq!(k.to_string(), k.as_str());
    }
}
