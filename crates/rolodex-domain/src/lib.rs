//! `rolodex-domain`: the pure core of Rolodex.
//!
//! It owns the contact model ([`contact`]), the parsed value types ([`email`], [`phone`], [`name`]),
//! the conversion of raw strings into contacts ([`raw`]), matching ([`matching`]), merge diffs
//! ([`diff`]), three-way conflict resolution ([`conflict`]), and the ports ([`ports`]) that adapters
//! implement. It does no I/O: no tokio, no HTTP, no SQL, no files (a CI check enforces this).
//! Values in, values out; imperfect input is data ([`contact::Warning`]), never a panic.

pub mod conflict;
pub mod contact;
pub mod diff;
pub mod email;
pub mod fastmap;
pub mod ids;
pub mod matching;
pub mod name;
pub mod phone;
pub mod ports;
pub mod raw;

#[cfg(test)]
mod proptests;

pub use contact::{
    Address, Birthday, Contact, ContactFields, ContactPhone, ContactStatus, IncomingContact, PhoneKind, Warning,
};
pub use email::EmailAddress;
pub use ids::*;
pub use phone::{PhoneE164, Region};
