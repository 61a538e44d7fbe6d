//! [`FileSource`]: a [`ContactSource`] over a CSV or vCard file, so a user can sync an export with
//! no OAuth at all.
//!
//! `fetch(Full)` lists the file page by page ([`FileSource::DEFAULT_PAGE_SIZE`] contacts each); a
//! page token is the byte offset where the next page starts, so memory stays bounded and paging is
//! linear however large the file. The last page's cursor is the SHA-256 of the file's content:
//! `fetch(Since(cursor))` of an unchanged file returns no upserts. A changed file has no per-record
//! diff, so it is listed in full with [`ChangePage::reset`] set (contacts absent from it may be
//! gone). A file that changes between pages restarts the listing the same way.
//!
//! Reading happens on tokio's blocking pool ([`tokio::task::spawn_blocking`]), so `fetch` must run
//! inside a tokio runtime; [`FileSource::fetch_blocking`] is the same without one.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use async_trait::async_trait;
use rolodex_domain::contact::IncomingContact;
use rolodex_domain::phone::Region;
use rolodex_domain::ports::{ChangePage, ContactSource, FetchRequest, PageToken, ProviderError, SyncCursor};
use rolodex_domain::raw::RawContact;
use sha2::{Digest, Sha256};

use crate::csv::{CsvContacts, CsvOptions, CsvResume};
use crate::error::FileError;
use crate::vcard::{VCardContacts, VCardResume};

/// The kind of contact file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-, tab-, semicolon- or pipe-separated values with a header row.
    Csv,
    /// vCard 2.1 / 3.0 / 4.0 (`.vcf`, or vCards inside an `.ics`).
    VCard,
}

impl FileFormat {
    /// The format by extension (`.csv`, `.tsv`, `.tab` / `.vcf`, `.vcard`, `.ics`), else by content:
    /// a file whose first 8 KiB hold `BEGIN:VCARD` or `BEGIN:VCALENDAR` is vCard, anything else CSV.
    ///
    /// # Errors
    /// [`FileError::Io`] if a file without a known extension cannot be read.
    pub fn detect(path: &Path) -> Result<Self, FileError> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv" | "tsv" | "tab") => return Ok(Self::Csv),
            Some("vcf" | "vcard" | "ics") => return Ok(Self::VCard),
            _ => {}
        }
        let mut head = Vec::new();
        File::open(path).and_then(|f| f.take(8192).read_to_end(&mut head)).map_err(|e| FileError::io(Some(path), e))?;
        Ok(Self::sniff(&head))
    }

    /// The format by content alone.
    #[must_use]
    pub fn sniff(head: &[u8]) -> Self {
        let upper = head.to_ascii_uppercase();
        let has = |needle: &[u8]| upper.windows(needle.len()).any(|w| w == needle);
        if has(b"BEGIN:VCARD") || has(b"BEGIN:VCALENDAR") { Self::VCard } else { Self::Csv }
    }
}

/// A [`ContactSource`] reading a CSV or vCard file. Provider name `file`; each contact's
/// `fields.source` is `file:<file name>`.
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
    format: FileFormat,
    csv: CsvOptions,
    region: Region,
    page_size: usize,
    source_label: String,
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Csv(CsvResume),
    VCard(VCardResume),
}

/// A file's size and modification time: a page token is only valid while they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified_ns: u128,
}

impl FileSource {
    /// Contacts per page.
    pub const DEFAULT_PAGE_SIZE: usize = 500;

    /// A source over `path`, its format detected by [`FileFormat::detect`]. For CSV the header is
    /// read now, so a bad `--map` fails here rather than mid-sync. Phone numbers without a country
    /// code are read as [`Region::default`] until [`FileSource::with_region`] says otherwise.
    ///
    /// # Errors
    /// [`FileError::Io`] for an unreadable file; for CSV, the errors of [`CsvContacts::open`].
    pub fn open(path: impl Into<PathBuf>, csv: CsvOptions) -> Result<Self, FileError> {
        let path = path.into();
        let format = FileFormat::detect(&path)?;
        Self::with_format(path, format, csv)
    }

