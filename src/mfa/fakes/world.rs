//! The world an enrollment test runs in: the fakes together, and the enrollment's steps on them.

use std::sync::Arc;

use super::{
    FakeCard, FakeClock, FakeDirectory, Recorder, ARN, LABEL, T0, TOKEN_SERIAL, TOKEN_TAG,
};
use crate::iam::UserName;
use crate::mfa::enroll::{enroll, preflight, Cause, Enrolled, Failure, Plan, Request};
use crate::mfa::Cancel;

pub(crate) struct World {
    pub(crate) dir: FakeDirectory,
    pub(crate) card: FakeCard,
    pub(crate) clock: Arc<FakeClock>,
    pub(crate) progress: Recorder,
    pub(crate) cancel: Cancel,
}

impl World {
    pub(crate) fn new() -> Self {
        Self::with_clock(FakeClock::fixed(T0))
    }

    pub(crate) fn with_clock(clock: Arc<FakeClock>) -> Self {
        World {
            dir: FakeDirectory::new(Arc::clone(&clock), &["alice", "bob"]),
            card: FakeCard::new(Some(32)),
            clock,
            progress: Recorder::default(),
            cancel: Cancel::default(),
        }
    }

    pub(crate) async fn preflight(&self, user: &str) -> Result<Plan, Cause> {
        self.preflight_with(user, false).await
    }

    pub(crate) async fn preflight_with(&self, user: &str, touch: bool) -> Result<Plan, Cause> {
        let req = Request {
            user: UserName::parse(user).expect("valid user name"),
            device_name: None,
            label: None,
            touch,
            tags: Vec::new(),
        };
        preflight(&self.dir, &mut self.card.clone(), TOKEN_TAG, &req).await
    }

    pub(crate) async fn plan(&self) -> Plan {
        self.preflight("alice").await.expect("preflight passes")
    }

    pub(crate) async fn enroll(&self, plan: &Plan) -> Result<Enrolled, Box<Failure>> {
        enroll(
            &self.dir,
            &mut self.card.clone(),
            plan,
            &*self.clock,
            &self.progress,
            &self.cancel,
        )
        .await
    }

    pub(crate) async fn fail(&self, plan: &Plan) -> Failure {
        *self.enroll(plan).await.expect_err("the enrollment fails")
    }

    /// IAM has no device and the token no credential: as before the run.
    pub(crate) fn assert_untouched(&self) {
        assert_eq!(
            self.dir.serials(),
            Vec::<String>::new(),
            "devices left in IAM"
        );
        assert_eq!(
            self.card.names(),
            Vec::<String>::new(),
            "credentials left on the token"
        );
    }
}

pub(crate) fn undone_device(serial: &str) -> String {
    format!("deleted virtual MFA device {serial}")
}

pub(crate) fn undone_credential() -> String {
    format!("deleted credential '{LABEL}' from YubiKey {TOKEN_SERIAL}")
}

pub(crate) fn undone_assignment() -> String {
    format!("deactivated {ARN} for alice")
}
