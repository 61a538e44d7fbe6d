//! The JSON shapes of the API (request and response bodies), with their OpenAPI schemas, and the
//! conversions from and to the domain's values. Contact bodies use the field names of
//! `rolodex match` and of the domain model: `given_name`, `family_name`, `display_name`,
//! `emails`, `phones`, `company`, `job_title`, `address`, `birthday`, `tags`, ...
//! Validation of a body collects every invalid field ([`FieldProblem`]) rather than stopping at
//! the first.

use std::collections::{BTreeMap, BTreeSet};

use rolodex_app::sync::{ExecuteReport, ItemView, PreviewReport, RunProgress};
use rolodex_domain::matching::{Action, Confidence};
use rolodex_domain::ports::storage::{
    Activity, AuditEntry, Connection, ItemOutcome, ProviderLink, ReviewState, SyncCounts, SyncRun,
};
use rolodex_domain::{
    Address, Birthday, Contact, ContactFields, ContactPhone, ContactStatus, EmailAddress, PhoneE164, PhoneKind, Region,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, FieldProblem};

/// RFC 3339, UTC.
#[must_use]
pub fn ts(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn ts_opt(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(ts)
}

/// A postal address; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    /// Street line.
    #[serde(default)]
    pub street: Option<String>,
    /// Second street line.
    #[serde(default)]
    pub street2: Option<String>,
    /// City or suburb.
    #[serde(default)]
    pub city: Option<String>,
    /// State or region.
    #[serde(default)]
    pub state: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postcode: Option<String>,
    /// Country.
    #[serde(default)]
    pub country: Option<String>,
}

/// A phone number: `"+61 412 345 678"`, or `{"number": "...", "kind": "mobile"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PhoneInput {
    /// Just the number (kind `other`).
    Number(String),
    /// The number with its kind.
    WithKind(PhoneBody),
}

/// A phone number with its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneBody {
    /// The number; E.164 (`+61412345678`) or national in the server's default region.
    pub number: String,
    /// `mobile`, `work`, `home` or `other` (default).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "mobile")]
    pub kind: Option<PhoneKind>,
}

/// A contact as written by a client (create, or replace on update).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// Given (first) name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// Family (last) name.
    #[serde(default)]
    pub family_name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Email addresses; the first is the primary one.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Phone numbers.
    #[serde(default)]
    pub phones: Vec<PhoneInput>,
    /// Company.
    #[serde(default)]
    pub company: Option<String>,
    /// Job title.
    #[serde(default)]
    pub job_title: Option<String>,
    /// Postal address.
    #[serde(default)]
    pub address: Option<AddressBody>,
    /// Birthday: `YYYY-MM-DD` or `--MM-DD`.
    #[serde(default)]
    pub birthday: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Sales pipeline.
    #[serde(default)]
    pub pipeline: Option<String>,
    /// Stage in the pipeline.
    #[serde(default)]
    pub stage: Option<String>,
    /// Do not disturb: never send marketing mail.
    #[serde(default)]
    pub do_not_disturb: bool,
    /// Where it came from (default `api`).
    #[serde(default)]
    pub source: Option<String>,
    /// Custom properties.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom: BTreeMap<String, serde_json::Value>,
}