    /// A source over `path` in the given format.
    ///
    /// # Errors
    /// As [`FileSource::open`].
    pub fn with_format(path: impl Into<PathBuf>, format: FileFormat, csv: CsvOptions) -> Result<Self, FileError> {
        let path = path.into();
        match format {
            FileFormat::Csv => drop(CsvContacts::open(&path, &csv)?),
            FileFormat::VCard => drop(VCardContacts::open(&path)?),
        }
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        Ok(Self {
            path,
            format,
            csv,
            region: Region::default(),
            page_size: Self::DEFAULT_PAGE_SIZE,
            source_label: format!("file:{name}"),
        })
    }

    /// Reads phone numbers without a country code as numbers of `region`.
    #[must_use]
    pub fn with_region(mut self, region: Region) -> Self {
        self.region = region;
        self
    }

    /// Sets the number of contacts per page (at least 1).
    #[must_use]
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// The file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its format.
    #[must_use]
    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// The cursor an unchanged file will have: `sha256:<hex of the content>`.
    ///
    /// # Errors
    /// [`FileError::Io`] if the file cannot be read.
    pub fn content_cursor(&self) -> Result<SyncCursor, FileError> {
        let io = |e| FileError::io(Some(&self.path), e);
        let mut file = File::open(&self.path).map_err(io)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let hex: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(SyncCursor(format!("sha256:{hex}")))
    }

    /// [`ContactSource::fetch`] without a runtime: reads on the calling thread.
    ///
    /// # Errors
    /// [`ProviderError::Invalid`] naming the line and column (or vCard property) of a malformed
    /// record or a page token this source did not issue; [`ProviderError::NotFound`] when the file
    /// is gone; [`ProviderError::Unexpected`] for other I/O failures.
    pub fn fetch_blocking(&self, request: FetchRequest) -> Result<ChangePage, ProviderError> {
        match request {
            FetchRequest::Full => self.page(None, self.stamp()?, false),
            FetchRequest::Since(cursor) => {
                let current = self.content_cursor().map_err(|e| self.provider_error(e))?;
                if current == cursor {
                    return Ok(ChangePage { next_cursor: Some(current), ..ChangePage::default() });
                }
                self.page(None, self.stamp()?, true)
            }
            FetchRequest::Page(token) => {
                let (position, stamp, reset) = self.parse_token(&token)?;
                let now = self.stamp()?;
                if now == stamp { self.page(Some(position), now, reset) } else { self.page(None, now, true) }
            }
        }
    }

