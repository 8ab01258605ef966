//! The card: one APDU in, one answer out, with no sockets involved.
//!
//! Routes SELECT to the applets, keeps the selected applet and command chaining, applies armed faults
//! and counts APDUs. Everything here is synchronous and in memory, so tests drive it directly.

use crate::apdu::{hex, sw, Command, Response};
use crate::crypto;
use crate::fault::{Action, Fault, Faults};
use crate::identity::Identity;
use crate::oath::{self, Model, Oath, Touch};
use crate::{management, otp, piv};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// ATR of a YubiKey 5 over USB. ykman calls a reader USB when `ATR[1] & 0xF0 == 0xF0`; the
/// historical bytes end in ASCII "YubiKey", then the check byte.
pub const ATR: &[u8] = &[
    0x3B, 0xFD, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15, 0x80, 0x73, 0xC0, 0x21, 0xC0, 0x57, 0x59,
    0x75, 0x62, 0x69, 0x4B, 0x65, 0x79, 0x40,
];

/// CLA bit announcing that more chained command data follows.
const CLA_CHAINING: u8 = 0x10;

/// Filler size of an endless-chaining answer.
const ENDLESS_PIECE: usize = 64;

/// The applets a YubiKey 5 answers SELECT for (here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applet {
    /// YKOATH.
    Oath,
    /// Management.
    Management,
    /// Yubico OTP.
    Otp,
    /// PIV (minimal).
    Piv,
}

impl Applet {
    fn from_aid(aid: &[u8]) -> Option<Applet> {
        if aid == oath::AID {
            Some(Applet::Oath)
        } else if aid == management::AID {
            Some(Applet::Management)
        } else if aid == otp::AID {
            Some(Applet::Otp)
        } else if aid.starts_with(piv::AID) {
            Some(Applet::Piv)
        } else {
            None
        }
    }

    /// Lower-case name for status replies.
    pub fn name(self) -> &'static str {
        match self {
            Applet::Oath => "oath",
            Applet::Management => "management",
            Applet::Otp => "otp",
            Applet::Piv => "piv",
        }
    }
}

/// Everything a card is configured with at start.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Serial and firmware.
    pub identity: Identity,
    /// OATH credential capacity.
    pub capacity: usize,
    /// Largest response data in one piece before `61xx`.
    pub max_response: usize,
    /// Touch behaviour.
    pub touch: Touch,
    /// One log line per APDU on stderr.
    pub verbose: bool,
}

/// What the link should do with an APDU's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Send these bytes after waiting `delay_ms`.
    Reply {
        /// The response APDU as sent (normally data then SW1 SW2).
        bytes: Vec<u8>,
        /// Wait before sending (touch, delay fault).
        delay_ms: u64,
    },
    /// Drop the connection without answering: the card was pulled.
    Remove {
        /// Come back after this many milliseconds; otherwise stay out until told.
        reinsert_after_ms: Option<u64>,
    },
}

/// The emulated YubiKey.
pub struct Card {
    identity: Identity,
    capacity: usize,
    max_response: usize,
    verbose: bool,
    /// Touch behaviour, changed at run time by the control socket.
    pub touch: Touch,
    oath: Oath,
    selected: Option<Applet>,
    chained: Option<(u8, Vec<u8>)>,
    endless: bool,
    faults: Faults,
    stats: BTreeMap<String, u64>,
    total: u64,
}

impl Card {
    /// A card fresh from the factory. The OATH salt is derived from the serial, so the same serial
    /// gives the same OATH device id across bench runs (until an OATH RESET).
    pub fn new(config: Config) -> Card {
        let mut seed = b"virtual-yubikey oath salt ".to_vec();
        seed.extend_from_slice(&config.identity.serial.to_be_bytes());
        let mut salt = [0u8; 8];
        salt.copy_from_slice(&crypto::sha256(&seed)[..8]);
        let model = Model {
            version: config.identity.version,
            capacity: config.capacity,
            max_response: config.max_response,
            profile: config.identity.profile,
        };
        Card {
            identity: config.identity,
            capacity: config.capacity,
            max_response: config.max_response,
            verbose: config.verbose,
            touch: config.touch,
            oath: Oath::new(model, salt),
            selected: None,
            chained: None,
            endless: false,
            faults: Faults::default(),
            stats: BTreeMap::new(),
            total: 0,
        }
    }

    /// Power-off, power-on, reset or removal: applet selection and sessions are gone.
    pub fn power_cycle(&mut self) {
        self.selected = None;
        self.chained = None;
        self.endless = false;
        self.oath.end_session();
    }

