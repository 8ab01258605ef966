//! The virtual card: `apdu-dispatch` routing APDUs to the Secrets App, behind vpicc's card trait.

use std::fmt::Write as _;

use apdu_dispatch::{dispatch::ApduDispatch, interchanges};
use secrets_app::Authenticator;

/// ATR of a Nitrokey 3 over CCID: T=1, historical bytes "Nitrokey" followed by five zero bytes,
/// and the check byte (XOR of T0 ..= last historical byte).
pub const NITROKEY3_ATR: [u8; 19] = [
    0x3B, 0x8F, 0x01, 0x80, 0x5D, b'N', b'i', b't', b'r', b'o', b'k', b'e', b'y', 0x00, 0x00, 0x00,
    0x00, 0x00, 0x6A,
];

/// SW 6700 (wrong length): an APDU larger than the dispatcher's buffer.
const SW_WRONG_LENGTH: [u8; 2] = [0x67, 0x00];
/// SW 6F00 (no precise diagnosis): the dispatcher produced no answer.
const SW_UNKNOWN: [u8; 2] = [0x6F, 0x00];

/// Instructions whose data carries secrets or PINs; their data is never logged.
const SECRET_INS: [u8; 6] = [0x01, 0x03, 0xA3, 0xB2, 0xB3, 0xB4];

/// One Secrets App instance behind an APDU dispatcher, as on a Nitrokey 3's CCID interface.
pub struct SecretsCard<'p, T: secrets_app::authenticator::Client> {
    app: Authenticator<T>,
    dispatch: ApduDispatch<'p>,
    contact: interchanges::Requester<'p>,
    atr: Vec<u8>,
    verbose: bool,
}

impl<'p, T: secrets_app::authenticator::Client> SecretsCard<'p, T> {
    /// `contact` and `contactless` are the two dispatcher channels (only contact is used here).
    pub fn new(
        app: Authenticator<T>,
        contact: &'p interchanges::Channel,
        contactless: &'p interchanges::Channel,
        atr: Vec<u8>,
        verbose: bool,
    ) -> Self {
        let (contact_rq, contact_rp) = contact.split().expect("contact channel already split");
        let (_, contactless_rp) = contactless
            .split()
            .expect("contactless channel already split");
        Self {
            app,
            dispatch: ApduDispatch::new(contact_rp, contactless_rp),
            contact: contact_rq,
            atr,
            verbose,
        }
    }

    /// Runs one command APDU through the dispatcher and returns the response APDU (data + SW).
    pub fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let response = self.transmit_inner(apdu);
        if self.verbose {
            eprintln!("nitrokey-card: > {}", describe_command(apdu));
            eprintln!("nitrokey-card: < {}", hex(&response));
        }
        response
    }

    fn transmit_inner(&mut self, apdu: &[u8]) -> Vec<u8> {
        let Ok(data) = interchanges::Data::from_slice(apdu) else {
            return SW_WRONG_LENGTH.to_vec();
        };
        if self.contact.request(data).is_err() {
            // A previous exchange was left pending: drop it and retry once.
            self.contact.cancel().ok();
            self.contact.take_response();
            let Ok(data) = interchanges::Data::from_slice(apdu) else {
                return SW_WRONG_LENGTH.to_vec();
            };
            if self.contact.request(data).is_err() {
                return SW_UNKNOWN.to_vec();
            }
        }
        self.dispatch.poll(&mut [&mut self.app]);
        match self.contact.take_response() {
            Some(response) => response.to_vec(),
            None => {
                self.contact.cancel().ok();
                SW_UNKNOWN.to_vec()
            }
        }
    }
}

impl<T: secrets_app::authenticator::Client> vpicc::VSmartCard for SecretsCard<'_, T> {
    fn atr(&self) -> &[u8] {
        &self.atr
    }

    // Power events keep the app's state: a Nitrokey 3 stays powered by USB while the host
    // powers its CCID slot off and on, so its Secrets App keeps running.
    fn power_on(&mut self) {
        if self.verbose {
            eprintln!("nitrokey-card: power on");
        }
    }

    fn power_off(&mut self) {
        if self.verbose {
            eprintln!("nitrokey-card: power off");
        }
    }

    fn reset(&mut self) {
        if self.verbose {
            eprintln!("nitrokey-card: reset");
        }
    }

    fn execute(&mut self, msg: &[u8]) -> Vec<u8> {
        self.transmit(msg)
    }
}

/// Hex of an APDU, with the data of secret-bearing instructions replaced by its length.
fn describe_command(apdu: &[u8]) -> String {
    if apdu.len() > 5 && SECRET_INS.contains(&apdu[1]) {
        format!("{} <{} bytes hidden>", hex(&apdu[..5]), apdu.len() - 5)
    } else {
        hex(apdu)
    }
}

/// Space-separated upper-case hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02X}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atr_check_byte() {
        let tck = NITROKEY3_ATR[1..18].iter().fold(0u8, |acc, b| acc ^ b);
        assert_eq!(tck, NITROKEY3_ATR[18]);
    }

    #[test]
    fn secrets_are_not_logged() {
        let put = [0x00, 0x01, 0x00, 0x00, 0x03, 0x71, 0x01, 0x41];
        assert_eq!(describe_command(&put), "00 01 00 00 03 <3 bytes hidden>");
        let list = [0x00, 0xA1, 0x00, 0x00];
        assert_eq!(describe_command(&list), "00 A1 00 00");
    }
}
