//! Nitrokey's Secrets App (crate `secrets-app`) running on a host-side Trussed platform and served
//! to vsmartcard's `vpcd` as a virtual smart card, so that YKOATH clients can be tried against a
//! card implementation written by someone else.
//!
//! Layout: the Trussed service runs on its own thread and is woken by each syscall; the Secrets
//! App and `apdu-dispatch` run on the calling thread, which also talks to vpcd through `vpicc`.

mod backends;
mod card;
mod platform;
mod tcp;

use std::{
    io,
    net::{SocketAddr, TcpStream, ToSocketAddrs as _},
    path::PathBuf,
    sync::mpsc,
    thread,
    time::Duration,
};

use littlefs2_core::{path, PathBuf as LfsPathBuf};
use trussed::{
    pipe::{ServiceEndpoint, TrussedChannel},
    service::Service,
    types::CoreContext,
    virt::{StorageConfig, StoreConfig},
    ClientImplementation,
};
use trussed_core::types::Location;

pub use card::{hex, SecretsCard, NITROKEY3_ATR};
pub use platform::Touch;

/// The vpcd port a virtual card connects to by default (vsmartcard's first reader slot).
pub const DEFAULT_PORT: u16 = 35963;
/// The Secrets App's credential limit on a Nitrokey 3 (its firmware's setting).
pub const DEFAULT_MAX_CREDENTIALS: u16 = 50;
/// Serial reported in the SELECT answer (tag 8F) unless `--serial` says otherwise.
pub const DEFAULT_SERIAL: u32 = 0x1234_5678;

/// How the card runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// vpcd host.
    pub host: String,
    /// vpcd port (the reader slot's port).
    pub port: u16,
    /// Serial number in the SELECT answer (tag 8F, 4 bytes big-endian).
    pub serial: u32,
    /// Where to keep littlefs images (`internal.bin`, `external.bin`); `None` keeps all in RAM.
    pub state_dir: Option<PathBuf>,
    /// What the touch button does.
    pub touch: Touch,
    /// Credential limit of the Secrets App.
    pub max_credentials: u16,
    /// ATR sent to vpcd.
    pub atr: Vec<u8>,
    /// Return after the first vpcd connection ends instead of reconnecting.
    pub once: bool,
    /// Log every APDU (secrets hidden) and connection event to stderr.
    pub verbose: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: DEFAULT_PORT,
            serial: DEFAULT_SERIAL,
            state_dir: None,
            touch: Touch::Approve,
            max_credentials: DEFAULT_MAX_CREDENTIALS,
            atr: NITROKEY3_ATR.to_vec(),
            once: false,
            verbose: false,
        }
    }
}

/// Wakes the service thread when the client has put a request in the channel.
pub struct Wake(mpsc::Sender<()>);

impl trussed::platform::Syscall for Wake {
    fn syscall(&mut self) {
        // The service thread only stops after every sender is gone, so this cannot fail while the
        // client lives.
        let _ = self.0.send(());
    }
}

/// The Trussed client the Secrets App gets.
pub type Client<'a> = ClientImplementation<'a, Wake, backends::Dispatch>;

