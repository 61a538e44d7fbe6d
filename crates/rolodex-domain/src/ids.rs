//! Typed identifiers. Each is a UUID newtype so an `OrgId` can never be passed where a `ContactId`
//! is expected. New ids are UUID v7 (time-ordered, index friendly) and come from the
//! [`IdGenerator`](crate::ports::IdGenerator) port so tests stay deterministic.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An identifier string that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind} (expected a UUID)")]
pub struct IdParseError {
    /// Which id type was being parsed.
    pub kind: &'static str,
    /// The rejected input (truncated to 64 characters).
    pub value: String,
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID.
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            /// A fresh random (v7, time-ordered) id. Services take ids from
            /// [`IdGenerator`](crate::ports::IdGenerator) instead, so tests are deterministic.
            #[must_use]
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }
            /// The inner UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
            /// Parses the hyphenated (or simple) UUID form.
            ///
            /// # Errors
            /// [`IdParseError`] when `s` is not a UUID.
            pub fn parse(s: &str) -> Result<Self, IdParseError> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| IdParseError {
                    kind: $kind,
                    value: s.chars().take(64).collect(),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

id_type!(
    /// An organisation (tenant). Every stored row belongs to exactly one.
    OrgId,
    "organisation id"
);
id_type!(
    /// A user of an organisation.
    UserId,
    "user id"
);
id_type!(
    /// A contact held by Rolodex.
    ContactId,
    "contact id"
);
id_type!(
    /// A connection to a provider account (a Graph mailbox, a Google account, a GHL location, a file).
    ConnectionId,
    "connection id"
);
id_type!(
    /// A sync run (preview, then execute).
    SyncRunId,
    "sync run id"
);
id_type!(
    /// One item (one incoming contact) of a sync run.
    SyncItemId,
    "sync item id"
);
id_type!(
    /// A background job.
    JobId,
    "job id"
);
id_type!(
    /// An email campaign.
    CampaignId,
    "campaign id"
);
id_type!(
    /// One recipient's message of a campaign.
    CampaignMessageId,
    "campaign message id"
);
id_type!(
    /// An API key.
    ApiKeyId,
    "API key id"
);
id_type!(
    /// An audit log entry.
    AuditId,
    "audit entry id"
);
id_type!(
    /// A contact timeline activity.
    ActivityId,
    "activity id"
);
id_type!(
    /// A stored webhook delivery.
    WebhookReceiptId,
    "webhook receipt id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips_and_rejects_garbage() {
        let id = ContactId::new_v7();
        assert_eq!(ContactId::parse(&id.to_string()), Ok(id));
        let err = OrgId::parse("not-a-uuid").unwrap_err();
        assert_eq!(err.to_string(), "`not-a-uuid` is not a valid organisation id (expected a UUID)");
    }
}
