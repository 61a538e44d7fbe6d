//! `rolodex-ghl`: the GoHighLevel (LeadConnector API v2) adapter.
//!
//! It owns the GoHighLevel contact JSON and its mapping to and from the domain ([`mapping`]),
//! webhook signature verification and parsing ([`webhook`]), and the `ContactSource` /
//! `ContactSink` implementation over `POST /contacts/search` and the contact endpoints
//! ([`client`]). HTTP plumbing (retries, rate limits, OAuth refresh) is `rolodex-http`'s; deciding
//! what to do with a contact is `rolodex-app`'s.

pub mod client;
pub mod mapping;
pub mod webhook;

pub use client::GhlContacts;
pub use mapping::{WriteKind, contact_body, contact_from_json};
pub use webhook::{GhlWebhook, SignatureScheme, WebhookError, WebhookVerifier, parse_webhook};
