//! `ykmfa enroll` through the Nitrokey Secrets App card: an implementation of YKOATH nobody in
//! this project wrote. The codes are then computed on the card (through ykmfa's library, since
//! ykman does not speak to Nitrokeys) and the strict IAM endpoint accepts them.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use serde_json::json;
use support::{Bench, Spec};
use ykmfa::oath::{Session, TimeStep};
use ykmfa::transport::pcsc::Context;

fn spec() -> Spec {
    Spec {
        yubikeys: vec![],
        nitrokey: true,
        iam: true,
    }
}

#[test]
fn enrolls_alice_on_a_nitrokey_and_its_codes_are_accepted() {
    // Its bench (the Nitrokey alone, and IAM) is not the one the other modules share.
    support::in_own_process!(enrolls_alice_on_a_nitrokey_and_its_codes_are_accepted);
    let bench = Bench::shared(spec);
    bench.aws(&["iam", "create-user", "--user-name", "alice"]);
    let run = bench.run(&["enroll", "--user", "alice"]);
    let arn = run.ok().trim().to_owned();
    assert!(
        arn.starts_with("arn:aws:iam::123456789012:mfa/alice-nk"),
        "{arn}"
    );
    let listed = bench.aws(&["iam", "list-mfa-devices", "--user-name", "alice"]);
    assert_eq!(listed["MFADevices"][0]["SerialNumber"], arn.as_str());

    // The card holds the credential and computes the next two steps' codes.
    let ctx = Context::establish().expect("pcscd");
    let mut card = ctx.connect(&bench.tokens[0].reader).expect("card");
    let mut link = card.begin().expect("transaction");
    let mut session = Session::open(&mut link).expect("select");
    let creds = session.list().expect("list");
    let label = "Amazon Web Services:alice@123456789012";
    let cred = creds
        .iter()
        .find(|c| c.id.to_string() == label)
        .expect("credential on the card");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let step = TimeStep::at(now, 30);
    let c1 = session
        .calculate(&cred.raw_id, step.next(), 30)
        .expect("code 1");
    let c2 = session
        .calculate(&cred.raw_id, step.next().next(), 30)
        .expect("code 2");
    drop(session);
    drop(link);

    // Move the endpoint's clock two steps on: the pair (T+1, T+2) is then current.
    let offset = (step.next().next().start(30) + 5).saturating_sub(now);
    bench.iam_call("POST", "/_bench/config", json!({"clock_offset_s": offset}));
    let check = bench.iam_call(
        "POST",
        "/_bench/check-code",
        json!({"serial": arn, "code1": c1.value, "code2": c2.value}),
    );
    assert_eq!(check["accepted"], true, "{check}");
    bench.iam_call("POST", "/_bench/config", json!({"clock_offset_s": 0}));
    assert!(bench.assert_no_seed_leaked() >= 1);
}