/// Builds the platform and the Secrets App and hands the card to `f`. Everything lives for the
/// duration of `f`; credentials are kept in RAM (or in `state_dir`) between vpcd connections.
pub fn with_card<R>(
    config: &Config,
    f: impl FnOnce(&mut SecretsCard<'_, Client<'_>>) -> R,
) -> io::Result<R> {
    let mut store_config = match &config.state_dir {
        None => StoreConfig::ram(),
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            StoreConfig {
                internal: StorageConfig::filesystem(dir.join("internal.bin")),
                external: StorageConfig::filesystem(dir.join("external.bin")),
                volatile: StorageConfig::ram(),
            }
        }
    };
    let touch = config.touch;
    Ok(store_config.with_store(|store| {
        let platform = platform::HostPlatform::new(store, touch);
        let mut service = Service::with_dispatch(platform, backends::Dispatch::new());

        let trussed_channel = TrussedChannel::new();
        let (requester, responder) = trussed_channel
            .split()
            .expect("fresh Trussed channel splits");
        let endpoint = ServiceEndpoint::new(
            responder,
            CoreContext::new(LfsPathBuf::from(path!("secrets"))),
            backends::SECRETS_BACKENDS,
        );
        let (wake_tx, wake_rx) = mpsc::channel::<()>();
        let client: Client<'_> = ClientImplementation::new(requester, Wake(wake_tx), None);

        thread::scope(|scope| {
            scope.spawn(move || {
                let mut endpoints = [endpoint];
                // Ends when the client (the only sender) is dropped.
                while wake_rx.recv().is_ok() {
                    service.process(&mut endpoints);
                }
            });

            // Nitrokey 3 firmware keeps Secrets App data in external flash.
            let options = secrets_app::Options::new(
                Location::External,
                0,
                1,
                config.serial.to_be_bytes(),
                config.max_credentials,
            );
            let app = secrets_app::Authenticator::new(client, options);
            let contact = apdu_dispatch::interchanges::Channel::new();
            let contactless = apdu_dispatch::interchanges::Channel::new();
            let mut card = SecretsCard::new(
                app,
                &contact,
                &contactless,
                config.atr.clone(),
                config.verbose,
            );
            f(&mut card)
            // `card` (and so the client and its sender) drops here, which stops the service thread.
        })
    }))
}

/// Connects to vpcd, retrying every `retry` until it answers, with TCP_NODELAY set.
pub fn connect_vpcd(
    host: &str,
    port: u16,
    retry: Duration,
    verbose: bool,
) -> io::Result<TcpStream> {
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    let mut reported = false;
    loop {
        match TcpStream::connect(&addrs[..]) {
            Ok(stream) => {
                // Without it every response waits for the peer's delayed ACK (~40-50 ms per APDU).
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(err) => {
                if !reported || verbose {
                    eprintln!(
                        "nitrokey-card: vpcd at {host}:{port} not reachable ({err}); retrying"
                    );
                    reported = true;
                }
                thread::sleep(retry);
            }
        }
    }
}

/// Serves the card to vpcd: connects (retrying until vpcd is up), answers until the connection
/// ends, and reconnects — unless `config.once`, in which case it returns after one connection.
pub fn run(config: &Config) -> io::Result<()> {
    with_card(config, |card| -> io::Result<()> {
        loop {
            let stream = connect_vpcd(
                &config.host,
                config.port,
                Duration::from_millis(500),
                config.verbose,
            )?;
            eprintln!(
                "nitrokey-card: connected to vpcd at {}:{}",
                config.host, config.port
            );
            let result = serve_connection(stream, card);
            // This only returns on an error; end of stream is the normal way vpcd leaves.
            match result {
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {
                    eprintln!("nitrokey-card: vpcd closed the connection");
                }
                Err(err) => eprintln!("nitrokey-card: vpcd connection ended: {err}"),
                Ok(()) => {}
            }
            if config.once {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(200));
        }
    })?
}

/// Answers vpcd on one connection until it fails or closes.
///
/// vpcd writes each message as two segments (length, then payload) and leaves Nagle's algorithm
/// on, so the payload waits for our ACK of the length; with Linux's delayed ACK that costs ~40 ms
/// per message. Re-arming TCP_QUICKACK before every message makes the ACK immediate.
/// TCP_NODELAY (set in [`connect_vpcd`]) covers the other direction.
pub fn serve_connection<V: vpicc::VSmartCard>(stream: TcpStream, card: &mut V) -> io::Result<()> {
    let control = stream.try_clone()?;
    let mut connection = vpicc::Connection::from(stream);
    loop {
        tcp::quickack(&control)?;
        connection.poll(card)?;
    }
}