fn clean(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl ContactInput {
    /// The domain fields; every invalid value is reported with its field path.
    ///
    /// # Errors
    /// [`ApiError`] 422 listing every invalid field.
    pub fn into_fields(self, region: Region) -> Result<ContactFields, ApiError> {
        let mut errors = Vec::new();
        let mut fields = ContactFields {
            given_name: clean(self.given_name),
            family_name: clean(self.family_name),
            display_name: clean(self.display_name),
            company: clean(self.company),
            job_title: clean(self.job_title),
            pipeline: clean(self.pipeline),
            stage: clean(self.stage),
            do_not_disturb: self.do_not_disturb,
            source: clean(self.source).or_else(|| Some("api".to_owned())),
            custom: self.custom,
            ..ContactFields::default()
        };
        for (i, e) in self.emails.iter().enumerate() {
            match EmailAddress::parse(e) {
                Ok(email) => {
                    fields.add_email(email);
                }
                Err(err) => errors.push(FieldProblem { field: format!("emails[{i}]"), message: err.to_string() }),
            }
        }
        for (i, p) in self.phones.into_iter().enumerate() {
            let (number, kind, field) = match p {
                PhoneInput::Number(n) => (n, PhoneKind::Other, format!("phones[{i}]")),
                PhoneInput::WithKind(b) => (b.number, b.kind.unwrap_or_default(), format!("phones[{i}].number")),
            };
            match PhoneE164::parse(&number, region) {
                Ok(number) => {
                    fields.add_phone(ContactPhone { number, kind });
                }
                Err(err) => errors.push(FieldProblem { field, message: err.to_string() }),
            }
        }
        if let Some(a) = self.address {
            fields.address = Address {
                street: clean(a.street),
                street2: clean(a.street2),
                city: clean(a.city),
                state: clean(a.state),
                postcode: clean(a.postcode),
                country: clean(a.country),
            };
        }
        if let Some(b) = clean(self.birthday) {
            match Birthday::parse(&b) {
                Ok(b) => fields.birthday = Some(b),
                Err(err) => errors.push(FieldProblem { field: "birthday".into(), message: err.to_string() }),
            }
        }
        fields.tags = self.tags.into_iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        if errors.is_empty() { Ok(fields) } else { Err(ApiError::invalid(errors)) }
    }
}

/// A stored contact.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ContactOut {
    /// Its id.
    pub id: Uuid,
    /// `active`, `inactive` or `deleted`.
    #[schema(value_type = String, example = "active")]
    pub status: ContactStatus,
    /// Version, for `If-Match` on update.
    pub version: i64,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// A name for people to read.
    pub label: String,
    /// Emails.
    pub emails: Vec<String>,
    /// Phones.
    pub phones: Vec<PhoneBody>,
    /// Company.
    pub company: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Address.
    pub address: AddressBody,
    /// Birthday.
    pub birthday: Option<String>,
    /// Tags.
    pub tags: BTreeSet<String>,
    /// Pipeline.
    pub pipeline: Option<String>,
    /// Stage.
    pub stage: Option<String>,
    /// Do not disturb.
    pub do_not_disturb: bool,
    /// Source.
    pub source: Option<String>,
    /// Custom properties.
    #[schema(value_type = Object)]
    pub custom: BTreeMap<String, serde_json::Value>,
}

/// The fields of a contact, as JSON (also used for incoming contacts of sync items).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldsOut {
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Emails.
    pub emails: Vec<String>,
    /// Phones.
    pub phones: Vec<PhoneBody>,
    /// Company.
    pub company: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Address.
    pub address: AddressBody,
    /// Birthday.
    pub birthday: Option<String>,
    /// Tags.
    pub tags: BTreeSet<String>,
    /// Do not disturb.
    pub do_not_disturb: bool,
    /// Source.
    pub source: Option<String>,
    /// Custom properties.
    #[schema(value_type = Object)]
    pub custom: BTreeMap<String, serde_json::Value>,
}

fn address_out(a: &Address) -> AddressBody {
    AddressBody {
        street: a.street.clone(),
        street2: a.street2.clone(),
        city: a.city.clone(),
        state: a.state.clone(),
        postcode: a.postcode.clone(),
        country: a.country.clone(),
    }
}

fn phones_out(f: &ContactFields) -> Vec<PhoneBody> {
    f.phones.iter().map(|p| PhoneBody { number: p.number.e164().to_owned(), kind: Some(p.kind) }).collect()
}

impl From<&ContactFields> for FieldsOut {
    fn from(f: &ContactFields) -> Self {
        Self {
            given_name: f.given_name.clone(),
            family_name: f.family_name.clone(),
            display_name: f.display_name.clone(),
            emails: f.emails.iter().map(ToString::to_string).collect(),
            phones: phones_out(f),
            company: f.company.clone(),
            job_title: f.job_title.clone(),
            address: address_out(&f.address),
            birthday: f.birthday.map(|b| b.to_string()),
            tags: f.tags.clone(),
            do_not_disturb: f.do_not_disturb,
            source: f.source.clone(),
            custom: f.custom.clone(),
        }
    }
}

