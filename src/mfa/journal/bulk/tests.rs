use super::*;

fn planned() -> Planned {
    Planned {
        account: "111111111111".into(),
        partition: "aws".into(),
        user: "alice".into(),
        credential: "Amazon Web Services:alice@111111111111".into(),
        token: "YubiKey 1".into(),
        token_serial: Some(1),
        token_device: "abc".into(),
        device_name: "alice-yk1".into(),
    }
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ykmfa-journal-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir.join("j")
}

#[test]
fn attempts_fold_and_a_new_plan_starts_over() {
    let d = "arn:aws:iam::111111111111:mfa/alice-yk1".to_owned();
    let rec = |key: &str, mark| Record {
        key: key.into(),
        at: 0,
        mark,
    };
    let mut records = vec![
        rec("a", Mark::Planned(planned())),
        rec("a", Mark::Creating { device: d.clone() }),
        rec("a", Mark::Created { device: d.clone() }),
        rec("a", Mark::Writing { fingerprint: None }),
    ];
    let a = &attempts(&records)["a"];
    assert!(a.needs_recovery());
    assert_eq!(a.created, std::slice::from_ref(&d));
    assert!(a.maybe_written && a.enabling.is_none());

    records.push(rec(
        "a",
        Mark::CleanedUp {
            done: vec!["x".into()],
            leftovers: vec![],
            harmless: vec![],
        },
    ));
    assert_eq!(attempts(&records)["a"].state, State::Closed { error: None });
    records.push(rec("a", Mark::Planned(planned())));
    let a = &attempts(&records)["a"];
    assert_eq!(a.state, State::Open);
    assert!(
        a.created.is_empty() && !a.maybe_written,
        "a new attempt starts clean"
    );
    records.push(rec(
        "a",
        Mark::Enrolled {
            device: d.clone(),
            recovered: false,
        },
    ));
    assert_eq!(attempts(&records)["a"].state, State::Enrolled { device: d });
}

#[test]
fn a_cut_last_line_is_dropped_and_damage_elsewhere_is_refused() {
    let path = temp("cut");
    {
        let j = Journal::open(&path, Some("m.toml"), Some("00")).expect("open");
        j.append("a", Mark::Planned(planned())).expect("append");
        j.append("a", Mark::Writing { fingerprint: None })
            .expect("append");
    }
    let mut bytes = std::fs::read(&path).expect("read");
    let whole = bytes.len();
    bytes.extend_from_slice(b"{\"key\":\"a\",\"at\":1,\"mark\":\"ena");
    std::fs::write(&path, &bytes).expect("write");
    {
        let j = Journal::open(&path, None, None).expect("reopen");
        assert_eq!(j.records().len(), 3);
        assert_eq!(j.source(), (Some("m.toml"), Some("00")));
        assert!(j.attempts()["a"].maybe_written);
    }
    assert_eq!(
        std::fs::metadata(&path).expect("meta").len() as usize,
        whole
    );

    let mut lines: Vec<u8> = std::fs::read(&path).expect("read");
    lines.splice(whole - 2..whole - 2, b"garbage".iter().copied());
    std::fs::write(&path, &lines).expect("write");
    std::fs::write(&path, [&lines[..], b"{}\n"].concat()).expect("write");
    assert!(matches!(
        Journal::open(&path, None, None),
        Err(JournalError::Corrupt { .. })
    ));
}

#[test]
fn a_journal_is_held_by_one_run_at_a_time() {
    let path = temp("lock");
    let first = Journal::open(&path, None, None).expect("open");
    assert!(matches!(
        Journal::open(&path, None, None),
        Err(JournalError::Busy(_))
    ));
    drop(first);
    Journal::open(&path, None, None).expect("free again");
}

#[test]
fn another_file_is_not_taken_for_a_journal() {
    let path = temp("foreign");
    std::fs::write(&path, b"{\"key\":\"\",\"at\":0,\"mark\":\"writing\"}\n").expect("write");
    assert!(matches!(
        Journal::open(&path, None, None),
        Err(JournalError::Foreign(_))
    ));
}
