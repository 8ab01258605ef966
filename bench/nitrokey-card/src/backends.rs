//! Trussed backend dispatch: the core backend plus `trussed-auth-backend`, which the Secrets App
//! needs for its PIN and for the key that encrypts credentials at rest.

use trussed::{
    backend::{Backend as _, BackendId},
    platform::Platform,
    serde_extensions::{ExtensionDispatch, ExtensionId, ExtensionImpl as _},
    service::ServiceResources,
    types::Context,
};
use trussed_auth::AuthExtension;
use trussed_auth_backend::{AuthBackend, AuthContext, FilesystemLayout};
use trussed_core::{
    api::{reply, request, Reply, Request},
    types::Location,
    Error,
};

/// Backends the Secrets App's client goes through, in order (the auth backend first, then core),
/// as Nitrokey's firmware configures it.
pub const SECRETS_BACKENDS: &[BackendId<Backend>] =
    &[BackendId::Custom(Backend::Auth), BackendId::Core];

/// Custom backends of this platform.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Auth,
}

/// Extensions served by the custom backends.
#[derive(Debug, Clone, Copy)]
pub enum Extension {
    Auth,
}

impl From<Extension> for u8 {
    fn from(extension: Extension) -> Self {
        match extension {
            Extension::Auth => 0,
        }
    }
}

impl TryFrom<u8> for Extension {
    type Error = Error;

    fn try_from(id: u8) -> Result<Self, Self::Error> {
        match id {
            0 => Ok(Self::Auth),
            _ => Err(Error::InternalError),
        }
    }
}

/// The dispatch handed to the Trussed service.
pub struct Dispatch {
    auth: AuthBackend,
}

/// Per-client state of the custom backends.
#[derive(Default)]
pub struct DispatchContext {
    auth: AuthContext,
}

impl Dispatch {
    /// PINs live in internal storage; no hardware key (a virtual token has no secure element).
    pub fn new() -> Self {
        Self {
            auth: AuthBackend::new(Location::Internal, FilesystemLayout::V0),
        }
    }
}

impl Default for Dispatch {
    fn default() -> Self {
        Self::new()
    }
}

impl ExtensionDispatch for Dispatch {
    type BackendId = Backend;
    type Context = DispatchContext;
    type ExtensionId = Extension;

    fn core_request<P: Platform>(
        &mut self,
        backend: &Self::BackendId,
        ctx: &mut Context<Self::Context>,
        request: &Request,
        resources: &mut ServiceResources<P>,
    ) -> Result<Reply, Error> {
        match backend {
            Backend::Auth => {
                self.auth
                    .request(&mut ctx.core, &mut ctx.backends.auth, request, resources)
            }
        }
    }

    fn extension_request<P: Platform>(
        &mut self,
        backend: &Self::BackendId,
        extension: &Self::ExtensionId,
        ctx: &mut Context<Self::Context>,
        request: &request::SerdeExtension,
        resources: &mut ServiceResources<P>,
    ) -> Result<reply::SerdeExtension, Error> {
        match (backend, extension) {
            (Backend::Auth, Extension::Auth) => self.auth.extension_request_serialized(
                &mut ctx.core,
                &mut ctx.backends.auth,
                request,
                resources,
            ),
        }
    }
}

impl ExtensionId<AuthExtension> for Dispatch {
    type Id = Extension;

    const ID: Self::Id = Extension::Auth;
}
