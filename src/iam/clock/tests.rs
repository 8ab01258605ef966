use super::*;

const T: u64 = 1_700_000_000;

fn at(secs: f64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs)
}

fn reading(sent: f64, received: f64, server: u64) -> ClockReading {
    ClockReading {
        sent: at(sent),
        received: at(received),
        server: SystemTime::UNIX_EPOCH + Duration::from_secs(server),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn in_sync_clock_reads_as_zero_within_the_date_resolution() {
    // Sent at T+0.2, back at T+0.4; AWS said T (its clock was in [T, T+1)).
    let s = reading(T as f64 + 0.2, T as f64 + 0.4, T).skew();
    // local - aws in [0.2 - 1, 0.4] = [-0.8, 0.4]
    assert!(close(s.seconds, -0.2), "{s:?}");
    assert!(close(s.uncertainty, 0.6), "{s:?}");
    assert_eq!(s.level(), SkewLevel::Ok);
    assert_eq!(s.rounded(), 0);
}

#[test]
fn a_clock_ahead_is_positive_and_large() {
    let s = reading(T as f64 + 90.1, T as f64 + 90.3, T).skew();
    assert!(s.ahead());
    assert!(close(s.seconds, 89.7), "{s:?}");
    assert_eq!(s.rounded(), 90);
    assert_eq!(s.level(), SkewLevel::Large);
    assert!(s.at_least() > 89.0 && s.at_most() < 91.0);
}

#[test]
fn a_clock_behind_is_negative() {
    let s = reading(T as f64 - 45.0, T as f64 - 44.9, T).skew();
    assert!(!s.ahead());
    assert_eq!(s.rounded(), -45);
    assert_eq!(s.level(), SkewLevel::Large);
}

#[test]
fn a_slow_round_trip_widens_the_uncertainty_and_softens_the_verdict() {
    // 20 s between send and answer: the skew is somewhere in [-1, 20].
    let s = reading(T as f64, T as f64 + 20.0, T).skew();
    assert!(close(s.uncertainty, 10.5), "{s:?}");
    assert_eq!(s.level(), SkewLevel::Noticeable);
    // Local minus AWS somewhere in [19, 60]: maybe large, not certainly.
    let s = reading(T as f64 + 20.0, T as f64 + 60.0, T).skew();
    assert_eq!(s.level(), SkewLevel::Noticeable, "{s:?}");
    assert!(s.at_least() < SKEW_LARGE_SECS && s.at_most() > SKEW_LARGE_SECS);
}

#[test]
fn thresholds() {
    let skew = |seconds| Skew {
        seconds,
        uncertainty: 0.5,
    };
    assert_eq!(skew(9.5).level(), SkewLevel::Ok);
    assert_eq!(skew(-9.6).level(), SkewLevel::Noticeable);
    assert_eq!(skew(30.4).level(), SkewLevel::Noticeable);
    assert_eq!(skew(-30.5).level(), SkewLevel::Large);
}

#[test]
fn a_clock_stepped_back_mid_request_still_gives_an_interval() {
    let s = reading(T as f64 + 1.0, T as f64 + 0.5, T).skew();
    assert!(s.uncertainty >= 0.5);
    assert!(s.seconds.is_finite());
}

#[test]
fn http_dates() {
    assert_eq!(
        parse_http_date("Tue, 14 Nov 2023 22:13:20 GMT"),
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(T))
    );
    assert_eq!(parse_http_date("yesterday"), None);
    assert_eq!(parse_http_date(""), None);
}

#[test]
fn skew_in_words() {
    let s = |seconds, uncertainty| Skew {
        seconds,
        uncertainty,
    };
    assert_eq!(
        s(-0.2, 0.6).to_string(),
        "in step with AWS (-0.2 s ± 0.6 s)"
    );
    assert_eq!(s(89.7, 0.6).to_string(), "89.7 s ahead of AWS (± 0.6 s)");
    assert_eq!(s(-45.0, 0.5).to_string(), "45.0 s behind AWS (± 0.5 s)");
}
