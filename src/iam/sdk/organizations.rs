//! The organization's accounts, from AWS Organizations: ListAccounts (every page) and
//! DescribeOrganization (which account is the management account). Both are reads that only
//! the management account and the delegated administrator may make (DescribeOrganization: any
//! member). Organizations is a global service; its endpoint is resolved like IAM's, and
//! `--endpoint-url` (or `AWS_ENDPOINT_URL_ORGANIZATIONS`) points it elsewhere, vetted like IAM's.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use aws_config::SdkConfig;

use super::{check_service_endpoints, load_config, patience, region, Options};
use crate::iam::error::from_sdk;
use crate::iam::IamError;

const LIST_ACCOUNTS: &str = "organizations:ListAccounts";
const DESCRIBE_ORGANIZATION: &str = "organizations:DescribeOrganization";

/// One account of the organization, as ListAccounts tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    /// The 12-digit account id.
    pub id: String,
    /// The account's name.
    pub name: String,
    /// The root user's email address (password recovery goes there).
    pub email: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, … (`State`, else the older `Status`).
    pub status: String,
}

impl OrgAccount {
    /// Whether the account is active: the others can't be signed in to or audited.
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

/// An Organizations client, with its own call counter.
#[derive(Clone)]
pub struct Organizations {
    client: aws_sdk_organizations::Client,
    calls: Arc<[AtomicU32; 2]>,
}

impl Organizations {
    /// A client with the credentials, region, endpoint and patience `options` give.
    pub async fn connect(options: &Options) -> Result<Organizations, IamError> {
        Organizations::from_config(&load_config(options).await, options)
    }

    /// A client from an already loaded configuration, with `options`' region, endpoint and
    /// patience.
    pub fn from_config(config: &SdkConfig, options: &Options) -> Result<Organizations, IamError> {
        let explicit = options.endpoint_url.as_deref();
        check_service_endpoints(config, explicit, &["ORGANIZATIONS"])?;
        let (retry, timeouts) = patience(options);
        let region = region(options, config);
        let mut builder = aws_sdk_organizations::config::Builder::from(config)
            .region(region)
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(url) = explicit {
            builder = builder.endpoint_url(url);
        }
        Ok(Organizations {
            client: aws_sdk_organizations::Client::from_conf(builder.build()),
            calls: Arc::default(),
        })
    }

    /// Every account of the organization (all pages), in the order Organizations gives them.
    pub async fn accounts(&self) -> Result<Vec<OrgAccount>, IamError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            self.calls[0].fetch_add(1, Ordering::Relaxed);
            let page = self
                .client
                .list_accounts()
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| from_sdk(LIST_ACCOUNTS, e))?;
            for a in page.accounts() {
                let state = a.state().map(|s| s.as_str().to_owned());
                let status = a.status().map(|s| s.as_str().to_owned());
                out.push(OrgAccount {
                    id: a.id().unwrap_or_default().to_owned(),
                    name: a.name().unwrap_or_default().to_owned(),
                    email: a.email().unwrap_or_default().to_owned(),
                    status: state.or(status).unwrap_or_default(),
                });
            }
            match page.next_token() {
                Some(next) if Some(next) != token.as_deref() && !next.is_empty() => {
                    token = Some(next.to_owned())
                }
                _ => return Ok(out),
            }
        }
    }

    /// The management account's id (DescribeOrganization).
    pub async fn management_account(&self) -> Result<String, IamError> {
        self.calls[1].fetch_add(1, Ordering::Relaxed);
        let out = self
            .client
            .describe_organization()
            .send()
            .await
            .map_err(|e| from_sdk(DESCRIBE_ORGANIZATION, e))?;
        out.organization()
            .and_then(|o| o.master_account_id())
            .map(str::to_owned)
            .ok_or_else(|| {
                IamError::Malformed(format!(
                    "{DESCRIBE_ORGANIZATION} named no management account"
                ))
            })
    }

    /// Calls made so far, per action (those never made left out).
    pub fn calls(&self) -> Vec<(&'static str, u32)> {
        [LIST_ACCOUNTS, DESCRIBE_ORGANIZATION]
            .into_iter()
            .zip(self.calls.iter().map(|c| c.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}
