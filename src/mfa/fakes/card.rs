//! A YubiKey in memory ([`FakeCard`]): credentials with their keys, codes from its own HMAC,
//! and faults armed per instruction; every operation is logged.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::{lock, TOKEN_SERIAL};
use crate::mfa::Cancel;
use crate::oath::{
    self, Algorithm, Code, Credential, CredentialData, CredentialId, OathType, TimeStep,
};
use crate::token::{Card, Serial, WriteError};
use crate::transport::TransportError;

/// Where in SELECT, PUT, CALCULATE, CALCULATE a write fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteStage {
    /// Refused before PUT: nothing written.
    BeforePut,
    /// PUT sent, answer lost: the credential is on the token.
    AfterPut,
    /// The first CALCULATE fails (the credential is on the token).
    Calculate1,
    /// The second CALCULATE fails.
    Calculate2,
}

pub(crate) struct Stored {
    pub(crate) key: Vec<u8>,
    pub(crate) digits: u8,
    pub(crate) touch: bool,
}

#[derive(Default)]
pub(crate) struct CardState {
    pub(crate) credentials: BTreeMap<Vec<u8>, Stored>,
    pub(crate) capacity: Option<usize>,
    /// Pulled out: every operation fails with `CardRemoved` until plugged back.
    pub(crate) removed: bool,
    pub(crate) write_fault: Option<(WriteStage, fn() -> oath::Error)>,
    /// Faults of `calculate`, by call number from 1.
    pub(crate) calculate_faults: Vec<(usize, fn() -> oath::Error)>,
    pub(crate) calculate_calls: usize,
    /// Every delete fails with this.
    pub(crate) delete_fault: Option<fn() -> oath::Error>,
    /// The names of the credentials deleted, in order (deletes that failed are not here).
    pub(crate) deleted: Vec<Vec<u8>>,
    /// Only listing and deleting are allowed ([`FakeCard::for_removal`]).
    pub(crate) removal_only: bool,
    pub(crate) cancel_on_write: Option<Cancel>,
    pub(crate) ops: Vec<String>,
}

/// A YubiKey in memory. Clones share the token, so a test keeps one to look at and to pull the
/// token out while the enrollment holds the other.
#[derive(Clone)]
pub(crate) struct FakeCard(Arc<Mutex<CardState>>);

pub(crate) fn card_removed() -> oath::Error {
    oath::Error::Transport(TransportError::CardRemoved)
}

impl FakeCard {
    pub(crate) fn new(capacity: Option<usize>) -> Self {
        FakeCard(Arc::new(Mutex::new(CardState {
            capacity,
            ..CardState::default()
        })))
    }

    /// A token the operation under test may only list and delete on (revocation): writing a
    /// credential or computing a code fails the test.
    pub(crate) fn for_removal() -> Self {
        let card = FakeCard::new(Some(32));
        card.state().removal_only = true;
        card
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, CardState> {
        lock(&self.0)
    }

    pub(crate) fn add(&self, name: &str) {
        self.state().credentials.insert(
            name.as_bytes().to_vec(),
            Stored {
                key: b"someone else's seed".to_vec(),
                digits: 6,
                touch: false,
            },
        );
    }

    /// A credential with this secret (the one a record's fingerprint was taken of).
    pub(crate) fn add_key(&self, name: &str, key: &[u8]) {
        self.state().credentials.insert(
            name.as_bytes().to_vec(),
            Stored {
                key: key.to_vec(),
                digits: 6,
                touch: false,
            },
        );
    }

    pub(crate) fn fail_write(&self, stage: WriteStage, error: fn() -> oath::Error) {
        self.state().write_fault = Some((stage, error));
    }

    pub(crate) fn fail_calculate(&self, nth: usize, error: fn() -> oath::Error) {
        let mut s = self.state();
        let nth = s.calculate_calls + nth;
        s.calculate_faults.push((nth, error));
    }

    pub(crate) fn fail_deletes(&self, error: fn() -> oath::Error) {
        self.state().delete_fault = Some(error);
    }

    pub(crate) fn cancel_on_write(&self, cancel: &Cancel) {
        self.state().cancel_on_write = Some(cancel.clone());
    }

    pub(crate) fn pull_out(&self) {
        self.state().removed = true;
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.state()
            .credentials
            .keys()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect()
    }

    pub(crate) fn key(&self, name: &str) -> Option<Vec<u8>> {
        self.state()
            .credentials
            .get(name.as_bytes())
            .map(|c| c.key.clone())
    }

    pub(crate) fn touch(&self, name: &str) -> Option<bool> {
        self.state()
            .credentials
            .get(name.as_bytes())
            .map(|c| c.touch)
    }

    /// The names of the credentials deleted so far, in order.
    pub(crate) fn deleted(&self) -> Vec<Vec<u8>> {
        self.state().deleted.clone()
    }

    pub(crate) fn ops(&self) -> Vec<String> {
        self.state().ops.clone()
    }

    pub(crate) fn did(&self, op: &str) -> bool {
        self.ops().iter().any(|o| o.starts_with(op))
    }
}

impl CardState {
    /// An error the token gives; `CardRemoved` also means it is out of the reader from now on.
    pub(crate) fn fails(&mut self, error: oath::Error) -> oath::Error {
        if matches!(error, oath::Error::Transport(TransportError::CardRemoved)) {
            self.removed = true;
        }
        error
    }

    pub(crate) fn present(&self) -> Result<(), oath::Error> {
        if self.removed {
            Err(card_removed())
        } else {
            Ok(())
        }
    }

