//! `rolodex-files`: contacts from files, so a user can sync an export with no OAuth at all.
//!
//! - [`csv`]: [`CsvContacts`] reads CSV/TSV rows into raw contacts; the columns are recognised by
//!   their common spellings ([`columns`]) or given with `--map` ([`ColumnMap`]). The `rolodex match`
//!   command reads its two files with it.
//! - [`vcard`]: [`VCardContacts`] reads vCard 2.1 / 3.0 / 4.0 (folded lines, quoted-printable,
//!   charsets, groups) into raw contacts, skipping anything in the file that is not a vCard.
//! - [`source`]: [`FileSource`], a `ContactSource` over a CSV or vCard file, paged, with a content
//!   hash as its incremental cursor.
//!
//! Readers produce strings only ([`RawContact`](rolodex_domain::raw::RawContact)); parsing emails,
//! phones and dates is the domain's job. A malformed input is a [`FileError`] naming the line and the
//! column or property; nothing panics on any input.

pub mod columns;
pub mod csv;
mod error;
pub mod source;
pub mod vcard;

pub use crate::columns::{ColumnMap, ColumnSource, Field, ResolvedColumns};
pub use crate::csv::{CsvContacts, CsvOptions, CsvRecord, DEFAULT_NULL_VALUES};
pub use crate::error::FileError;
pub use crate::source::{FileFormat, FileSource};
pub use crate::vcard::{VCardContacts, VCardRecord};