impl From<&Contact> for ContactOut {
    fn from(c: &Contact) -> Self {
        let f = &c.fields;
        Self {
            id: c.id.as_uuid(),
            status: c.status,
            version: c.version,
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
            given_name: f.given_name.clone(),
            family_name: f.family_name.clone(),
            display_name: f.display_name.clone(),
            label: f.label(),
            emails: f.emails.iter().map(ToString::to_string).collect(),
            phones: phones_out(f),
            company: f.company.clone(),
            job_title: f.job_title.clone(),
            address: address_out(&f.address),
            birthday: f.birthday.map(|b| b.to_string()),
            tags: f.tags.clone(),
            pipeline: f.pipeline.clone(),
            stage: f.stage.clone(),
            do_not_disturb: f.do_not_disturb,
            source: f.source.clone(),
            custom: f.custom.clone(),
        }
    }
}

/// A page of contacts.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ContactPage {
    /// The contacts, by id.
    pub items: Vec<ContactOut>,
    /// Pass as `after` for the next page; absent at the end.
    pub next_after: Option<Uuid>,
}

/// A timeline activity.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ActivityOut {
    /// Its id.
    pub id: Uuid,
    /// `email_sent`, `synced`, `note`, ...
    pub kind: String,
    /// One line for people.
    pub summary: String,
    /// Details.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// The campaign, for campaign mail.
    pub campaign_id: Option<Uuid>,
    /// When (RFC 3339).
    pub occurred_at: String,
}

impl From<&Activity> for ActivityOut {
    fn from(a: &Activity) -> Self {
        Self {
            id: a.id.as_uuid(),
            kind: a.kind.clone(),
            summary: a.summary.clone(),
            data: a.data.clone(),
            campaign_id: a.campaign_id.map(|c| c.as_uuid()),
            occurred_at: ts(a.occurred_at),
        }
    }
}

/// An audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditOut {
    /// Its id.
    pub id: Uuid,
    /// Who (`api_key:<id>`, `user:<id>`, `system:<name>`).
    pub actor: String,
    /// `contact`, `connection`, `sync_item`, ...
    pub entity_type: String,
    /// The entity's id.
    pub entity_id: String,
    /// `create`, `update`, `delete`, `merge`, ...
    pub action: String,
    /// Before (JSON).
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// After (JSON).
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// The sync run that caused it.
    pub run_id: Option<Uuid>,
    /// When (RFC 3339).
    pub at: String,
}

impl From<&AuditEntry> for AuditOut {
    fn from(a: &AuditEntry) -> Self {
        let e = &a.entry;
        Self {
            id: e.id.as_uuid(),
            actor: e.actor.to_string(),
            entity_type: e.entity_type.clone(),
            entity_id: e.entity_id.clone(),
            action: e.action.clone(),
            before: e.before.clone(),
            after: e.after.clone(),
            run_id: e.run_id.map(|r| r.as_uuid()),
            at: ts(a.at),
        }
    }
}

/// A page of audit entries, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditPage {
    /// The entries.
    pub items: Vec<AuditOut>,
    /// Pass as `before` for the next (older) page; absent at the end.
    pub next_before: Option<Uuid>,
}

/// A provider link of a contact.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LinkOut {
    /// The connection.
    pub connection_id: Uuid,
    /// The provider's id.
    pub external_id: String,
    /// The provider's version.
    pub external_version: Option<String>,
    /// The provider's updated-at of that version.
    pub remote_updated_at: Option<String>,
    /// When it was last synced.
    pub synced_at: String,
}

impl From<&ProviderLink> for LinkOut {
    fn from(l: &ProviderLink) -> Self {
        Self {
            connection_id: l.connection_id.as_uuid(),
            external_id: l.external_id.clone(),
            external_version: l.external_version.clone(),
            remote_updated_at: ts_opt(l.remote_updated_at),
            synced_at: ts(l.synced_at),
        }
    }
}

/// A contact's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TimelineOut {
    /// The contact.
    pub contact: ContactOut,
    /// Activities, newest first.
    pub activities: Vec<ActivityOut>,
    /// Changes, newest first.
    pub changes: Vec<AuditOut>,
    /// Provider records it is linked to.
    pub links: Vec<LinkOut>,
}

