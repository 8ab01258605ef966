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
fn decodes_every_length_into_a_buffer_of_its_final_size() {
    // RFC 4648's "foobar", extended to seed length, at every tail length (0, 2, 4, 5 and 7
    // characters past a multiple of 8).
    for (text, bytes) in [
        ("MZXW6YTBOIYDAMBQ", &b"foobar0000"[..]),
        ("MZXW6YTBOIYDAMBQGA", b"foobar00000"),
        ("MZXW6YTBOIYDAMBQGAYA", b"foobar000000"),
        ("MZXW6YTBOIYDAMBQGAYDA", b"foobar0000000"),
        ("MZXW6YTBOIYDAMBQGAYDAMA", b"foobar00000000"),
        ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", b"12345678901234567890"),
    ] {
        let seed = Seed::from_base32(text).expect(text);
        assert_eq!(seed.expose(), bytes, "{text}");
        // Allocated once at its final size: a buffer that had grown would have more room.
        assert_eq!(seed.0.capacity(), bytes.len(), "{text}");
    }
    // Every character and case, against an independent decoder.
    let all = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmnopqrstuvwxyz234567";
    let expected = base32::decode(
        base32::Alphabet::Rfc4648 { padding: false },
        &all.to_ascii_uppercase(),
    )
    .expect("valid");
    assert_eq!(Seed::from_base32(all).expect("valid").expose(), expected);
}

#[test]
fn a_refused_text_leaves_no_decoded_bytes_behind() {
    drop_probe::take();
    // Invalid characters anywhere, a short seed: refused before any byte is decoded, so
    // no seed buffer exists to be dropped, wiped or not.
    for text in [
        "JBSWY3DPEHPK3PX1",
        "1BSWY3DPEHPK3PXP",
        "JBSWY3D",
        "JBSWY3DPEHPK3PXPé",
    ] {
        assert!(Seed::from_base32(text).is_err(), "{text}");
        assert_eq!(drop_probe::take(), None, "{text}");
    }
}

#[test]
fn errors_never_repeat_the_input() {
    let err = Seed::from_base32("JBSWY3DPEHPK3PX!").err().expect("error");
    assert!(!err.to_string().contains("JBSWY3DP"));
}

#[test]
fn the_whole_process_is_locked_only_where_no_limit_can_bite() {
    assert_eq!(lock_plan(None, None, false), LockPlan::Lock);
    assert_eq!(
        lock_plan(Some(8 << 20), None, false),
        LockPlan::RaiseThenLock
    );
    assert_eq!(
        lock_plan(Some(8 << 20), Some(8 << 20), true),
        LockPlan::Lock
    );
    let LockPlan::Skip(why) = lock_plan(Some(8 << 20), Some(64 << 20), false) else {
        panic!("a finite hard limit without CAP_IPC_LOCK must not be locked under");
    };
    assert!(why.contains("8192 KiB"), "{why}");
    let line = MemoryLock::NotTried(why).to_string();
    assert!(
        line.starts_with("memory not locked (best effort)"),
        "{line}"
    );
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
