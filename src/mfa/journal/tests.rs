//! The journal: records survive the process, the lock keeps two runs apart, and recovery settles
//! what a dead run left, touching nothing else.

use super::enroll::{Journal, JournalError, Record, Stage};
use super::recover::{recover as recover_unfinished, Recovery};
use crate::iam::names::{TAG_CREDENTIAL, TAG_TOKEN_SERIAL};
use crate::mfa::enroll::{enroll, Cause};
use crate::mfa::fakes::{
    denied, Action, FakeCard, FakeDirectory, World, ACCOUNT, ARN, DEVICE, LABEL, T0, TOKEN_SERIAL,
};
use crate::mfa::{Cancel, Leftover};
use crate::oath::{self, CredentialData, CredentialId};
use crate::token::{Card, Serial};

/// The one recovery, fed an enrollment record.
async fn recover<C: Card>(dir: &FakeDirectory, card: Option<&mut C>, record: &Record) -> Recovery {
    recover_unfinished(dir, card, &record.unfinished()).await
}

/// The secret ykmfa "wrote" in these records, and its fingerprint.
const OUR_KEY: &[u8] = b"the seed ykmfa wrote!";

fn our_fingerprint() -> oath::Fingerprint {
    let id = CredentialId::totp(Some("Amazon Web Services"), "alice@123456789012").expect("id");
    oath::Fingerprint::of(&CredentialData::aws_totp(
        id,
        crate::seed::Seed::from_bytes(OUR_KEY.to_vec()),
        false,
    ))
}

fn journal() -> (tempdir::Dir, Journal) {
    let dir = tempdir::Dir::new();
    let journal = Journal::at(dir.path().join("enrollments"));
    (dir, journal)
}

/// A scratch directory removed on drop (std only).
mod tempdir {
    pub struct Dir(std::path::PathBuf);