    /// Increments on every change of what the state dump shows.
    pub fn generation(&self) -> u64 {
        self.oath.generation()
    }

    /// The selected applet, if any.
    pub fn selected(&self) -> Option<Applet> {
        self.selected
    }

    /// Arms a fault.
    pub fn arm(&mut self, fault: Fault) {
        self.faults.arm(fault);
    }

    /// Disarms every fault.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// Armed faults, for the control socket.
    pub fn faults_json(&self) -> Value {
        self.faults.to_json()
    }

    /// APDU counts per instruction name since start or the last reset.
    pub fn stats_json(&self) -> Value {
        json!({"total": self.total, "by_ins": self.stats})
    }

    /// Forgets the counts.
    pub fn reset_stats(&mut self) {
        self.stats.clear();
        self.total = 0;
    }

    /// The state dump: what the key holds, never a key.
    pub fn dump(&self) -> Value {
        json!({
            "profile": self.identity.profile.name(),
            "serial": self.identity.serial,
            "version": self.identity.version_string(),
            "capacity": self.capacity,
            "password_set": self.oath.password_set(),
            "oath_device_id": self.oath.device_id(),
            "credentials": self.oath.credentials_json(),
        })
    }

    /// One command APDU in, one outcome out.
    pub fn transmit(&mut self, raw: &[u8]) -> Outcome {
        let parsed = Command::parse(raw);
        let (ins, name) = match &parsed {
            Ok(cmd) => (cmd.ins, self.ins_name(cmd)),
            Err(_) => (raw.get(1).copied().unwrap_or(0), "MALFORMED".to_string()),
        };
        self.total += 1;
        *self.stats.entry(name.clone()).or_insert(0) += 1;

        let outcome = match parsed {
            Err(status) => reply(Response::status(status)),
            Ok(cmd) => {
                if self.endless && cmd.ins == oath::INS_SEND_REMAINING {
                    reply(Response {
                        data: vec![0; ENDLESS_PIECE],
                        sw: 0x61FF,
                        delay_ms: 0,
                    })
                } else {
                    self.endless = false;
                    match self.faults.take(ins, &name) {
                        Some(action) => self.apply_fault(action, &cmd, &name),
                        None => reply(self.execute(&cmd)),
                    }
                }
            }
        };
        if self.verbose {
            eprintln!("{}", log_line(raw, &name, &outcome));
        }
        outcome
    }

    fn apply_fault(&mut self, action: Action, cmd: &Command, name: &str) -> Outcome {
        match action {
            Action::Status(status) => reply(Response::status(status)),
            Action::Remove { reinsert_after_ms } => Outcome::Remove { reinsert_after_ms },
            Action::Lie => reply(Response::ok(Vec::new())),
            Action::Garbage { len, sw } => {
                let mut data = Vec::with_capacity(len);
                while data.len() < len {
                    data.extend_from_slice(&crypto::random::<32>());
                }
                data.truncate(len);
                reply(Response {
                    data,
                    sw,
                    delay_ms: 0,
                })
            }
            Action::TruncatedTlv => {
                let mut r = self.execute(cmd);
                if r.data.len() >= 3 {
                    r.data.pop();
                } else {
                    r.data = vec![0x71, 0x05, 0x41];
                }
                reply(r)
            }
            Action::WrongLength => {
                let mut r = self.execute(cmd);
                // READ CONFIG starts with an overall length byte; TLV answers with tag then length.
                let at = if name == "READ_CONFIG" { 0 } else { 1 };
                match r.data.get_mut(at) {
                    Some(b) if *b < 0x7C => *b += 3,
                    Some(b) => *b = b.wrapping_sub(3),
                    None => r.data = vec![0x71, 0x05, 0x41],
                }
                reply(r)
            }
            Action::EndlessChaining => {
                let mut r = self.execute(cmd);
                r.data.truncate(self.max_response.max(1));
                r.sw = 0x61FF;
                self.endless = true;
                reply(r)
            }
            Action::NoSw => {
                let r = self.execute(cmd);
                // Too short to hold a status word when there is no data at all.
                let bytes = if r.data.is_empty() {
                    vec![0x90]
                } else {
                    r.data
                };
                Outcome::Reply {
                    bytes,
                    delay_ms: r.delay_ms,
                }
            }
            Action::Delay(ms) => {
                let mut r = self.execute(cmd);
                r.delay_ms += ms;
                reply(r)
            }
        }
    }

