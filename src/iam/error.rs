//! What can go wrong talking to IAM, in IAM's words, and how SDK errors become these words.
//!
//! Errors carry text, never the SDK error itself: a response error can hold the raw HTTP
//! response, and the raw response of CreateVirtualMFADevice holds the seed.

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::error as modeled;

/// The IAM User Guide page with the policy that lets IAM users manage their own MFA devices
/// through the API and the CLI ("IAM: Allows IAM users to self-manage an MFA device").
pub const MFA_POLICY_DOCS_URL: &str =
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_iam_mfa-selfmanage.html";

/// A failed IAM or STS call. `action` is the IAM action, e.g. `iam:EnableMFADevice`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    /// The user, device or policy does not exist (or, right after its creation, IAM does not
    /// see it yet: that case is retried before it gets here).
    #[error("{action}: no such entity: {message}")]
    NoSuchEntity {
        /// The IAM action.
        action: &'static str,
        /// IAM's message.
        message: String,
    },
    /// A device of that name exists already, or the device is already assigned.
    #[error("{action}: already exists: {message}")]
    EntityAlreadyExists {
        /// The IAM action.
        action: &'static str,
        /// IAM's message.
        message: String,
    },
    /// An account or user limit, e.g. 8 MFA devices per user.
    #[error("{action}: limit exceeded: {message}")]
    LimitExceeded {
        /// The IAM action.
        action: &'static str,
        /// IAM's message.
        message: String,
    },
    /// IAM rejected the two codes (wrong, reused, or not from consecutive current steps).
    #[error("{action}: the authentication codes were not accepted: {message}")]
    InvalidAuthenticationCode {
        /// The IAM action.
        action: &'static str,
        /// IAM's message.
        message: String,
    },
    /// The device is still assigned (deactivate it first), or the user still has devices.
    #[error("{action}: still in use: {message}")]
    DeleteConflict {
        /// The IAM action.
        action: &'static str,
        /// IAM's message.
        message: String,
    },
    /// IAM is changing the entity (e.g. creating a login profile); retried before it gets here.
    #[error("{action}: temporarily unmodifiable: {message}")]
    EntityTemporarilyUnmodifiable {
        /// The IAM action.
        action: &'static str,
        /// IAM's message.
        message: String,
    },
    /// Another request changed the same entity at the same time; retried before it gets here.
    #[error("{action}: concurrent modification: {message}")]
    ConcurrentModification {
        /// The IAM action.
        action: &'static str,
        /// IAM's message.
        message: String,
    },
    /// The caller's policies do not allow the action.
    #[error("{action} was denied: {message}")]
    AccessDenied {
        /// The IAM action that was denied.
        action: &'static str,
        /// IAM's message (it names the principal and the resource).
        message: String,
    },
    /// CreateVirtualMFADevice with tags was denied for lack of `iam:TagMFADevice`. Nothing was
    /// created: the caller may create the device without tags.
    #[error(
        "iam:TagMFADevice was denied, so the device could not be created with tags: {message}"
    )]
    TaggingDenied {
        /// IAM's message.
        message: String,
    },
    /// Still throttled after the SDK's retries.
    #[error("{action}: AWS throttled the request, still after retries; try again in a minute")]
    Throttling {
        /// The IAM action.
        action: &'static str,
    },
    /// A parameter IAM refused (name pattern, path, tag, code format).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A plain `http://` endpoint on another machine, refused before anything is sent: the seed
    /// and the codes would cross the network unencrypted.
    #[error(
        "{origin} {url:?} is refused: plain http:// would carry the MFA seed and codes across \
         the network unencrypted"
    )]
    InsecureEndpoint {
        /// The URL as given.
        url: String,
        /// Where it came from, e.g. `endpoint URL` or `the IAM endpoint URL (…)`.
        origin: String,
    },
    /// IAM failed internally.
    #[error("{action}: AWS service failure: {message}")]
    ServiceFailure {
        /// The IAM action.
        action: &'static str,
        /// IAM's message.
        message: String,
    },
    /// No usable credentials: none in the chain, an expired SSO or session token, an unknown key.
    #[error("no usable AWS credentials: {0}")]
    NoCredentials(String),
    /// The endpoint could not be reached (DNS, refused connection, TLS, reset).
    #[error("network error: {0}")]
    Network(String),
    /// No answer in time. For a write, the request may still have taken effect.
    #[error(
        "{action}: no answer from AWS in time{}",
        may_have_taken_effect(action)
    )]
    Timeout {
        /// The IAM action.
        action: &'static str,
    },
    /// A success answer that could not be used (cut short, empty, a missing or invalid field).
    /// After CreateVirtualMFADevice the adapter has already deleted the unusable device, or
    /// the message says what remains.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// Any other error code.
    #[error("{action}: {code}: {message}")]
    Other {
        /// The IAM action.
        action: &'static str,
        /// The AWS error code, or `HTTP <status>` when there was none.
        code: String,
        /// The message.
        message: String,
    },
}

