//! The link to vsmartcard's vpcd: the card is a TCP client of the reader driver.
//!
//! Every message is a 2-byte big-endian length and a payload. A 1-byte payload is a control message
//! (`00` power off, `01` power on, `02` reset, `04` get ATR, the only one answered); anything longer is
//! a command APDU, answered with the response APDU. The card reconnects every 100 ms while vpcd is
//! not listening, and stays away while it is "removed".
//!
//! Latency: vpcd sends the length and the payload in two writes on a socket without `TCP_NODELAY`,
//! so its payload waits until the length is acknowledged. The card therefore sets `TCP_NODELAY` on
//! its side and re-arms `TCP_QUICKACK` before every read; without both an APDU costs ~40-50 ms.

use crate::card::{Outcome, ATR};
use crate::device::Device;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const RETRY: Duration = Duration::from_millis(100);

const CTRL_POWER_OFF: u8 = 0x00;
const CTRL_POWER_ON: u8 = 0x01;
const CTRL_RESET: u8 = 0x02;
const CTRL_GET_ATR: u8 = 0x04;

/// Keeps the card connected to vpcd at `addr`, forever.
pub fn run(device: Arc<Device>, addr: String, verbose: bool) {
    loop {
        device.wait_present();
        let stream = match TcpStream::connect(&addr) {
            Ok(stream) => stream,
            Err(_) => {
                thread::sleep(RETRY);
                continue;
            }
        };
        // Without it every APDU waits for a delayed ACK (~40-50 ms).
        let _ = stream.set_nodelay(true);
        if !device.attach(&stream) {
            continue;
        }
        if verbose {
            eprintln!("virtual-yubikey: connected to vpcd at {addr}");
        }
        let result = serve(&device, stream);
        device.detach();
        device.with_card(|card| card.power_cycle());
        if verbose {
            match result {
                Ok(()) => eprintln!("virtual-yubikey: card removed"),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    eprintln!("virtual-yubikey: vpcd closed the connection")
                }
                Err(e) => eprintln!("virtual-yubikey: vpcd connection ended: {e}"),
            }
        }
        thread::sleep(RETRY);
    }
}

/// Serves one connection until it drops or the card is pulled.
fn serve(device: &Arc<Device>, mut stream: TcpStream) -> io::Result<()> {
    loop {
        let mut len = [0u8; 2];
        quickack(&stream);
        stream.read_exact(&mut len)?;
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
        quickack(&stream);
        stream.read_exact(&mut payload)?;
        match payload.as_slice() {
            [] => {}
            [CTRL_POWER_OFF] | [CTRL_POWER_ON] | [CTRL_RESET] => {
                device.with_card(|card| card.power_cycle());
            }
            [CTRL_GET_ATR] => send(&mut stream, ATR)?,
            [_] => {}
            apdu => match device.transmit(apdu) {
                Outcome::Reply { bytes, delay_ms } => {
                    if delay_ms > 0 {
                        thread::sleep(Duration::from_millis(delay_ms));
                    }
                    send(&mut stream, &bytes)?;
                }
                Outcome::Remove { reinsert_after_ms } => {
                    device.remove();
                    if let Some(ms) = reinsert_after_ms {
                        let device = Arc::clone(device);
                        thread::spawn(move || {
                            thread::sleep(Duration::from_millis(ms));
                            device.insert();
                        });
                    }
                    return Ok(());
                }
            },
        }
    }
}

/// Acknowledge the next segment at once. Linux leaves quick-ACK mode on its own, hence before every
/// read. Best effort: on failure the card is only slower.
fn quickack(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
}

fn send(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "response too long"))?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{Card, Config};
    use crate::identity::Identity;
    use crate::oath::Touch;
    use std::net::TcpListener;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut f = (payload.len() as u16).to_be_bytes().to_vec();
        f.extend_from_slice(payload);
        f
    }

    fn read_frame(stream: &mut TcpStream) -> Vec<u8> {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).unwrap();
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut payload).unwrap();
        payload
    }

    /// Plays vpcd's side: framing, ATR, power control, APDUs, removal and reconnection.
    #[test]
    fn speaks_vpcd_protocol_over_tcp() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let card = Card::new(Config {
            identity: Identity {
                serial: 4242,
                version: [5, 4, 3],
                profile: crate::profile::Profile::YubiKey5,
            },
            capacity: 32,
            max_response: 256,
            touch: Touch {
                approve: true,
                delay_ms: 0,
            },
            verbose: false,
        });
        let device = Device::new(card, None);
        let runner = Arc::clone(&device);
        thread::spawn(move || run(runner, addr, false));

        let (mut vpcd, _) = listener.accept().unwrap();
        vpcd.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        vpcd.write_all(&frame(&[CTRL_GET_ATR])).unwrap();
        assert_eq!(read_frame(&mut vpcd), ATR);
        vpcd.write_all(&frame(&[CTRL_POWER_ON])).unwrap();

        // SELECT PIV, then GET SERIAL: two APDUs in one write, answered in order.
        let mut both = frame(&[0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08]);
        both.extend(frame(&[0x00, 0xF8, 0x00, 0x00, 0x00]));
        vpcd.write_all(&both).unwrap();
        assert!(read_frame(&mut vpcd).ends_with(&[0x90, 0x00]));
        assert_eq!(read_frame(&mut vpcd), vec![0, 0, 0x10, 0x92, 0x90, 0x00]);

        // Power off forgets the selection: GET SERIAL now has no applet to go to.
        vpcd.write_all(&frame(&[CTRL_POWER_OFF])).unwrap();
        vpcd.write_all(&frame(&[CTRL_POWER_ON])).unwrap();
        vpcd.write_all(&frame(&[0x00, 0xF8, 0x00, 0x00, 0x00]))
            .unwrap();
        assert_eq!(read_frame(&mut vpcd), vec![0x6D, 0x00]);

        // Pulled: the connection drops; inserted: the card connects again.
        device.remove();
        let mut byte = [0u8; 1];
        assert_eq!(vpcd.read(&mut byte).unwrap_or(0), 0);
        device.insert();
        let (mut again, _) = listener.accept().unwrap();
        again
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        again.write_all(&frame(&[CTRL_GET_ATR])).unwrap();
        assert_eq!(read_frame(&mut again), ATR);
        assert!(again.peer_addr().is_ok());
        device.remove();
    }

    #[test]
    fn atr_check_byte_is_consistent() {
        // TCK: XOR of every byte after TS, itself included, is zero.
        assert_eq!(ATR[1..].iter().fold(0u8, |a, b| a ^ b), 0);
        assert_eq!(&ATR[ATR.len() - 8..ATR.len() - 1], b"YubiKey");
    }
}