/// A connection (tokens are never returned).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ConnectionOut {
    /// Its id.
    pub id: Uuid,
    /// `graph`, `google`, `ghl`.
    pub provider: String,
    /// The provider account (GoHighLevel location id, mailbox, Google account).
    pub account: String,
    /// `active`, `needs_reauth` or `disconnected`.
    pub status: String,
    /// Whether an access token is stored.
    pub has_access_token: bool,
    /// Whether a refresh token is stored.
    pub has_refresh_token: bool,
    /// When the access token expires.
    pub expires_at: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The provider API base URL, when not the public one.
    pub base_url: Option<String>,
    /// Two-way sync (webhooks, reconciliation, outbound pushes).
    pub two_way: bool,
    /// Who wins a field both sides changed.
    pub conflict_policy: String,
    /// Minutes between reconciliations (two-way).
    pub reconcile_every_minutes: u32,
    /// Created.
    pub created_at: String,
    /// Last changed.
    pub updated_at: String,
}

impl From<&Connection> for ConnectionOut {
    fn from(c: &Connection) -> Self {
        let policy = serde_json::to_value(c.settings.conflict_policy)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Self {
            id: c.id.as_uuid(),
            provider: c.provider.clone(),
            account: c.account.clone(),
            status: c.status.as_str().to_owned(),
            has_access_token: c.tokens.access_token.is_some(),
            has_refresh_token: c.tokens.refresh_token.is_some(),
            expires_at: ts_opt(c.tokens.expires_at),
            scopes: c.scopes.iter().filter(|s| !s.starts_with("rolodex:")).cloned().collect(),
            base_url: c.settings.base_url.clone(),
            two_way: c.settings.two_way,
            conflict_policy: policy,
            reconcile_every_minutes: c.settings.reconcile_minutes(),
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
        }
    }
}

/// Outcome counts of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct CountsOut {
    /// Contacts created.
    pub created: u64,
    /// Contacts updated (including merges).
    pub updated: u64,
    /// Items skipped.
    pub skipped: u64,
    /// Items that failed.
    pub failed: u64,
    /// Contacts soft-deleted (source deletions).
    pub deleted: u64,
}

impl From<SyncCounts> for CountsOut {
    fn from(c: SyncCounts) -> Self {
        Self { created: c.created, updated: c.updated, skipped: c.skipped, failed: c.failed, deleted: c.deleted }
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProgressOut {
    /// Approved items not applied yet.
    pub approved_remaining: u64,
    /// Items waiting for a person.
    pub pending_review: u64,
}

/// Links to related resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RunLinks {
    /// The run.
    #[serde(rename = "self")]
    pub this: String,
    /// Its items.
    pub items: String,
    /// Execute it.
    pub execute: String,
}

impl RunLinks {
    /// The links of a run.
    #[must_use]
    pub fn of(run: Uuid) -> Self {
        Self {
            this: format!("/v1/sync-runs/{run}"),
            items: format!("/v1/sync-runs/{run}/items"),
            execute: format!("/v1/sync-runs/{run}/execute"),
        }
    }
}

/// A sync run.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunOut {
    /// Its id.
    pub id: Uuid,
    /// The provider.
    pub provider: String,
    /// The connection.
    pub connection_id: Option<Uuid>,
    /// `manual`, `scheduled`, `webhook` or `reconcile`.
    pub kind: String,
    /// `preview`, `executing`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// Outcome counts so far.
    pub counts: CountsOut,
    /// What is left (only on a single run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<ProgressOut>,
    /// The filters it was started with.
    #[schema(value_type = Object)]
    pub filters: serde_json::Value,
    /// Why it failed.
    pub error: Option<String>,
    /// Created.
    pub created_at: String,
    /// Started executing.
    pub started_at: Option<String>,
    /// Finished.
    pub completed_at: Option<String>,
    /// Related resources.
    pub links: RunLinks,
}

impl RunOut {
    /// The view of a run, with its progress when known.
    #[must_use]
    pub fn of(r: &SyncRun, progress: Option<&RunProgress>) -> Self {
        Self {
            id: r.id.as_uuid(),
            provider: r.provider.clone(),
            connection_id: r.connection_id.map(|c| c.as_uuid()),
            kind: r.kind.as_str().to_owned(),
            status: progress.map_or(r.status, |p| p.status).as_str().to_owned(),
            counts: progress.map_or(r.counts, |p| p.counts).into(),
            progress: progress
                .map(|p| ProgressOut { approved_remaining: p.approved_remaining, pending_review: p.pending_review }),
            filters: r.filters.clone(),
            error: r.error.clone(),
            created_at: ts(r.created_at),
            started_at: ts_opt(r.started_at),
            completed_at: ts_opt(r.completed_at),
            links: RunLinks::of(r.id.as_uuid()),
        }
    }
}