impl IamError {
    /// The IAM action the error is about, when known.
    pub fn action(&self) -> Option<&'static str> {
        match self {
            IamError::NoSuchEntity { action, .. }
            | IamError::EntityAlreadyExists { action, .. }
            | IamError::LimitExceeded { action, .. }
            | IamError::InvalidAuthenticationCode { action, .. }
            | IamError::DeleteConflict { action, .. }
            | IamError::EntityTemporarilyUnmodifiable { action, .. }
            | IamError::ConcurrentModification { action, .. }
            | IamError::AccessDenied { action, .. }
            | IamError::Throttling { action }
            | IamError::ServiceFailure { action, .. }
            | IamError::Timeout { action }
            | IamError::Other { action, .. } => Some(action),
            IamError::TaggingDenied { .. } => Some(TAG_MFA_DEVICE),
            IamError::InvalidInput(_)
            | IamError::InsecureEndpoint { .. }
            | IamError::NoCredentials(_)
            | IamError::Network(_)
            | IamError::Malformed(_) => None,
        }
    }

    /// For a denied action: the IAM User Guide page on the permissions MFA self-management
    /// needs.
    pub fn policy_docs_url(&self) -> Option<&'static str> {
        match self {
            // An organization-wide audit's own calls: the pages on Organizations' and root
            // sessions' permissions.
            IamError::AccessDenied { action, .. } if action.starts_with("organizations:") => {
                Some(ORGANIZATIONS_POLICY_DOCS_URL)
            }
            IamError::AccessDenied { .. } | IamError::TaggingDenied { .. } => {
                Some(MFA_POLICY_DOCS_URL)
            }
            _ => None,
        }
    }

    /// Whether the request may have taken effect although no usable answer says so: no answer
    /// in time, a service failure (the answer of a completed request can be lost), a broken
    /// connection.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            IamError::Timeout { .. } | IamError::ServiceFailure { .. } | IamError::Network(_)
        )
    }
}

const TAG_MFA_DEVICE: &str = "iam:TagMFADevice";

/// AWS's page on who may call AWS Organizations' read actions (ListAccounts: the management
/// account, or a delegated administrator).
pub const ORGANIZATIONS_POLICY_DOCS_URL: &str =
    "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_permissions_overview.html";

/// Maps an SDK error of `action` to an [`IamError`].
///
/// Order: credential-provider failures anywhere in the chain; then a service error by its modeled
/// exception type, else by its error code (moto and AWS answer the same codes); then timeouts,
/// dispatch failures, unreadable responses.
pub(crate) fn from_sdk<E>(action: &'static str, err: SdkError<E, HttpResponse>) -> IamError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    if let Some(credentials) = credentials_error(&err) {
        return IamError::NoCredentials(describe_credentials_error(credentials));
    }
    match &err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let status = service.raw().status().as_u16();
            let (code, message) = match modeled_code(inner) {
                Some((code, message)) => (Some(code.to_string()), message),
                None => (
                    inner.code().map(str::to_string),
                    inner.message().map(str::to_string),
                ),
            };
            let message = message.unwrap_or_default();
            match code {
                Some(code) => from_code(action, &code, message),
                // A 2xx answer that the SDK could not parse lands here without a code.
                None if (200..300).contains(&status) => {
                    IamError::Malformed(format!("{action}: the answer could not be parsed"))
                }
                None => IamError::Other {
                    action,
                    code: format!("HTTP {status}"),
                    message,
                },
            }
        }
        SdkError::TimeoutError(_) => IamError::Timeout { action },
        SdkError::DispatchFailure(failure) => {
            if failure.is_timeout() {
                IamError::Timeout { action }
            } else if mentions_missing_identity(&err) {
                IamError::NoCredentials(
                    "no credentials provider is configured for this client".into(),
                )
            } else {
                IamError::Network(format!("{action}: {}", DisplayErrorContext(&err)))
            }
        }
        // The response itself is not shown: for CreateVirtualMFADevice it would hold the seed.
        // Malformed means "a success answer we could not use": for CreateVirtualMFADevice the
        // device then exists, and the caller cleans it up. An error answer that could not be
        // read is not that.
        SdkError::ResponseError(response) => {
            let status = response.raw().status().as_u16();
            if (200..300).contains(&status) {
                IamError::Malformed(format!("{action}: the answer could not be read"))
            } else {
                IamError::Other {
                    action,
                    code: format!("HTTP {status}"),
                    message: "the error answer could not be read".into(),
                }
            }
        }
        SdkError::ConstructionFailure(_) => {
            IamError::InvalidInput(format!("{action}: {}", DisplayErrorContext(&err)))
        }
        _ => IamError::Other {
            action,
            code: "Unknown".into(),
            message: DisplayErrorContext(&err).to_string(),
        },
    }
}