    fn stamp(&self) -> Result<Stamp, ProviderError> {
        let meta =
            std::fs::metadata(&self.path).map_err(|e| self.provider_error(FileError::io(Some(&self.path), e)))?;
        let modified_ns =
            meta.modified().ok().and_then(|m| m.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        Ok(Stamp { len: meta.len(), modified_ns })
    }

    fn incoming(&self, raw: RawContact) -> IncomingContact {
        let mut incoming = raw.into_incoming(self.region);
        incoming.fields.source = Some(self.source_label.clone());
        incoming
    }

    fn page(&self, start: Option<Position>, stamp: Stamp, reset: bool) -> Result<ChangePage, ProviderError> {
        let (upserts, next) = match self.format {
            FileFormat::Csv => self.csv_page(start).map_err(|e| self.provider_error(e))?,
            FileFormat::VCard => self.vcard_page(start).map_err(|e| self.provider_error(e))?,
        };
        let mut page = ChangePage { upserts, reset, ..ChangePage::default() };
        match next {
            Some(position) => page.next_page = Some(self.token(position, stamp, reset)),
            None => page.next_cursor = Some(self.content_cursor().map_err(|e| self.provider_error(e))?),
        }
        Ok(page)
    }

    /// Reads one page; the position of the next page when there is one.
    fn csv_page(&self, start: Option<Position>) -> Result<(Vec<IncomingContact>, Option<Position>), FileError> {
        let mut reader = CsvContacts::open(&self.path, &self.csv)?;
        if let Some(Position::Csv(at)) = start {
            reader.resume(at)?;
        }
        let mut upserts = Vec::with_capacity(self.page_size);
        while upserts.len() < self.page_size {
            match reader.next() {
                Some(record) => upserts.push(self.incoming(record?.raw)),
                None => return Ok((upserts, None)),
            }
        }
        let next = reader.resume_point();
        Ok((upserts, reader.next().is_some().then_some(Position::Csv(next))))
    }

    fn vcard_page(&self, start: Option<Position>) -> Result<(Vec<IncomingContact>, Option<Position>), FileError> {
        let io = |e| FileError::io(Some(&self.path), e);
        let mut file = File::open(&self.path).map_err(io)?;
        let at = match start {
            Some(Position::VCard(at)) => at,
            _ => VCardResume { byte: 0, line: 1, cards: 0 },
        };
        file.seek(SeekFrom::Start(at.byte)).map_err(io)?;
        let mut reader = VCardContacts::resumed(file, at, Some(self.path.clone()));
        let mut upserts = Vec::with_capacity(self.page_size);
        while upserts.len() < self.page_size {
            match reader.next() {
                Some(record) => upserts.push(self.incoming(record?.raw)),
                None => return Ok((upserts, None)),
            }
        }
        let next = reader.resume_point();
        Ok((upserts, reader.next().is_some().then_some(Position::VCard(next))))
    }

    fn token(&self, position: Position, stamp: Stamp, reset: bool) -> PageToken {
        let reset = u8::from(reset);
        let Stamp { len, modified_ns } = stamp;
        PageToken(match position {
            Position::Csv(p) => {
                format!("csv:{}:{}:{}:{}:{len}:{modified_ns}:{reset}", p.byte, p.line, p.record, p.row)
            }
            Position::VCard(p) => format!("vcf:{}:{}:{}:{len}:{modified_ns}:{reset}", p.byte, p.line, p.cards),
        })
    }

    fn parse_token(&self, token: &PageToken) -> Result<(Position, Stamp, bool), ProviderError> {
        let invalid = || ProviderError::Invalid {
            field: "page token".to_owned(),
            message: format!("`{}` is not a page token of this file source", token.0),
        };
        let mut parts = token.0.split(':');
        let kind = parts.next().ok_or_else(invalid)?;
        let numbers: Vec<u128> = parts.map(|p| p.parse::<u128>()).collect::<Result<_, _>>().map_err(|_| invalid())?;
        let small = |v: u128| u64::try_from(v).map_err(|_| invalid());
        let (position, rest) = match (kind, self.format, numbers.as_slice()) {
            ("csv", FileFormat::Csv, [byte, line, record, row, rest @ ..]) => (
                Position::Csv(CsvResume {
                    byte: small(*byte)?,
                    line: small(*line)?,
                    record: small(*record)?,
                    row: small(*row)?,
                }),
                rest,
            ),
            ("vcf", FileFormat::VCard, [byte, line, cards, rest @ ..]) => {
                (Position::VCard(VCardResume { byte: small(*byte)?, line: small(*line)?, cards: small(*cards)? }), rest)
            }
            _ => return Err(invalid()),
        };
        match rest {
            [len, modified_ns, reset @ (0 | 1)] => {
                Ok((position, Stamp { len: small(*len)?, modified_ns: *modified_ns }, *reset == 1))
            }
            _ => Err(invalid()),
        }
    }

    fn provider_error(&self, e: FileError) -> ProviderError {
        match e {
            FileError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ProviderError::NotFound(self.path.display().to_string())
            }
            e @ FileError::Io { .. } => ProviderError::Unexpected(Box::new(e)),
            e => {
                let field = match (e.column(), e.line()) {
                    (Some(c), _) => c.to_owned(),
                    (None, Some(line)) => format!("line {line}"),
                    (None, None) => "file".to_owned(),
                };
                ProviderError::Invalid { field, message: format!("{}: {e}", self.path.display()) }
            }
        }
    }
}

#[async_trait]
impl ContactSource for FileSource {
    fn provider(&self) -> &'static str {
        "file"
    }

    async fn fetch(&self, request: FetchRequest) -> Result<ChangePage, ProviderError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.fetch_blocking(request))
            .await
            .map_err(|e| ProviderError::Unexpected(Box::new(e)))?
    }
}
