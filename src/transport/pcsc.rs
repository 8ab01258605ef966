//! PC/SC: readers, connections and exclusive transactions through `pcscd` (or WinSCard).
//!
//! Every operation on a token runs inside one PC/SC transaction, so no other program can slip an
//! APDU between ours (and, say, SELECT another applet in the middle of an enrollment). Errors are
//! mapped to [`TransportError`] variants the binary can explain in a sentence.

use std::ffi::CString;
use std::time::{Duration, Instant};

use super::{Transport, TransportError};

/// A response buffer large enough for any short-APDU answer (256 data bytes + SW) and more.
const MAX_RESPONSE: usize = pcsc::MAX_BUFFER_SIZE_EXTENDED;

/// A connection to the PC/SC service.
pub struct Context {
    ctx: pcsc::Context,
}

impl Context {
    /// Connects to the PC/SC service.
    pub fn establish() -> Result<Self, TransportError> {
        let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(|e| map_error(e, ""))?;
        Ok(Context { ctx })
    }

    /// The names of all readers, with or without a card. No readers is an empty list.
    pub fn readers(&self) -> Result<Vec<String>, TransportError> {
        match self.ctx.list_readers_owned() {
            Ok(names) => Ok(names
                .into_iter()
                .map(|n| n.to_string_lossy().into_owned())
                .collect()),
            Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
            Err(e) => Err(map_error(e, "")),
        }
    }

    /// Connects to the card in `reader` (shared: other programs may connect too, but every
    /// operation runs in an exclusive transaction).
    pub fn connect(&self, reader: &str) -> Result<Card, TransportError> {
        let name =
            CString::new(reader).map_err(|_| TransportError::ReaderGone(reader.to_owned()))?;
        let card = self
            .ctx
            .connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
            .map_err(|e| map_error(e, reader))?;
        Ok(Card {
            card,
            reader: reader.to_owned(),
        })
    }

    /// Waits until the set of readers holding a card changes, or `timeout` passes. Returns
    /// whether something changed. Also notices readers that appear (USB plug-in).
    pub fn wait_for_change(&self, timeout: Duration) -> Result<bool, TransportError> {
        let deadline = Instant::now() + timeout;
        let mut states = vec![pcsc::ReaderState::new(
            pcsc::PNP_NOTIFICATION(),
            pcsc::State::UNAWARE,
        )];
        for name in self.readers()? {
            if let Ok(name) = CString::new(name) {
                states.push(pcsc::ReaderState::new(name, pcsc::State::UNAWARE));
            }
        }
        // The first call only learns the current state of each reader.
        self.status_change(Duration::ZERO, &mut states)?;
        for s in &mut states {
            s.sync_current_state();
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match self.status_change(left, &mut states) {
            Ok(()) => Ok(states
                .iter()
                .any(|s| s.event_state().contains(pcsc::State::CHANGED))),
            Err(TransportError::Timeout) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn status_change(
        &self,
        timeout: Duration,
        states: &mut [pcsc::ReaderState],
    ) -> Result<(), TransportError> {
        match self.ctx.get_status_change(timeout, states) {
            Ok(()) => Ok(()),
            Err(pcsc::Error::Timeout) => Err(TransportError::Timeout),
            Err(e) => Err(map_error(e, "")),
        }
    }
}

/// A connection to the card in one reader.
pub struct Card {
    card: pcsc::Card,
    reader: String,
}

impl Card {
    /// The reader's name.
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// The card's ATR.
    pub fn atr(&self) -> Result<Vec<u8>, TransportError> {
        self.card
            .status2_owned()
            .map(|s| s.atr().to_vec())
            .map_err(|e| map_error(e, &self.reader))
    }

    /// Starts an exclusive transaction; it ends when the returned link is dropped.
    ///
    /// A program that disconnects from a card resets it (ykmfa does too, so that an unlocked
    /// OATH session never outlives it), and every other handle on that card learns of it at its
    /// next call. Such a handle is reconnected here, taking the card as it now is, rather than
    /// mistaking the reset for a removal.
    pub fn begin(&mut self) -> Result<Link<'_>, TransportError> {
        if matches!(self.card.status2_owned(), Err(pcsc::Error::ResetCard)) {
            self.card
                .reconnect(
                    pcsc::ShareMode::Shared,
                    pcsc::Protocols::ANY,
                    pcsc::Disposition::LeaveCard,
                )
                .map_err(|e| map_error(e, &self.reader))?;
        }
        let reader = self.reader.clone();
        let tx = self.card.transaction().map_err(|e| map_error(e, &reader))?;
        Ok(Link { tx, reader })
    }
}

/// An open transaction: the only way APDUs reach a PC/SC card.
pub struct Link<'card> {
    tx: pcsc::Transaction<'card>,
    reader: String,
}

impl Transport for Link<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut buf = zeroize::Zeroizing::new(vec![0u8; MAX_RESPONSE]);
        let answer = self
            .tx
            .transmit(command, &mut buf)
            .map_err(|e| map_error(e, &self.reader))?;
        // Every card answer carries at least a status word. vpcd reports a card that dropped
        // off mid-exchange as a successful transmit of nothing; a real reader says the card
        // was removed. Either way no answer came.
        if answer.is_empty() {
            return Err(TransportError::CardRemoved);
        }
        Ok(answer.to_vec())
    }
}

fn map_error(e: pcsc::Error, reader: &str) -> TransportError {
    use pcsc::Error as E;
    match e {
        E::NoService | E::ServiceStopped => TransportError::NoService,
        E::NoReadersAvailable => TransportError::NoReaders,
        E::SharingViolation => TransportError::SharingViolation(reader.to_owned()),
        // pcsc-lite answers SCardTransmit with SCARD_E_NOT_TRANSACTED once the reader driver
        // has lost the card in the middle of a transaction (seen with vpcd when the card leaves).
        E::RemovedCard
        | E::ResetCard
        | E::UnpoweredCard
        | E::UnresponsiveCard
        | E::NotTransacted => TransportError::CardRemoved,
        E::NoSmartcard => TransportError::NoCard(reader.to_owned()),
        E::ReaderUnavailable | E::UnknownReader => TransportError::ReaderGone(reader.to_owned()),
        // pcsc-lite answers these when polkit refuses the caller access to a card.
        E::SecurityViolation | E::NoAccess => TransportError::PermissionDenied,
        E::Timeout => TransportError::Timeout,
        other => TransportError::Other(other.to_string()),
    }
}

/// Whether a PC/SC service that could not be reached refused this user rather than being
/// missing: its socket exists, and the user is not root. Most often polkit said no; a pcscd that
/// crashed leaves its socket behind too.
pub fn service_refused() -> bool {
    refused(
        service_socket_present(),
        rustix::process::getuid().is_root(),
    )
}

/// [`service_refused`], from whether the socket exists (`None`: unknown) and whether the user
/// is root.
fn refused(socket_present: Option<bool>, root: bool) -> bool {
    socket_present == Some(true) && !root
}

/// Whether the PC/SC service socket exists (so a failure to connect to it means refusal, not
/// absence). Linux only; elsewhere the answer is unknown.
pub fn service_socket_present() -> Option<bool> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let path =
        std::env::var_os("PCSCLITE_CSOCK_NAME").unwrap_or_else(|| "/run/pcscd/pcscd.comm".into());
    Some(std::path::Path::new(&path).exists())
}

#[cfg(test)]
mod tests;