/// Maps an AWS error code (query-protocol `<Code>`) to an [`IamError`].
pub(crate) fn from_code(action: &'static str, code: &str, message: String) -> IamError {
    match code {
        "NoSuchEntity" | "NoSuchEntityException" => IamError::NoSuchEntity { action, message },
        "EntityAlreadyExists" | "EntityAlreadyExistsException" => {
            IamError::EntityAlreadyExists { action, message }
        }
        "LimitExceeded" | "LimitExceededException" => IamError::LimitExceeded { action, message },
        "InvalidAuthenticationCode" | "InvalidAuthenticationCodeException" => {
            IamError::InvalidAuthenticationCode { action, message }
        }
        "DeleteConflict" | "DeleteConflictException" => {
            IamError::DeleteConflict { action, message }
        }
        "EntityTemporarilyUnmodifiable" | "EntityTemporarilyUnmodifiableException" => {
            IamError::EntityTemporarilyUnmodifiable { action, message }
        }
        "ConcurrentModification" | "ConcurrentModificationException" => {
            IamError::ConcurrentModification { action, message }
        }
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            IamError::AccessDenied { action, message }
        }
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException"
        | "RequestThrottled" | "RequestThrottledException" => IamError::Throttling { action },
        "InvalidInput" | "InvalidInputException" | "ValidationError" | "MalformedInput"
        | "InvalidParameterValue" | "MissingParameter" => {
            IamError::InvalidInput(format!("{action}: {message}"))
        }
        "ServiceFailure" | "ServiceFailureException" | "InternalFailure" | "InternalError"
        | "ServiceUnavailable" => IamError::ServiceFailure { action, message },
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => IamError::NoCredentials(
            format!("the session token has expired ({action}: {message}); sign in again, e.g. `aws sso login`"),
        ),
        "InvalidClientTokenId" | "UnrecognizedClientException" => IamError::NoCredentials(format!(
            "AWS does not know the access key in use ({action}: {message})"
        )),
        "SignatureDoesNotMatch" | "IncompleteSignature" => IamError::NoCredentials(format!(
            "the secret access key does not match the access key id ({action}: {message})"
        )),
        _ => IamError::Other {
            action,
            code: code.to_string(),
            message,
        },
    }
}

/// Whether an AccessDenied on CreateVirtualMFADevice with tags is about tagging.
pub(crate) fn is_tagging_denial(err: &IamError) -> bool {
    matches!(err, IamError::AccessDenied { message, .. } if message.contains(TAG_MFA_DEVICE))
}

/// The code and message of a modeled IAM exception, found through the operation error's
/// `source()` (each operation error enum wraps the exception type of the variant).
fn modeled_code(err: &(dyn StdError + 'static)) -> Option<(&'static str, Option<String>)> {
    let inner = err.source()?;
    macro_rules! try_types {
        ($($ty:ident => $code:literal),* $(,)?) => {
            $(
                if let Some(e) = inner.downcast_ref::<modeled::$ty>() {
                    return Some(($code, e.message().map(str::to_string)));
                }
            )*
        };
    }
    try_types!(
        NoSuchEntityException => "NoSuchEntity",
        EntityAlreadyExistsException => "EntityAlreadyExists",
        LimitExceededException => "LimitExceeded",
        InvalidAuthenticationCodeException => "InvalidAuthenticationCode",
        DeleteConflictException => "DeleteConflict",
        EntityTemporarilyUnmodifiableException => "EntityTemporarilyUnmodifiable",
        ConcurrentModificationException => "ConcurrentModification",
        InvalidInputException => "InvalidInput",
        ServiceFailureException => "ServiceFailure",
    );
    None
}

fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |e: &&'a (dyn StdError + 'static)| (*e).source())
}

fn credentials_error<E>(err: &SdkError<E, HttpResponse>) -> Option<&CredentialsError>
where
    E: StdError + 'static,
{
    chain(err).find_map(|e| e.downcast_ref::<CredentialsError>())
}

fn mentions_missing_identity<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: StdError + 'static,
{
    chain(err).any(|e| e.to_string().contains("no identity resolver"))
}

fn describe_credentials_error(err: &CredentialsError) -> String {
    let detail = DisplayErrorContext(err).to_string();
    match err {
        CredentialsError::CredentialsNotLoaded(_) => format!(
            "none found in the environment, the shared config and credentials files, SSO, web identity, \
             ECS or instance metadata ({detail})"
        ),
        CredentialsError::ProviderTimedOut(_) => {
            format!("the credentials provider did not answer in time ({detail})")
        }
        CredentialsError::InvalidConfiguration(_) => {
            format!("the AWS profile configuration is invalid ({detail})")
        }
        _ if detail.to_ascii_lowercase().contains("sso") => {
            format!("the SSO session could not provide credentials; run `aws sso login` ({detail})")
        }
        _ => format!("the credentials provider failed ({detail})"),
    }
}

/// For a write that timed out, the caution that it may have happened anyway; nothing for a read.
fn may_have_taken_effect(action: &str) -> &'static str {
    let name = action.rsplit(':').next().unwrap_or(action);
    let reads = ["Get", "List", "Simulate"];
    if reads.iter().any(|r| name.starts_with(r)) {
        ""
    } else {
        " (the request may still have taken effect)"
    }
}

#[cfg(test)]
mod tests;
