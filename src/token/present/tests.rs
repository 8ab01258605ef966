use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn work_meanwhile_starts_at_once_and_gives_its_result() {
    let (started, seen) = std::sync::mpsc::channel();
    let work = meanwhile(move || {
        let _ = started.send(());
        7
    });
    // Started before the future is awaited: the caller's own work runs alongside.
    let waited = seen.recv_timeout(std::time::Duration::from_secs(10));
    assert!(
        waited.is_ok(),
        "the work did not start before being awaited"
    );
    assert_eq!(work.await, 7);
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "the reader fell over")]
async fn a_panic_meanwhile_is_the_awaiting_tasks() {
    meanwhile(|| panic!("the reader fell over")).await
}
