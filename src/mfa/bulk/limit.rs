//! [`Limited`]: one account's [`Directory`] shared by many parallel enrollments, with a cap on
//! IAM calls in flight and the account-wide answers (who the caller is, the alias) asked once.
//!
//! IAM throttles per account. Ten enrollments started at once would send ten creates, then ten
//! enables, in the same instant; the cap keeps the burst to what the SDK's retry with backoff
//! carries through a `Throttling` answer.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{OnceCell, Semaphore, SemaphorePermit};

use crate::iam::{
    AssignmentStatus, CallerIdentity, ClockReading, CreatedDevice, Directory, IamError, MfaDevice,
    PasswordPolicy, PolicyDecision, User, VirtualMfaDevice,
};

/// A [`Directory`] with at most N calls in flight, and the caller identity and account alias
/// cached for the run.
pub struct Limited<D> {
    inner: D,
    gate: Arc<Semaphore>,
    who: OnceCell<CallerIdentity>,
    alias: OnceCell<Option<String>>,
}

impl<D: Directory> Limited<D> {
    /// Wraps `inner`, allowing `cap` calls at once (at least one).
    pub fn new(inner: D, cap: usize) -> Self {
        Limited {
            inner,
            gate: Arc::new(Semaphore::new(cap.max(1))),
            who: OnceCell::new(),
            alias: OnceCell::new(),
        }
    }

    /// The wrapped directory.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    async fn permit(&self) -> Option<SemaphorePermit<'_>> {
        // The semaphore is never closed; if it were, calls would go through unlimited.
        self.gate.acquire().await.ok()
    }
}

impl<D: Directory> Directory for Limited<D> {
    async fn caller_identity(&self) -> Result<CallerIdentity, IamError> {
        self.who
            .get_or_try_init(|| async {
                let _p = self.permit().await;
                self.inner.caller_identity().await
            })
            .await
            .cloned()
    }

    async fn server_clock(&self) -> Result<ClockReading, IamError> {
        let _p = self.permit().await;
        self.inner.server_clock().await
    }

    async fn account_alias(&self) -> Result<Option<String>, IamError> {
        self.alias
            .get_or_try_init(|| async {
                let _p = self.permit().await;
                self.inner.account_alias().await
            })
            .await
            .cloned()
    }

    async fn get_user(&self, name: &str) -> Result<User, IamError> {
        let _p = self.permit().await;
        self.inner.get_user(name).await
    }

    async fn list_users(&self) -> Result<Vec<User>, IamError> {
        let _p = self.permit().await;
        self.inner.list_users().await
    }

    async fn get_login_profile(&self, user: &str) -> Result<bool, IamError> {
        let _p = self.permit().await;
        self.inner.get_login_profile(user).await
    }

    async fn list_mfa_devices(&self, user: Option<&str>) -> Result<Vec<MfaDevice>, IamError> {
        let _p = self.permit().await;
        self.inner.list_mfa_devices(user).await
    }

    async fn list_virtual_mfa_devices(
        &self,
        status: AssignmentStatus,
    ) -> Result<Vec<VirtualMfaDevice>, IamError> {
        let _p = self.permit().await;
        self.inner.list_virtual_mfa_devices(status).await
    }

    async fn create_virtual_mfa_device(
        &self,
        name: &str,
        path: Option<&str>,
        tags: &[(String, String)],
    ) -> Result<CreatedDevice, IamError> {
        let _p = self.permit().await;
        self.inner.create_virtual_mfa_device(name, path, tags).await
    }

    async fn enable_mfa_device(
        &self,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), IamError> {
        let _p = self.permit().await;
        self.inner
            .enable_mfa_device(user, serial, code1, code2)
            .await
    }

    async fn resync_mfa_device(
        &self,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), IamError> {
        let _p = self.permit().await;
        self.inner
            .resync_mfa_device(user, serial, code1, code2)
            .await
    }

    async fn deactivate_mfa_device(
        &self,
        user: Option<&str>,
        serial: &str,
    ) -> Result<(), IamError> {
        let _p = self.permit().await;
        self.inner.deactivate_mfa_device(user, serial).await
    }

    async fn delete_virtual_mfa_device(&self, serial: &str) -> Result<(), IamError> {
        let _p = self.permit().await;
        self.inner.delete_virtual_mfa_device(serial).await
    }

    async fn tag_mfa_device(
        &self,
        serial: &str,
        tags: &[(String, String)],
    ) -> Result<(), IamError> {
        let _p = self.permit().await;
        self.inner.tag_mfa_device(serial, tags).await
    }

    async fn list_mfa_device_tags(&self, serial: &str) -> Result<Vec<(String, String)>, IamError> {
        let _p = self.permit().await;
        self.inner.list_mfa_device_tags(serial).await
    }

    async fn get_account_summary(&self) -> Result<HashMap<String, i32>, IamError> {
        let _p = self.permit().await;
        self.inner.get_account_summary().await
    }

    async fn get_account_password_policy(&self) -> Result<Option<PasswordPolicy>, IamError> {
        let _p = self.permit().await;
        self.inner.get_account_password_policy().await
    }

    async fn role_arn(&self, name: &str) -> Result<String, IamError> {
        let _p = self.permit().await;
        self.inner.role_arn(name).await
    }

    async fn simulate_principal_policy(
        &self,
        principal_arn: &str,
        actions: &[String],
        resource: &str,
        context: &[(String, String)],
    ) -> Result<Vec<PolicyDecision>, IamError> {
        let _p = self.permit().await;
        self.inner
            .simulate_principal_policy(principal_arn, actions, resource, context)
            .await
    }
}