    impl Dir {
        pub fn new() -> Self {
            static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("ykmfa-journal-test-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&path).expect("scratch dir");
            Dir(path)
        }

        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn record(stage: Stage, device_arn: Option<&str>) -> Record {
    Record {
        schema: "ykmfa.enrollment-journal/1".into(),
        account: ACCOUNT.into(),
        user: "alice".into(),
        device_name: DEVICE.into(),
        device_arn: device_arn.map(str::to_owned),
        credential: LABEL.into(),
        token_serial: Some(TOKEN_SERIAL),
        token: format!("YubiKey {TOKEN_SERIAL}"),
        stage,
        pid: 1,
        started: T0,
        fingerprint: matches!(stage, Stage::Writing | Stage::Enabling).then(our_fingerprint),
    }
}

fn our_tags() -> Vec<(&'static str, String)> {
    vec![
        (TAG_CREDENTIAL, LABEL.to_owned()),
        (TAG_TOKEN_SERIAL, TOKEN_SERIAL.to_string()),
    ]
}

fn add_ours(w: &World, user: Option<&str>) -> String {
    let tags = our_tags();
    let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (*k, v.as_str())).collect();
    w.dir.add_device(DEVICE, &tags, user)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_is_written_before_anything_changes_and_cleared_after() {
    let (_tmp, journal) = journal();
    let w = World::new();
    let plan = w.plan().await;
    let mut entry = journal.lock(ACCOUNT, "alice").expect("lock");
    assert!(entry.left().is_empty());
    {
        let recorder = entry.begin(&plan, w.cancel.clone()).expect("begin");
        assert!(w.dir.writes().is_empty(), "the record comes first");
        let on_disk: Record = serde_json::from_slice(
            &std::fs::read(journal.dir().join(format!("{ACCOUNT}-alice.json"))).expect("file"),
        )
        .expect("a record");
        assert_eq!(on_disk.stage, Stage::Creating);
        assert_eq!(on_disk.credential, LABEL);
        let progress = recorder.around(&w.progress);
        enroll(
            &w.dir,
            &mut w.card.clone(),
            &plan,
            &*w.clock,
            &progress,
            &w.cancel,
        )
        .await
        .expect("enrolled");
        assert!(recorder.failure().is_none());
    }
    let on_disk: Record = serde_json::from_slice(
        &std::fs::read(journal.dir().join(format!("{ACCOUNT}-alice.json"))).expect("file"),
    )
    .expect("a record");
    assert_eq!(on_disk.stage, Stage::Enabling, "updated before each step");
    assert_eq!(on_disk.device_arn.as_deref(), Some(ARN));
    assert!(on_disk.fingerprint.is_some(), "recorded before the write");
    entry.clear().expect("clear");
    drop(entry);
    let listing: Vec<_> = std::fs::read_dir(journal.dir())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        listing.is_empty(),
        "a finished run leaves no file: {listing:?}"
    );
    assert!(journal
        .lock(ACCOUNT, "alice")
        .expect("lock")
        .left()
        .is_empty());
}

#[test]
fn an_unsettled_record_is_set_aside_not_overwritten_and_old_empty_files_go() {
    let (_tmp, journal) = journal();
    std::fs::create_dir_all(journal.dir()).expect("dir");
    // An empty record file, as earlier versions left for every user they enrolled.
    std::fs::write(journal.dir().join(format!("{ACCOUNT}-bob.json")), b"").expect("write");
    drop(journal.lock(ACCOUNT, "bob").expect("lock"));
    assert!(!journal.dir().join(format!("{ACCOUNT}-bob.json")).exists());

    let left = record(Stage::Writing, None);
    std::fs::write(
        journal.dir().join(format!("{ACCOUNT}-alice.json")),
        serde_json::to_vec(&left).expect("json"),
    )
    .expect("write");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let plan = rt.block_on(async { World::new().plan().await });
    let mut entry = journal.lock(ACCOUNT, "alice").expect("lock");
    assert_eq!(entry.left(), vec![&left]);
    drop(entry.begin(&plan, Cancel::default()).expect("begin"));
    drop(entry);
    let records = journal.peek(ACCOUNT, "alice").expect("peek");
    assert_eq!(records.len(), 2, "both the new run's and the one set aside");
    assert!(records.contains(&left));
    let entry = journal.lock(ACCOUNT, "alice").expect("lock");
    assert_eq!(entry.left().len(), 2);
}

#[test]
fn names_that_could_leave_the_directory_are_refused() {
    let (_tmp, journal) = journal();
    assert!(matches!(
        journal.lock("../../etc", "alice"),
        Err(JournalError::BadName(_))
    ));
    assert!(matches!(
        journal.lock(ACCOUNT, "../alice"),
        Err(JournalError::BadName(_))
    ));
    assert!(matches!(
        journal.lock(ACCOUNT, "al~ice"),
        Err(JournalError::BadName(_))
    ));
}

#[test]
fn the_lock_keeps_a_second_run_out_until_the_first_is_gone() {
    let (_tmp, journal) = journal();
    let first = journal.lock(ACCOUNT, "alice").expect("lock");
    assert!(matches!(journal.lock(ACCOUNT, "alice"), Err(JournalError::Busy(u)) if u == "alice"));
    let other = journal
        .lock(ACCOUNT, "bob")
        .expect("another user is independent");
    drop(first);
    drop(other);
    journal.lock(ACCOUNT, "alice").expect("free again");
}

#[test]
fn a_corrupt_record_is_refused_with_its_path() {
    let (_tmp, journal) = journal();
    drop(journal.lock(ACCOUNT, "alice").expect("lock"));
    std::fs::write(
        journal.dir().join(format!("{ACCOUNT}-alice.json")),
        b"{not json",
    )
    .expect("write");
    match journal.lock(ACCOUNT, "alice") {
        Err(JournalError::Corrupt(path)) => {
            assert!(path.ends_with(format!("{ACCOUNT}-alice.json")))
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_after_the_write_is_undone_on_both_sides() {
    let w = World::new();
    let arn = add_ours(&w, None);
    w.card.add_key(LABEL, OUR_KEY);
    let r = recover(
        &w.dir,
        Some(&mut w.card.clone()),
        &record(Stage::Writing, Some(&arn)),
    )
    .await;
    assert!(r.completed.is_none());
    assert!(!r.keeps_record() && r.leftovers.is_empty(), "{r:?}");
    assert_eq!(r.removed.len(), 2, "{r:?}");
    w.assert_untouched();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credential_of_the_same_name_but_another_secret_is_kept() {
    let w = World::new();
    let arn = add_ours(&w, None);
    // Someone enrolled by hand under the same name since: not ykmfa's to delete.
    w.card.add(LABEL);
    let r = recover(
        &w.dir,
        Some(&mut w.card.clone()),
        &record(Stage::Writing, Some(&arn)),
    )
    .await;
    assert_eq!(w.dir.serials(), Vec::<String>::new(), "the device goes");
    assert_eq!(
        w.card.names(),
        vec![LABEL.to_owned()],
        "the credential stays"
    );
    assert!(
        r.leftovers.is_empty(),
        "not the run's: nothing of it is left: {r:?}"
    );
    assert!(
        r.notes.iter().any(|n| n.contains("another secret")),
        "{r:?}"
    );
    assert!(!r.keeps_record());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_without_a_fingerprint_keeps_the_credential_and_says_so() {
    let w = World::new();
    let arn = add_ours(&w, None);
    w.card.add_key(LABEL, OUR_KEY);
    let mut old = record(Stage::Writing, Some(&arn));
    old.fingerprint = None;
    let r = recover(&w.dir, Some(&mut w.card.clone()), &old).await;
    assert_eq!(w.card.names(), vec![LABEL.to_owned()]);
    assert!(
        matches!(r.leftovers.as_slice(),
        [Leftover::Credential { reason, .. }] if reason.contains("can't prove")),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assigned_device_keeps_its_credential_whatever_the_deactivation_said() {
    let w = World::new();
    let arn = add_ours(&w, None);
    w.card.add_key(LABEL, OUR_KEY);
    // The killed run's enable lands late: listed as assigned only once recovery looked, and
    // IAM refuses to deactivate it.
    w.dir.assign_on_call(Action::Deactivate, 1, &arn, "alice");
    w.dir
        .fail_always(Action::Deactivate, denied(Action::Deactivate));
    let r = recover(
        &w.dir,
        Some(&mut w.card.clone()),
        &record(Stage::Enabling, Some(&arn)),
    )
    .await;
    assert_eq!(
        w.card.names(),
        vec![LABEL.to_owned()],
        "never deleted while assigned"
    );
    assert_eq!(w.dir.serials(), vec![arn.clone()]);
    match r.leftovers.as_slice() {
        [Leftover::Device {
            assigned_to: Some(u),
            ..
        }, Leftover::Credential { .. }] => {
            assert_eq!(u, "alice");
            let commands = r.leftovers[0].commands("");
            assert!(
                commands[0].starts_with("aws iam deactivate-mfa-device"),
                "{commands:?}"
            );
            assert!(commands[1].starts_with("aws iam delete-virtual-mfa-device"));
        }
        other => panic!("expected the device then its credential: {other:?}"),
    }
    assert!(r.keeps_record());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_arn_the_device_is_found_by_name_and_tags() {
    let w = World::new();
    add_ours(&w, None);
    w.card.add_key(LABEL, OUR_KEY);
    let r = recover(
        &w.dir,
        Some(&mut w.card.clone()),
        &record(Stage::Writing, None),
    )
    .await;
    assert!(r.leftovers.is_empty(), "{r:?}");
    w.assert_untouched();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_during_enable_that_succeeded_is_complete() {
    let w = World::new();
    let arn = add_ours(&w, Some("alice"));
    w.card.add_key(LABEL, OUR_KEY);
    let r = recover(
        &w.dir,
        Some(&mut w.card.clone()),
        &record(Stage::Enabling, Some(&arn)),
    )
    .await;
    assert!(r.completed_and_working() && !r.keeps_record(), "{r:?}");
    assert!(r.removed.is_empty());
    assert_eq!(w.dir.serials(), vec![arn]);
    assert_eq!(
        w.card.names(),
        vec![LABEL.to_owned()],
        "the credential stays"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_completed_enrollment_whose_token_lost_the_credential_is_not_success() {
    let w = World::new();
    let arn = add_ours(&w, Some("alice"));
    let r = recover(
        &w.dir,
        Some(&mut w.card.clone()),
        &record(Stage::Enabling, Some(&arn)),
    )
    .await;
    assert_eq!(r.completed.as_deref(), Some(arn.as_str()));
    assert!(!r.completed_and_working(), "{r:?}");
    assert!(r.credential_missing.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn what_is_not_ykmfas_is_left_alone() {
    let w = World::new();
    // Same name, unassigned, but neither recorded nor tagged: someone else's.
    let foreign = w.dir.add_device(DEVICE, &[], None);
    // A credential of the same label, but the record stops before the write.
    w.card.add(LABEL);
    let r = recover(
        &w.dir,
        Some(&mut w.card.clone()),
        &record(Stage::Created, None),
    )
    .await;
    assert!(r.leftovers.is_empty(), "{r:?}");
    assert!(r.removed.is_empty(), "{r:?}");
    assert!(
        matches!(r.possible.as_slice(), [Leftover::Device { serial, .. }] if *serial == foreign),
        "an untagged device of the planned name is reported, not forgotten: {r:?}"
    );
    assert_eq!(w.dir.serials(), vec![foreign]);
    assert_eq!(w.card.names(), vec![LABEL.to_owned()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_token_absent_the_credential_is_named_as_left() {
    let w = World::new();
    let arn = add_ours(&w, None);
    let r = recover::<FakeCard>(&w.dir, None, &record(Stage::Writing, Some(&arn))).await;
    assert!(!r.leftovers.is_empty());
    assert!(!r.keeps_record(), "harmless once the device is gone");
    assert_eq!(
        w.dir.serials(),
        Vec::<String>::new(),
        "the IAM side is cleaned"
    );
    assert!(matches!(
        r.leftovers.as_slice(),
        [Leftover::Credential { name, token_serial: Some(Serial(TOKEN_SERIAL)), .. }] if name == LABEL
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn another_accounts_record_is_skipped() {
    let w = World::new();
    let arn = add_ours(&w, None);
    let mut other = record(Stage::Writing, Some(&arn));
    other.account = "999999999999".into();
    let r = recover(&w.dir, Some(&mut w.card.clone()), &other).await;
    assert!(r
        .skipped
        .as_deref()
        .is_some_and(|s| s.contains("999999999999")));
    assert_eq!(w.dir.serials(), vec![arn], "nothing touched");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_delete_is_a_leftover_and_the_record_stays_unsettled() {
    let w = World::new();
    let arn = add_ours(&w, None);
    w.dir.fail_always(Action::Delete, denied(Action::Delete));
    let r = recover::<FakeCard>(&w.dir, None, &record(Stage::Created, Some(&arn))).await;
    assert!(!r.leftovers.is_empty());
    assert!(matches!(r.leftovers.as_slice(), [Leftover::Device { serial, .. }] if *serial == arn));
}

#[test]
fn unfinished_lists_dead_runs_of_other_users_only() {
    let (_tmp, journal) = journal();
    std::fs::create_dir_all(journal.dir()).expect("dir");
    let mut bob = record(Stage::Writing, None);
    bob.user = "bob".into();
    std::fs::write(
        journal.dir().join(format!("{ACCOUNT}-bob.json")),
        serde_json::to_vec(&bob).expect("json"),
    )
    .expect("write");
    std::fs::write(
        journal.dir().join(format!("{ACCOUNT}-alice.json")),
        serde_json::to_vec(&record(Stage::Writing, None)).expect("json"),
    )
    .expect("write");
    let found = journal.unfinished(ACCOUNT, "alice").expect("list");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].left()[0].user, "bob");
    // Held: a second look skips it as alive.
    assert!(journal
        .unfinished(ACCOUNT, "alice")
        .expect("list")
        .is_empty());
}

#[test]
fn peeking_reads_without_creating_locking_or_changing_anything() {
    let (_tmp, journal) = journal();
    // Nothing there: no record, and no directory made for it.
    assert!(journal.peek(ACCOUNT, "alice").expect("peek").is_empty());
    assert!(journal
        .peek_unfinished(ACCOUNT, "alice")
        .expect("peek")
        .is_empty());
    assert!(!journal.dir().exists());

    std::fs::create_dir_all(journal.dir()).expect("dir");
    let mut bob = record(Stage::Writing, None);
    bob.user = "bob".into();
    let bob_path = journal.dir().join(format!("{ACCOUNT}-bob.json"));
    std::fs::write(&bob_path, serde_json::to_vec(&bob).expect("json")).expect("write");
    std::fs::write(
        journal.dir().join(format!("{ACCOUNT}-alice.json")),
        serde_json::to_vec(&record(Stage::Enabling, None)).expect("json"),
    )
    .expect("write");

    assert_eq!(
        journal
            .peek(ACCOUNT, "alice")
            .expect("peek")
            .iter()
            .map(|r| r.stage)
            .collect::<Vec<_>>(),
        vec![Stage::Enabling]
    );
    let others = journal.peek_unfinished(ACCOUNT, "alice").expect("peek");
    assert_eq!(others, vec![bob.clone()]);
    // Peeking took no lock it kept: a run can still take bob's, and sees the record intact.
    let held = journal.lock(ACCOUNT, "bob").expect("lock after peeking");
    assert_eq!(held.left(), vec![&bob]);
    // While a run holds it, a peek says so and the list skips it.
    assert!(matches!(journal.peek(ACCOUNT, "bob"), Err(JournalError::Busy(u)) if u == "bob"));
    assert!(journal
        .peek_unfinished(ACCOUNT, "alice")
        .expect("peek")
        .is_empty());
    drop(held);
    assert_eq!(
        std::fs::read(&bob_path).expect("file"),
        serde_json::to_vec(&bob).expect("json")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_name_used_again_by_someone_else_is_never_touched() {
    let w = World::new();
    // The killed run's device was removed, and another enrollment (a person, ykmfa under
    // another HOME) made a device of the same name and a credential of the same label.
    let arn = add_ours(&w, Some("alice"));
    w.card.add(LABEL);
    let r = recover(
        &w.dir,
        Some(&mut w.card.clone()),
        &record(Stage::Writing, Some(&arn)),
    )
    .await;
    assert_eq!(w.dir.serials(), vec![arn.clone()]);
    assert_eq!(
        w.dir.device(&arn).and_then(|d| d.user).as_deref(),
        Some("alice"),
        "still assigned"
    );
    assert_eq!(w.card.names(), vec![LABEL.to_owned()]);
    assert!(!w
        .dir
        .writes()
        .iter()
        .any(|a| matches!(a, Action::Deactivate | Action::Delete)));
    assert!(r.leftovers.is_empty() && r.completed.is_none(), "{r:?}");
    assert!(!r.keeps_record());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_that_cannot_be_updated_stops_the_run_and_undoes_it() {
    let (_tmp, journal) = journal();
    let w = World::new();
    let plan = w.plan().await;
    let mut entry = journal.lock(ACCOUNT, "alice").expect("lock");
    let recorder = entry.begin(&plan, w.cancel.clone()).expect("begin");
    // The state directory goes away under the run: the update after the create can't be written.
    std::fs::remove_dir_all(journal.dir()).expect("remove the journal");
    let progress = recorder.around(&w.progress);
    let failure = enroll(
        &w.dir,
        &mut w.card.clone(),
        &plan,
        &*w.clock,
        &progress,
        &w.cancel,
    )
    .await
    .expect_err("stopped");
    assert!(
        matches!(failure.cause, Cause::Interrupted),
        "{:?}",
        failure.cause
    );
    assert!(
        recorder.failure().is_some(),
        "the write failure is kept for the message"
    );
    assert!(
        !w.card.did("write"),
        "nothing is written that the record does not name"
    );
    w.assert_untouched();
}