/// A page of runs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunPage {
    /// The runs.
    pub items: Vec<RunOut>,
    /// Pass as `before` for the next (older) page; absent at the end.
    pub next_before: Option<Uuid>,
}

/// What a preview found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct PreviewCountsOut {
    /// Contacts the source delivered.
    pub fetched: u64,
    /// Items listed in the run.
    pub listed: u64,
    /// Unchanged since the last sync (counted, not listed).
    pub unchanged: u64,
    /// Left out by the filters.
    pub filtered_out: u64,
    /// Deletions the source reported.
    pub deleted_at_source: u64,
    /// Proposed creates.
    pub create: u64,
    /// Proposed updates.
    pub update: u64,
    /// Proposed merges.
    pub merge: u64,
    /// Proposed skips.
    pub skip: u64,
    /// Items needing a person's decision.
    pub review: u64,
    /// Proposed soft deletes (records the source deleted; never auto-approved).
    pub delete: u64,
    /// Approved by the auto-approve policy.
    pub auto_approved: u64,
    /// Sent to the LLM advisor.
    pub advised: u64,
}

/// The summary of a preview.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PreviewOut {
    /// The run.
    pub run_id: Uuid,
    /// What it found.
    pub counts: PreviewCountsOut,
    /// True when `max_contacts` cut the listing short.
    pub truncated: bool,
    /// True when the source restarted with a full listing.
    pub reset: bool,
    /// True when executing the run advances the connection's cursor.
    pub cursor_pending: bool,
    /// Where to review its items.
    pub items_url: String,
    /// Related resources.
    pub links: RunLinks,
}

impl From<&PreviewReport> for PreviewOut {
    fn from(p: &PreviewReport) -> Self {
        let c = p.counts;
        let run = p.run_id.as_uuid();
        Self {
            run_id: run,
            counts: PreviewCountsOut {
                fetched: c.fetched,
                listed: c.listed,
                unchanged: c.unchanged,
                filtered_out: c.filtered_out,
                deleted_at_source: c.deleted_at_source,
                create: c.create,
                update: c.update,
                merge: c.merge,
                skip: c.skip,
                review: c.review,
                delete: c.delete,
                auto_approved: c.auto_approved,
                advised: c.advised,
            },
            truncated: p.truncated,
            reset: p.reset,
            cursor_pending: p.cursor_pending,
            items_url: format!("/v1/sync-runs/{run}/items"),
            links: RunLinks::of(run),
        }
    }
}

/// One failed item of an execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FailureOut {
    /// The item.
    pub item_id: Uuid,
    /// Why.
    pub reason: String,
}

/// What an execution did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExecuteOut {
    /// The run.
    pub run_id: Uuid,
    /// Contacts created.
    pub created: u64,
    /// Contacts updated.
    pub updated: u64,
    /// Contacts merged into an existing one.
    pub merged: u64,
    /// Items skipped.
    pub skipped: u64,
    /// Items that failed.
    pub failed: u64,
    /// Contacts soft-deleted (source deletions).
    pub deleted: u64,
    /// Each failure.
    pub failures: Vec<FailureOut>,
    /// Batches committed.
    pub batches: u64,
    /// True when the connection's cursor advanced.
    pub cursor_advanced: bool,
    /// `completed`, or `preview` when items still wait for a person.
    pub status: Option<String>,
    /// Related resources.
    pub links: RunLinks,
}

impl ExecuteOut {
    /// The view of an execution of `run`.
    #[must_use]
    pub fn of(run: Uuid, r: &ExecuteReport) -> Self {
        Self {
            run_id: run,
            created: r.created,
            updated: r.updated,
            merged: r.merged,
            skipped: r.skipped,
            failed: r.failed,
            deleted: r.deleted,
            failures: r
                .failures
                .iter()
                .map(|(id, reason)| FailureOut { item_id: id.as_uuid(), reason: reason.clone() })
                .collect(),
            batches: r.batches,
            cursor_advanced: r.cursor_advanced,
            status: r.status.map(|s| s.as_str().to_owned()),
            links: RunLinks::of(run),
        }
    }
}

