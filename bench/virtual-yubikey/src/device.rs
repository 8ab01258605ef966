//! The card as plugged in: the in-memory [`Card`] shared between the vpcd link and the control socket,
//! whether it is inserted, and the state file written after every change.
//!
//! State lives in memory only; the state file is a dump for tests to read, and holds key fingerprints,
//! never keys.

use crate::card::{Card, Outcome};
use serde_json::{json, Value};
use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

struct Link {
    present: bool,
    stream: Option<TcpStream>,
}

/// A virtual YubiKey plugged into (or pulled from) a virtual reader.
pub struct Device {
    card: Mutex<Card>,
    link: Mutex<Link>,
    inserted: Condvar,
    state_file: Option<PathBuf>,
    written: Mutex<Option<u64>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the bench down with poisoned locks.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Device {
    /// An inserted device; writes the state file once at once.
    pub fn new(card: Card, state_file: Option<PathBuf>) -> Arc<Device> {
        let device = Arc::new(Device {
            card: Mutex::new(card),
            link: Mutex::new(Link {
                present: true,
                stream: None,
            }),
            inserted: Condvar::new(),
            state_file,
            written: Mutex::new(None),
        });
        device.with_card(|_| ());
        device
    }

    /// Runs `f` on the card, then rewrites the state file if the card's state changed.
    pub fn with_card<R>(&self, f: impl FnOnce(&mut Card) -> R) -> R {
        let mut card = lock(&self.card);
        let result = f(&mut card);
        let generation = card.generation();
        let mut written = lock(&self.written);
        if *written != Some(generation) {
            if let Some(path) = &self.state_file {
                if let Err(e) = write_atomically(path, &card.dump()) {
                    eprintln!("virtual-yubikey: cannot write {}: {e}", path.display());
                }
            }
            *written = Some(generation);
        }
        result
    }

    /// One APDU.
    pub fn transmit(&self, apdu: &[u8]) -> Outcome {
        self.with_card(|card| card.transmit(apdu))
    }

    /// Pulls the card: drops the vpcd connection and keeps it out until [`Device::insert`].
    pub fn remove(&self) {
        {
            let mut link = lock(&self.link);
            link.present = false;
            if let Some(stream) = link.stream.take() {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        self.with_card(Card::power_cycle);
    }

    /// Plugs the card back in.
    pub fn insert(&self) {
        lock(&self.link).present = true;
        self.inserted.notify_all();
    }

    /// Blocks until the card is inserted.
    pub fn wait_present(&self) {
        let mut link = lock(&self.link);
        while !link.present {
            link = self.inserted.wait(link).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Records the live vpcd connection (so that `remove` can cut it). False if the card was pulled
    /// meanwhile.
    pub fn attach(&self, stream: &TcpStream) -> bool {
        let mut link = lock(&self.link);
        if !link.present {
            return false;
        }
        link.stream = stream.try_clone().ok();
        true
    }

    /// Forgets the connection.
    pub fn detach(&self) {
        lock(&self.link).stream = None;
    }

    /// Presence, connection and touch behaviour, for the control socket.
    pub fn status_json(&self) -> Value {
        let (present, connected) = {
            let link = lock(&self.link);
            (link.present, link.stream.is_some())
        };
        self.with_card(|card| {
            json!({
                "ok": true,
                "present": present,
                "connected": connected,
                "selected": card.selected().map(|a| a.name()),
                "touch": touch_json(card),
            })
        })
    }
}

/// Touch behaviour as JSON.
pub fn touch_json(card: &Card) -> Value {
    json!({
        "mode": if card.touch.approve { "approve" } else { "refuse" },
        "delay_ms": card.touch.delay_ms,
    })
}

/// Writes beside the target then renames, so readers never see half a file.
pub fn write_atomically(path: &Path, value: &Value) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    {
        let mut file = std::fs::File::create(&tmp)?;
        serde_json::to_writer_pretty(&mut file, value)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
