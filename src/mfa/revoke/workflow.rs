//! A revocation from the request to the outcome, in its one order: survey (IAM, then the
//! tokens), the user's lock and the settling of what dead runs left, a fresh read if that changed
//! anything, the plan, its confirmation, then the work. The caller says what a person sees and
//! answers through [`Hooks`]; every way this stops is a [`Stopped`].

use zeroize::Zeroizing;

use crate::iam::{Directory, RootSessionError, Sdk};
use crate::mfa::pairing::{DeviceArn, TokenRef};
use crate::mfa::settle;
use crate::mfa::{Cancel, Line, Note};
use crate::token::{PcscCard, Present, Token};
use crate::transport::TransportError;

use super::{
    revoke, root_plan, Cause, CredentialPlan, Failure, Plan, PreflightError, Progress, Refusal,
    Revoked, RootAccess, Tokens, UserRequest, UserSurvey,
};

/// What the caller of [`revoke_user`] and [`revoke_root`] provides: the words of each step (as
/// [`Progress`]), the other things to say, the OATH password, and the yes on the plan.
pub trait Hooks: Progress {
    /// The caller's error: when a hook fails, the revocation stops there.
    type Error;
    /// Something to say on the way.
    fn note(&self, note: Note<'_>);
    /// The OATH password of a locked token that may hold the credential, or `None`.
    fn password(&self, token: &Token) -> Result<Option<Zeroizing<String>>, Self::Error>;
    /// The plan (a root session's opened `from` that account): whether to carry it out.
    /// `false` ends the run with nothing changed (a dry run).
    fn confirm(&self, plan: &Plan, from: Option<&str>) -> Result<bool, Self::Error>;
    /// Called just before the first change.
    fn changing(&mut self) -> Result<(), Self::Error>;
}

/// Why a revocation ended before its outcome.
#[derive(Debug)]
pub enum Stopped<E> {
    /// Before anything changed: IAM failed, preflight refused, or the tokens failed.
    Preflight(PreflightError<E>),
    /// The journal, or a token a record names, while settling what dead runs left.
    Settle(settle::Error),
    /// The root session could not be opened.
    RootSession(RootSessionError),
    /// The PC/SC service failed.
    Transport(TransportError),
    /// The token the plan deletes the credential from was removed before the work began.
    Gone(TokenRef),
    /// A hook failed.
    Hook(E),
    /// The work stopped part-way: what was done and what remains, for this plan.
    Revoke(Box<Failure>, Box<Plan>),
}

impl<E> From<Cause> for Stopped<E> {
    fn from(c: Cause) -> Self {
        Stopped::Preflight(c.into())
    }
}

impl<E> From<Refusal> for Stopped<E> {
    fn from(r: Refusal) -> Self {
        Stopped::Preflight(r.into())
    }
}

impl<E> From<PreflightError<E>> for Stopped<E> {
    fn from(e: PreflightError<E>) -> Self {
        Stopped::Preflight(e)
    }
}

impl<E> From<TransportError> for Stopped<E> {
    fn from(e: TransportError) -> Self {
        Stopped::Transport(e)
    }
}

/// Revokes an IAM user's device. A `dry_run` only reports what dead runs left (changing
/// nothing, taking no lock); its [`Hooks::confirm`] says no. `cancel` stops the work between
/// steps. `None`: not confirmed.
pub async fn revoke_user<D: Directory, H: Hooks>(
    dir: &D,
    req: &UserRequest,
    dry_run: bool,
    cancel: &Cancel,
    hooks: &mut H,
) -> Result<Option<Revoked>, Stopped<H::Error>> {
    let mut survey = UserSurvey::read(dir, req).await?;
    if survey.view.tags_denied {
        hooks.note(Note::TagsDenied);
    }
    hooks.note(Note::Skipped(&survey.tokens.present.unusable));

    // The user's lock, held to the end; then what dead runs left for the user or these tokens
    // (only reported by a dry run, which changes nothing).
    let (account, present) = (&survey.view.account, &survey.tokens.present);
    let serials = settle::serials(&present.tokens);
    let _lock = if dry_run {
        let peeked = settle::peek(account, &req.user, &serials);
        say(hooks, peeked.lines(&req.user));
        None
    } else {
        let password = || present.password();
        let locked = settle::lock_and_settle(dir, account, &req.user, &present.tokens, password)
            .await
            .map_err(Stopped::Settle)?;
        say(hooks, locked.lines(&req.user));
        let (lock, changed) = locked.parts();
        if changed {
            survey.again(dir, req).await?;
            hooks.note(Note::Skipped(&survey.tokens.present.unusable));
        }
        lock
    };
    let ask = &mut |t: &Token| hooks.password(t);
    let plan = tokio::task::block_in_place(|| survey.plan(req, ask))?;
    if let Some(why) = &survey.tokens.unreachable {
        hooks.note(unreachable(why));
    }
    if !hooks.confirm(&plan, None).map_err(Stopped::Hook)? {
        return Ok(None);
    }
    let mut card = open_card(&plan, &survey.tokens.present)?;
    hooks.changing().map_err(Stopped::Hook)?;
    let done = revoke(dir, card.as_mut(), &plan, &*hooks, cancel).await;
    done.map(Some)
        .map_err(|f| Stopped::Revoke(f, Box::new(plan)))
}

/// What `revoke --root-of` is asked.
#[derive(Debug, Clone)]
pub struct RootRequest {
    /// The member account.
    pub account: String,
    /// `--device`: which of root's devices (by default, root's only one).
    pub device: Option<DeviceArn>,
    /// `--keep-credential`: leave the tokens alone.
    pub keep_credential: bool,
    /// `--allow-last`: root's last MFA device may go.
    pub allow_last: bool,
}

/// Revokes a member account's root MFA device through a root session opened from `dir`'s
/// (management) account; `cancel` stops it between steps. `None`: not confirmed.
pub async fn revoke_root<H: Hooks>(
    dir: &Sdk,
    req: &RootRequest,
    cancel: &Cancel,
    hooks: &mut H,
) -> Result<Option<Revoked>, Stopped<H::Error>> {
    let account = &req.account;
    let opening = || {
        hooks.note(Note::info(format!(
            "Opening a root session on account {account} (sts:AssumeRoot, task policy \
             IAMDeleteRootUserCredentials, 15 minutes)..."
        )))
    };
    let mut access = RootAccess::open(dir, account, opening)
        .await
        .map_err(Stopped::RootSession)?;
    let root = &access.session.directory;
    let mut plan = root_plan(root, account, req.device.as_ref()).await?;
    plan.check_last(req.allow_last)?;

    // The root credential on the tokens present, by name (root devices carry no tags).
    let keep = req.keep_credential;
    let mut tokens = Tokens::look(false, keep)?;
    hooks.note(Note::Skipped(&tokens.present.unusable));
    let ask = &mut |t: &Token| hooks.password(t);
    tokio::task::block_in_place(|| tokens.place_root_credential(&mut plan, keep, ask))?;
    if let Some(why) = &tokens.unreachable {
        hooks.note(unreachable(why));
    } else if plan.credential == CredentialPlan::NotLookedFor {
        hooks.note(Note::warn(format!(
            "the root user of account {account} has other MFA devices, and a root credential \
             carries no record of its device: the tokens are left alone (remove the revoked \
             device's credential with: ykman oath accounts delete NAME)"
        )));
    }
    let from = Some(access.caller.account.as_str());
    if !hooks.confirm(&plan, from).map_err(Stopped::Hook)? {
        return Ok(None);
    }
    // A person may take a while to answer: a session about to expire is opened anew.
    access.refresh(dir).await.map_err(Stopped::RootSession)?;
    let mut card = open_card(&plan, &tokens.present)?;
    hooks.changing().map_err(Stopped::Hook)?;
    let root = &access.session.directory;
    let done = revoke(root, card.as_mut(), &plan, &*hooks, cancel).await;
    done.map(Some)
        .map_err(|f| Stopped::Revoke(f, Box::new(plan)))
}

fn say<H: Hooks>(hooks: &H, lines: Vec<Line>) {
    lines.into_iter().for_each(|l| hooks.note(Note::Line(l)));
}

fn unreachable(why: &str) -> Note<'static> {
    Note::warn(format!(
        "ykmfa could not look at the tokens ({why}); the credential is left where it is"
    ))
}

/// The token the plan deletes a credential from, opened (with the password, if one was given).
fn open_card<E>(plan: &Plan, present: &Present) -> Result<Option<PcscCard>, Stopped<E>> {
    let CredentialPlan::Delete { token, .. } = &plan.credential else {
        return Ok(None);
    };
    let card = present.open(&token.reader)?;
    card.map(Some).ok_or_else(|| Stopped::Gone(token.clone()))
}
