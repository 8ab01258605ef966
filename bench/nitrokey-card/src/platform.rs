//! The host-side Trussed platform: RNG, storage and "user interface" (the touch button).

use std::{
    fs::File,
    io::Read as _,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng as _;
use trussed::{platform, virt};
use trussed_core::types::consent::Level;

/// What the virtual touch button does when the Secrets App asks for user presence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touch {
    /// Presence is confirmed at once (a user who always touches).
    Approve,
    /// Presence is refused at once: the app sees the same time-out a real token reports after
    /// 15 s without a touch, but without the wait.
    Refuse,
    /// Nobody touches: the app waits its full time-out (15 s), as on hardware.
    Wait,
}

impl std::str::FromStr for Touch {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "approve" => Ok(Self::Approve),
            "refuse" => Ok(Self::Refuse),
            "wait" => Ok(Self::Wait),
            other => Err(format!(
                "unknown touch mode {other:?} (approve, refuse or wait)"
            )),
        }
    }
}

/// The touch button and clock of the virtual token.
pub struct HostUi {
    touch: Touch,
    start: Instant,
    /// Time skipped forward to make a refused touch time out at once.
    skipped: Duration,
}

impl HostUi {
    pub fn new(touch: Touch) -> Self {
        Self {
            touch,
            start: Instant::now(),
            skipped: Duration::ZERO,
        }
    }
}

impl platform::UserInterface for HostUi {
    fn check_user_presence(&mut self) -> Level {
        match self.touch {
            Touch::Approve => Level::Normal,
            Touch::Refuse => {
                // The service polls this in a loop until its time-out elapses on `uptime()`;
                // jumping the clock ends that loop on its next turn.
                self.skipped += Duration::from_secs(3600);
                Level::None
            }
            Touch::Wait => Level::None,
        }
    }

    fn refresh(&mut self) {
        if self.touch == Touch::Wait {
            // The presence loop spins on refresh(); keep it from burning a core.
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn uptime(&mut self) -> Duration {
        self.start.elapsed() + self.skipped
    }
}

/// A Trussed platform on the host: ChaCha8 seeded from the OS, littlefs in RAM or in files.
pub struct HostPlatform<'a> {
    rng: ChaCha8Rng,
    store: virt::Store<'a>,
    ui: HostUi,
}

impl<'a> HostPlatform<'a> {
    pub fn new(store: virt::Store<'a>, touch: Touch) -> Self {
        Self {
            rng: ChaCha8Rng::from_seed(os_seed()),
            store,
            ui: HostUi::new(touch),
        }
    }
}

impl<'a> platform::Platform for HostPlatform<'a> {
    type R = ChaCha8Rng;
    type S = virt::Store<'a>;
    type UI = HostUi;

    fn rng(&mut self) -> &mut Self::R {
        &mut self.rng
    }

    fn store(&self) -> Self::S {
        self.store
    }

    fn user_interface(&mut self) -> &mut Self::UI {
        &mut self.ui
    }
}

/// 32 bytes from the OS; if /dev/urandom is unreadable, a weak seed from the clock and pid
/// (this is a test token, never a place for real secrets).
fn os_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    let ok = File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .is_ok();
    if !ok {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        seed[..16].copy_from_slice(&nanos.to_le_bytes());
        seed[16..20].copy_from_slice(&std::process::id().to_le_bytes());
    }
    seed
}