/// Another plausible candidate of an item.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlternativeOut {
    /// The contact.
    pub contact_id: Uuid,
    /// Its 0-1 score.
    pub score: f64,
}

/// What applying an item did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ItemResultOut {
    /// `created`, `updated`, `skipped` or `failed`.
    pub outcome: String,
    /// The contact written.
    pub contact_id: Option<Uuid>,
    /// Why it failed or was skipped.
    pub message: Option<String>,
}

/// One item of a sync run, as a reviewer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ItemOut {
    /// Its id.
    pub id: Uuid,
    /// Its run.
    pub run_id: Uuid,
    /// Position in the run.
    pub position: i64,
    /// The action execute will apply: `create`, `update`, `merge`, `skip` or `review`.
    pub action: String,
    /// The engine's proposal.
    pub proposed_action: String,
    /// True when a person overrode the proposal.
    pub overridden: bool,
    /// The contact execute will write.
    pub target_contact_id: Option<Uuid>,
    /// `high`, `medium` or `low`.
    pub confidence: String,
    /// 0-1.
    pub score: f64,
    /// Why, strongest first.
    pub reasons: Vec<String>,
    /// What a reviewer should look at.
    pub warnings: Vec<String>,
    /// Other plausible candidates.
    pub alternatives: Vec<AlternativeOut>,
    /// An earlier item of the run with the same email or phone.
    pub duplicate_of: Option<Uuid>,
    /// `pending`, `approved` or `rejected`.
    pub review: String,
    /// The result, once applied.
    pub result: Option<ItemResultOut>,
    /// The source's id of the incoming contact.
    pub external_id: Option<String>,
    /// The incoming contact.
    pub incoming: FieldsOut,
    /// The field diff against the target contact.
    #[schema(value_type = Object)]
    pub diff: serde_json::Value,
}

fn outcome_str(o: ItemOutcome) -> String {
    o.as_str().to_owned()
}

impl From<&ItemView> for ItemOut {
    fn from(v: &ItemView) -> Self {
        let i = &v.item;
        let r = &v.recommendation;
        Self {
            id: i.id.as_uuid(),
            run_id: i.run_id.as_uuid(),
            position: i.position,
            action: v.action.as_str().to_owned(),
            proposed_action: r.action.as_str().to_owned(),
            overridden: v.overridden,
            target_contact_id: v.target.map(|t| t.as_uuid()),
            confidence: r.confidence.as_str().to_owned(),
            score: r.score,
            reasons: r.reasons.clone(),
            warnings: r.warnings.clone(),
            alternatives: r
                .alternatives
                .iter()
                .map(|a| AlternativeOut { contact_id: a.id.as_uuid(), score: a.score })
                .collect(),
            duplicate_of: r.duplicate_of.map(|d| d.as_uuid()),
            review: i.review.as_str().to_owned(),
            result: i.result.as_ref().map(|res| ItemResultOut {
                outcome: outcome_str(res.outcome),
                contact_id: res.contact_id.map(|c| c.as_uuid()),
                message: res.message.clone(),
            }),
            external_id: i.incoming.external_id.clone(),
            incoming: FieldsOut::from(&i.incoming.fields),
            diff: i.diff.clone(),
        }
    }
}

/// A page of items, in position order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ItemPageOut {
    /// The items.
    pub items: Vec<ItemOut>,
    /// Pass as `after` for the next page; absent at the end.
    pub next_after: Option<i64>,
}

/// Parses an action name ([`Action::parse`]).
///
/// # Errors
/// A message listing the accepted names.
pub fn parse_action(s: &str) -> Result<Action, String> {
    Action::parse(s)
}

/// Parses a confidence name ([`Confidence::parse`]).
///
/// # Errors
/// A message listing the accepted names.
pub fn parse_confidence(s: &str) -> Result<Confidence, String> {
    Confidence::parse(s)
}

/// Parses a review state.
///
/// # Errors
/// A message listing the accepted names.
pub fn parse_review(s: &str) -> Result<ReviewState, String> {
    ReviewState::parse(s.trim())
}

/// A count of changed items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChangedOut {
    /// How many items changed.
    pub changed: u64,
}

/// `/healthz` and `/readyz` bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HealthOut {
    /// `ok` or `ready`.
    pub status: String,
    /// The readiness checks (absent on `/healthz`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::state::Check>,
}
