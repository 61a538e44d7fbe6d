//! `rolodex-google`: the Google People API adapter (contacts).
//!
//! It owns the Person JSON and its mapping to and from the domain ([`mapping`]), contact groups
//! as tags ([`groups`]), and the `ContactSource` / `ContactSink` implementation over
//! `people/me/connections` with sync tokens, `createContact` / `updateContact` / `deleteContact`
//! and `contactGroups` ([`client`]). HTTP plumbing (retries, rate limits, OAuth refresh, reading
//! JSON with field paths) is `rolodex-http`'s; deciding what to do with a contact is
//! `rolodex-app`'s. Gmail is not here yet.

pub mod client;
pub mod groups;
pub mod mapping;

pub use client::GoogleContacts;
pub use groups::{ContactGroup, GroupDirectory};
pub use mapping::{PERSON_FIELDS, PersonChange, UPDATE_PERSON_FIELDS, memberships_body, person_body, person_from_json};
