//! `rolodex-google`: the Google People API adapter (contacts).
//!
//! It owns the Person JSON and its mapping to and from the domain ([`mapping`]) and the
//! `ContactSource` / `ContactSink` implementation over `people/me/connections` with sync tokens and
//! `createContact` / `updateContact` / `deleteContact` ([`client`]). HTTP plumbing (retries, rate
//! limits, OAuth refresh) is `rolodex-http`'s; deciding what to do with a contact is `rolodex-app`'s.
//! Gmail is not here yet.

pub mod client;
pub mod json;
pub mod mapping;

pub use client::GoogleContacts;
pub use mapping::{PERSON_FIELDS, PersonChange, UPDATE_PERSON_FIELDS, person_body, person_from_json};