    pub(crate) fn code(&self, raw_id: &[u8], step: TimeStep) -> Result<Code, oath::Error> {
        let stored = self.credentials.get(raw_id).ok_or_else(|| {
            oath::Error::NoSuchCredential(String::from_utf8_lossy(raw_id).into_owned())
        })?;
        let mut mac = Hmac::<Sha1>::new_from_slice(&stored.key)
            .map_err(|_| oath::Error::Malformed("HMAC key"))?;
        mac.update(&step.0.to_be_bytes());
        let h = mac.finalize().into_bytes();
        // RFC 4226 dynamic truncation; the applet answers the 4 bytes, the host masks and reduces.
        let at = usize::from(h[19] & 0x0F);
        let answer = [stored.digits, h[at], h[at + 1], h[at + 2], h[at + 3]];
        Code::from_truncated(&answer, step, 30)
    }
}

impl Card for FakeCard {
    fn write_and_calculate(
        &mut self,
        data: &CredentialData,
        steps: [TimeStep; 2],
    ) -> Result<[Code; 2], WriteError> {
        let mut s = self.state();
        assert!(
            !s.removal_only,
            "wrote {} on a token only to remove from",
            data.id
        );
        s.ops.push(format!("write {}", data.id));
        let fault = s.write_fault.take();
        let at = |stage| fault.filter(|(st, _)| *st == stage).map(|(_, e)| e());
        s.present().map_err(WriteError::NotWritten)?;
        if let Some(e) = at(WriteStage::BeforePut) {
            return Err(WriteError::NotWritten(s.fails(e)));
        }
        let raw = data.id.to_bytes();
        if s.credentials.contains_key(&raw) {
            return Err(WriteError::NotWritten(oath::Error::CredentialExists(
                data.id.to_string(),
            )));
        }
        if s.capacity.is_some_and(|c| s.credentials.len() >= c) {
            return Err(WriteError::NotWritten(oath::Error::NoSpace));
        }
        s.credentials.insert(
            raw.clone(),
            Stored {
                key: data.secret.expose().to_vec(),
                digits: data.digits,
                touch: data.touch,
            },
        );
        if let Some(e) = at(WriteStage::AfterPut) {
            return Err(WriteError::MaybeWritten(s.fails(e)));
        }
        if let Some(cancel) = &s.cancel_on_write {
            cancel.cancel();
        }
        if let Some(e) = at(WriteStage::Calculate1) {
            return Err(WriteError::MaybeWritten(s.fails(e)));
        }
        let first = s.code(&raw, steps[0]).map_err(WriteError::MaybeWritten)?;
        if let Some(e) = at(WriteStage::Calculate2) {
            return Err(WriteError::MaybeWritten(s.fails(e)));
        }
        let second = s.code(&raw, steps[1]).map_err(WriteError::MaybeWritten)?;
        Ok([first, second])
    }

    fn calculate(&mut self, raw_id: &[u8], step: TimeStep) -> Result<Code, oath::Error> {
        let mut s = self.state();
        assert!(
            !s.removal_only,
            "computed a code on a token only to remove from"
        );
        s.ops.push(format!(
            "calculate {} {}",
            String::from_utf8_lossy(raw_id),
            step.0
        ));
        s.present()?;
        s.calculate_calls += 1;
        let n = s.calculate_calls;
        if let Some(i) = s.calculate_faults.iter().position(|(k, _)| *k == n) {
            let (_, e) = s.calculate_faults.remove(i);
            return Err(s.fails(e()));
        }
        s.code(raw_id, step)
    }

    fn delete(&mut self, raw_id: &[u8]) -> Result<(), oath::Error> {
        let mut s = self.state();
        s.ops
            .push(format!("delete {}", String::from_utf8_lossy(raw_id)));
        s.present()?;
        if let Some(e) = s.delete_fault {
            return Err(s.fails(e()));
        }
        s.credentials.remove(raw_id);
        s.deleted.push(raw_id.to_vec());
        Ok(())
    }

    fn prove(
        &mut self,
        raw_id: &[u8],
        fingerprint: &oath::Fingerprint,
    ) -> Result<oath::Proof, oath::Error> {
        let mut s = self.state();
        s.ops
            .push(format!("prove {}", String::from_utf8_lossy(raw_id)));
        s.present()?;
        let stored = s.credentials.get(raw_id).ok_or_else(|| {
            oath::Error::NoSuchCredential(String::from_utf8_lossy(raw_id).into_owned())
        })?;
        let mut mac = Hmac::<Sha1>::new_from_slice(&stored.key)
            .map_err(|_| oath::Error::Malformed("HMAC key"))?;
        mac.update(&fingerprint.challenge());
        Ok(fingerprint.compare(&mac.finalize().into_bytes()))
    }

    fn list(&mut self) -> Result<Vec<Credential>, oath::Error> {
        let mut s = self.state();
        s.ops.push("list".into());
        s.present()?;
        Ok(s.credentials
            .keys()
            .map(|raw| Credential {
                id: CredentialId::parse(raw, OathType::Totp),
                raw_id: raw.clone(),
                oath_type: OathType::Totp,
                algorithm: Some(Algorithm::Sha1),
                touch: None,
            })
            .collect())
    }

    fn describe(&self) -> String {
        format!("YubiKey {TOKEN_SERIAL}")
    }

    fn serial(&self) -> Option<Serial> {
        Some(Serial(TOKEN_SERIAL))
    }

    fn capacity(&self) -> Option<usize> {
        self.state().capacity
    }

    fn kind(&self) -> String {
        "YubiKey".into()
    }
}
