//! Mail ports: [`MailSender`] sends one rendered message (SMTP, Graph sendMail, Gmail send);
//! [`MailboxSource`] reads message headers incrementally for mailbox mining.

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::Retry;
use super::provider::{PageToken, SyncCursor};
use crate::email::EmailAddress;

/// An address with an optional display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Display name, if any.
    pub name: Option<String>,
    /// The address.
    pub address: EmailAddress,
}

/// A fully rendered message for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// Our id for it, used as the idempotency key (and in the `Message-ID` where the sender sets one).
    pub idempotency_key: String,
    /// Sender.
    pub from: Mailbox,
    /// The one recipient.
    pub to: Mailbox,
    /// Reply-To, if different from the sender.
    pub reply_to: Option<Mailbox>,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub text_body: String,
    /// HTML body, if any.
    pub html_body: Option<String>,
    /// One-click unsubscribe URL (RFC 8058), sent as `List-Unsubscribe` + `List-Unsubscribe-Post`.
    pub unsubscribe_url: Option<String>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

/// A sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The provider's id (SMTP queue id / Message-ID, Graph or Gmail message id).
    pub provider_message_id: String,
}

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying (4xx SMTP reply, network failure, 5xx API).
    #[error("temporary send failure: {0}")]
    Transient(String),
    /// Throttled; wait before sending more.
    #[error("sending is rate limited")]
    RateLimited {
        /// How long to wait, if the provider said.
        retry_after: Option<Duration>,
    },
    /// Will never succeed for this message (5xx SMTP reply such as unknown recipient, invalid address).
    #[error("permanent send failure: {0}")]
    Permanent(String),
    /// The account must be re-authorised or its credentials fixed.
    #[error("the sending account must be re-authorised: {0}")]
    NeedsReauth(String),
}

impl SendError {
    /// Whether and when to retry.
    #[must_use]
    pub fn retry(&self) -> Retry {
        match self {
            Self::Transient(_) => Retry::After(None),
            Self::RateLimited { retry_after } => Retry::After(*retry_after),
            Self::Permanent(_) | Self::NeedsReauth(_) => Retry::Never,
        }
    }
}

/// Sends messages.
#[async_trait]
pub trait MailSender: Send + Sync + 'static {
    /// Sends one message.
    ///
    /// # Errors
    /// [`SendError`], which says whether a retry can help.
    async fn send(&self, message: &OutgoingMessage) -> Result<SentMessage, SendError>;
}

/// The headers of one mailbox message, the unit of mailbox mining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHeaders {
    /// Provider message id.
    pub id: String,
    /// Provider thread / conversation id.
    pub thread_id: Option<String>,
    /// `Message-ID` header.
    pub message_id: Option<String>,
    /// `In-Reply-To` header.
    pub in_reply_to: Option<String>,
    /// From.
    pub from: Option<Mailbox>,
    /// To.
    pub to: Vec<Mailbox>,
    /// Cc.
    pub cc: Vec<Mailbox>,
    /// Subject.
    pub subject: Option<String>,
    /// Date sent.
    pub date: Option<OffsetDateTime>,
    /// True when the mailbox owner sent it.
    pub sent_by_owner: bool,
    /// Bulk-mail markers present (`List-Unsubscribe`, `Precedence: bulk`, ...).
    pub bulk: bool,
}

/// One page of mailbox headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxPage {
    /// Messages added since the cursor.
    pub messages: Vec<MessageHeaders>,
    /// The next page, if any.
    pub next_page: Option<PageToken>,
    /// On the last page: the cursor for the next incremental read.
    pub next_cursor: Option<SyncCursor>,
    /// True when the cursor had expired and this is a fresh initial sync.
    pub reset: bool,
}

/// Reads message headers from a mailbox (Gmail history, Graph mail delta).
#[async_trait]
pub trait MailboxSource: Send + Sync + 'static {
    /// Fetches one page: from the start (`None`), since a cursor, or the next page.
    ///
    /// # Errors
    /// [`super::ProviderError`], as for [`super::ContactSource::fetch`].
    async fn fetch_headers(
        &self,
        cursor: Option<&SyncCursor>,
        page: Option<&PageToken>,
    ) -> Result<MailboxPage, super::ProviderError>;
}
