//! A resync from the request to the outcome, in its one order: this machine's clock against
//! AWS's (when it is the cause, nothing else needs looking at), the user's devices, the tokens,
//! the user's lock and the settling of what dead runs left (a fresh read if that changed
//! anything), the device and its credential, a yes when the clock is far off, then the codes.
//! For `--root`, the pair of codes for the console. The caller says what a person sees and
//! answers through [`Hooks`]; every way this stops is a [`Stopped`].

use std::time::Duration;

use zeroize::Zeroizing;

use crate::iam::{Directory, Options, Skew, SkewLevel};
use crate::mfa::pairing::{DeviceArn, TokenRef};
use crate::mfa::{settle, Clock, Note};
use crate::oath;
use crate::token::{insert_prompt, Gathering, PcscCard, Present, PresentError, Serial, Token};
use crate::transport::TransportError;

use super::{
    choose_on, clock_line, clock_within, console_pair, read_user, resync, root_credential,
    ConsolePair, ResyncError, Resynced, RootRefusal,
};

/// What the caller of [`resync_user`] and [`console_codes`] provides.
pub trait Hooks: Sync {
    /// The caller's error: when a hook fails, the resync stops there, nothing changed.
    type Error;
    /// Something to say on the way.
    fn note(&self, note: Note<'_>);
    /// The OATH password of a locked token, or `None`.
    fn password(&self, token: &Token) -> Result<Option<Zeroizing<String>>, Self::Error>;
    /// This machine's clock is far off ([`SkewLevel::Large`]): a resync now would make AWS
    /// expect codes from that wrong time. `Ok`: resync anyway.
    fn clock_off(&self, skew: &Skew) -> Result<(), Self::Error>;
}

/// Which tokens to look at.
#[derive(Debug, Clone, Copy)]
pub struct Look {
    /// `--serial`: only this one.
    pub serial: Option<Serial>,
    /// How long to wait for one to be inserted when there is none.
    pub wait: Duration,
}

/// A user's device to resync, as asked.
#[derive(Debug, Clone)]
pub struct UserRequest {
    /// The IAM user.
    pub user: String,
    /// `--device`, when the user has several on the tokens present.
    pub device: Option<DeviceArn>,
    /// `--label`: the credential's name, with `device`.
    pub label: Option<String>,
    /// The tokens.
    pub look: Look,
}

/// A finished resync, with what the report needs.
#[derive(Debug)]
pub struct Done {
    /// What was resynchronized.
    pub resynced: Resynced,
    /// The user's account.
    pub account: String,
    /// This machine's clock against AWS's, when it was measured.
    pub skew: Option<Skew>,
}

impl Done {
    /// The `ykmfa.resync/1` document: the device resynchronized, its account and the clock.
    pub fn json(&self) -> serde_json::Value {
        let mut doc = serde_json::to_value(&self.resynced).unwrap_or_default();
        doc["schema"] = serde_json::json!("ykmfa.resync/1");
        doc["account"] = serde_json::json!(self.account);
        doc["clock"] = crate::iam::skew_json(self.skew);
        doc
    }
}

/// Why a resync (or `--root`) ended before its outcome.
#[derive(Debug)]
pub enum Stopped<E> {
    /// Refused, or IAM or the token failed.
    Resync(ResyncError),
    /// No single root credential (`--root`).
    Root(RootRefusal),
    /// The tokens could not be looked at or unlocked.
    Tokens(PresentError<E>),
    /// The journal, or a token a record names, while settling what dead runs left.
    Settle(settle::Error),
    /// The PC/SC service failed.
    Transport(TransportError),
    /// The token computing the codes for the console failed (`--root`).
    Card(oath::Error),
    /// The token that holds the credential was removed.
    Gone(TokenRef),
    /// A hook failed.
    Hook(E),
}

impl<E> From<ResyncError> for Stopped<E> {
    fn from(e: ResyncError) -> Self {
        Stopped::Resync(e)
    }
}

/// Resynchronizes an IAM user's device, by `clock`.
pub async fn resync_user<D: Directory, H: Hooks>(
    dir: &D,
    req: &UserRequest,
    clock: &dyn Clock,
    hooks: &H,
) -> Result<Done, Stopped<H::Error>> {
    let (user, device) = (req.user.as_str(), req.device.as_ref());
    // AWS's clock (STS) and the user's devices (IAM) together: their round trips overlap.
    let (server_clock, view) = tokio::join!(dir.server_clock(), read_user(dir, user, device));
    let skew = compare(server_clock, hooks);
    let mut view = view?;
    if view.tags_denied {
        hooks.note(Note::TagsDenied);
    }
    let mut present = gather(req.look, None, hooks)?;

    // The user's lock, held to the end; then what dead runs left for the user or these tokens.
    let (account, tokens) = (&view.account, &present.tokens);
    let password = || present.password();
    let locked = settle::lock_and_settle(dir, account, user, tokens, password)
        .await
        .map_err(Stopped::Settle)?;
    let lines = locked.lines(user);
    lines.into_iter().for_each(|l| hooks.note(Note::Line(l)));
    let (_lock, changed) = locked.parts();
    if changed {
        view = read_user(dir, user, device).await?;
        present = gather(req.look, Some(present), hooks)?;
    }

    let chosen = choose_on(&view, &present.tokens, device, req.label.as_deref())
        .map_err(ResyncError::from)?;
    let (credential, token) = (&chosen.location.credential, &chosen.location.token);
    hooks.note(Note::info(format!(
        "Resynchronizing {} with '{credential}' on {token}...",
        chosen.device
    )));
    if let Some(skew) = skew.as_ref().filter(|s| s.level() == SkewLevel::Large) {
        hooks.clock_off(skew).map_err(Stopped::Hook)?;
    }
    let mut card = open(&present, token)?;
    let said = |event: super::Event| hooks.note(Note::info(event.to_string()));
    let resynced = resync(dir, &mut card, user, &chosen, clock, &said).await?;
    Ok(Done {
        resynced,
        account: view.account,
        skew,
    })
}

/// Two consecutive codes of the root user's credential, for the console's resync dialog.
#[derive(Debug)]
pub struct ConsoleCodes {
    /// The codes.
    pub pair: ConsolePair,
    /// The credential's name.
    pub credential: String,
    /// Its token.
    pub token: TokenRef,
    /// This machine's clock against AWS's, when it was measured.
    pub skew: Option<Skew>,
}

/// `resync --root`: the root credential (named `label`, or the one named as root's) on the
/// tokens of `look`, and its codes by `clock`. AWS's clock is read through whatever credentials
/// `options` give, when they answer within a few seconds. Changes nothing.
pub async fn console_codes<H: Hooks>(
    options: Options,
    look: Look,
    label: Option<&str>,
    clock: &dyn Clock,
    hooks: &H,
) -> Result<ConsoleCodes, Stopped<H::Error>> {
    let present = gather(look, None, hooks)?;
    let (token, credential) = root_credential(&present.tokens, label).map_err(Stopped::Root)?;
    let limit = Duration::from_secs(8);
    let skew = compare(clock_within(options, limit).await, hooks);
    let token = TokenRef::from(token);
    let mut card = open(&present, &token)?;
    let touch = &mut || hooks.note(Note::info(super::Event::TouchNow.to_string()));
    let pair = console_pair(&mut card, &credential.raw_id, clock.now(), touch);
    Ok(ConsoleCodes {
        pair: pair.map_err(Stopped::Card)?,
        credential: credential.id.to_string(),
        token,
        skew,
    })
}

fn compare<H: Hooks>(
    reading: Result<crate::iam::ClockReading, crate::iam::IamError>,
    hooks: &H,
) -> Option<Skew> {
    let (line, skew) = clock_line(reading);
    hooks.note(Note::Line(line));
    skew
}

/// The tokens present (only `look.serial`'s), waiting for one to be inserted when there is
/// none; then the locked ones unlocked, with the password `kept` from an earlier look, or asked.
fn gather<H: Hooks>(
    look: Look,
    kept: Option<Present>,
    hooks: &H,
) -> Result<Present, Stopped<H::Error>> {
    let told = &mut |g: Gathering| match g {
        Gathering::Skipped(unusable) => hooks.note(Note::Skipped(unusable)),
        Gathering::Waiting(w) => hooks.note(Note::info(insert_prompt(w))),
    };
    let ask = &mut |t: &Token| hooks.password(t);
    let (serial, wait) = (look.serial, look.wait);
    tokio::task::block_in_place(|| Present::gather(serial, wait, kept, told, ask))
        .map_err(Stopped::Tokens)
}

/// The token that holds the credential, ready for CALCULATE.
fn open<E>(present: &Present, token: &TokenRef) -> Result<PcscCard, Stopped<E>> {
    let card = present.open(&token.reader).map_err(Stopped::Transport)?;
    card.ok_or_else(|| Stopped::Gone(token.clone()))
}