    /// Runs a command as the key would.
    fn execute(&mut self, cmd: &Command) -> Response {
        if cmd.cla & !CLA_CHAINING != 0 {
            return Response::status(sw::CLA_NOT_SUPPORTED);
        }
        // Command chaining: collect the pieces, run the command on the last one.
        let mut cmd = cmd.clone();
        if let Some((ins, mut data)) = self.chained.take() {
            if ins == cmd.ins {
                data.extend_from_slice(&cmd.data);
                cmd.data = data;
            }
        }
        if cmd.cla & CLA_CHAINING != 0 {
            self.chained = Some((cmd.ins, cmd.data));
            return Response::ok(Vec::new());
        }
        if cmd.is_select() {
            return self.select(&cmd.data);
        }
        match self.selected {
            Some(Applet::Oath) => self.oath.process(&cmd, self.touch),
            Some(Applet::Management) => {
                management::process(&self.identity, &cmd, self.oath.password_set())
            }
            Some(Applet::Otp) => otp::process(&self.identity, &cmd),
            Some(Applet::Piv) => piv::process(&self.identity, &cmd),
            None => Response::status(sw::INS_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, aid: &[u8]) -> Response {
        let present = self.identity.profile.applets();
        let Some(applet) = Applet::from_aid(aid).filter(|a| match a {
            Applet::Oath => present.oath,
            Applet::Management => present.management,
            Applet::Otp => present.otp,
            Applet::Piv => present.piv,
        }) else {
            return Response::status(sw::FILE_NOT_FOUND);
        };
        self.oath.end_session();
        self.selected = Some(applet);
        match applet {
            Applet::Oath => self.oath.select(),
            Applet::Management => management::select(&self.identity),
            Applet::Otp => otp::select(&self.identity),
            Applet::Piv => piv::select(),
        }
    }

    /// Instruction name in the selected applet's vocabulary (`INS_xx` when unknown).
    fn ins_name(&self, cmd: &Command) -> String {
        if cmd.is_select() {
            return "SELECT".into();
        }
        let known = match self.selected {
            Some(Applet::Oath) => oath::ins_name(cmd.ins),
            Some(Applet::Management) => management::ins_name(cmd.ins),
            Some(Applet::Otp) => otp::ins_name(cmd.ins),
            Some(Applet::Piv) => piv::ins_name(cmd.ins),
            None => None,
        };
        known.map_or_else(|| format!("INS_{:02X}", cmd.ins), str::to_string)
    }
}

fn reply(r: Response) -> Outcome {
    Outcome::Reply {
        bytes: r.to_bytes(),
        delay_ms: r.delay_ms,
    }
}

/// INS bytes whose command data can carry a secret: OATH PUT, SET CODE and VALIDATE (and, by the
/// same byte as PUT, OTP slot writes), whatever applet is selected.
fn carries_secret(ins: u8) -> bool {
    matches!(ins, oath::INS_PUT | oath::INS_SET_CODE | oath::INS_VALIDATE)
}

/// One line per APDU, secret-bearing command data (and VALIDATE's proof) redacted.
fn log_line(raw: &[u8], name: &str, outcome: &Outcome) -> String {
    let ins = raw.get(1).copied().unwrap_or(0);
    let header = hex(&raw[..raw.len().min(4)]);
    let body = &raw[raw.len().min(4)..];
    let command = if body.is_empty() {
        String::new()
    } else if carries_secret(ins) {
        format!(" [{} bytes redacted]", body.len())
    } else {
        format!(" {}", hex(body))
    };
    let answer = match outcome {
        Outcome::Remove { .. } => "card removed".to_string(),
        Outcome::Reply { bytes, delay_ms } => {
            let split = bytes.len().saturating_sub(2);
            let (data, status) = bytes.split_at(split);
            let data = if ins == oath::INS_VALIDATE {
                format!("[{} bytes redacted]", data.len())
            } else if data.len() > 48 {
                format!("{}… ({} bytes)", hex(&data[..48]), data.len())
            } else {
                hex(data)
            };
            let wait = if *delay_ms > 0 {
                format!(" after {delay_ms} ms")
            } else {
                String::new()
            };
            let space = if data.is_empty() { "" } else { " " };
            format!("{data}{space}{}{wait}", hex(status))
        }
    };
    format!("virtual-yubikey: {name} {header}{command} -> {answer}")
}

#[cfg(test)]
mod tests;
