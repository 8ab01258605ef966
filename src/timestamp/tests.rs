use super::*;

#[test]
fn known_instants() {
    assert_eq!(format(0), "1970-01-01T00:00:00Z");
    assert_eq!(format(1_700_000_015), "2023-11-14T22:13:35Z");
    assert_eq!(format(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(parse("2023-11-14T22:13:35Z"), Some(1_700_000_015));
}

#[test]
fn round_trips_and_refuses_what_is_not_a_date() {
    for secs in [
        0,
        59,
        86_399,
        951_782_400,
        1_700_000_015,
        4_102_444_800,
        253_402_300_799,
    ] {
        assert_eq!(parse(&format(secs)), Some(secs), "{secs}");
    }
    for bad in [
        "",
        "2023-11-14",
        "2023-11-14T22:13:35",
        "2023-02-30T00:00:00Z",
        "2023-13-01T00:00:00Z",
        "2023-11-14T24:00:00Z",
        "2023-11-14 22:13:35Z",
        "+023-11-14T22:13:35Z",
        "2023-11-14T22:13:35+00:00",
        "２０23-11-14T22:13:35Z",
    ] {
        assert_eq!(parse(bad), None, "{bad:?}");
    }
}
