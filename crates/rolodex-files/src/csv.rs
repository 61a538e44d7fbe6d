//! [`CsvContacts`]: reads a CSV (or TSV) file row by row into [`RawContact`]s, using the columns
//! [`ResolvedColumns`] picked. It only produces strings: parsing emails, phones and dates is
//! `RawContact::into_incoming`'s job in the domain. Memory is one row at a time.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rolodex_domain::raw::RawContact;

use crate::columns::{ColumnMap, Field, ResolvedColumns};
use crate::error::FileError;

/// The cells that count as missing by default (besides blank ones).
pub const DEFAULT_NULL_VALUES: &[&str] = &["", "NA", "N/A", "n/a", "NULL", "null", "-"];

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// Column overrides (`--map`).
    pub map: ColumnMap,
    /// Cells that count as missing (compared after trimming, case-sensitively). Blank cells always
    /// count as missing. Default: [`DEFAULT_NULL_VALUES`].
    pub null_values: Vec<String>,
    /// The field delimiter, default `b','`. [`CsvContacts::open`] switches to a tab, `;` or `|`
    /// when the header line has none of this delimiter but one of those (and to a tab for `.tsv`).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            map: ColumnMap::empty(),
            null_values: DEFAULT_NULL_VALUES.iter().map(|s| (*s).to_owned()).collect(),
            delimiter: b',',
        }
    }
}

/// One data row as a raw contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRecord {
    /// The 1-based line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// The 1-based data row number (the id when the file has no id column).
    pub row: u64,
    /// The row's values.
    pub raw: RawContact,
}

/// Where to resume reading (for paging through a file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CsvResume {
    pub byte: u64,
    pub line: u64,
    pub record: u64,
    pub row: u64,
}

/// Reads contacts from CSV, one [`CsvRecord`] per data row. The first row is the header.
///
/// A malformed row yields an error naming its line (and column, when one is at fault); reading then
/// goes on with the next row, so a caller may skip bad rows or stop.
pub struct CsvContacts<R: Read> {
    reader: ::csv::Reader<R>,
    columns: ResolvedColumns,
    null_values: Vec<String>,
    path: Option<PathBuf>,
    record: ::csv::ByteRecord,
    row: u64,
    done: bool,
}

impl<R: Read> std::fmt::Debug for CsvContacts<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvContacts").field("path", &self.path).field("row", &self.row).finish_non_exhaustive()
    }
}

impl CsvContacts<File> {
    /// Opens a file and reads its header. The delimiter is sniffed from the header line (see
    /// [`CsvOptions::delimiter`]).
    ///
    /// # Errors
    /// [`FileError::Io`] if the file cannot be read; the errors of [`CsvContacts::from_reader`].
    pub fn open(path: &Path, options: &CsvOptions) -> Result<Self, FileError> {
        let io = |e| FileError::io(Some(path), e);
        let mut file = File::open(path).map_err(io)?;
        let first_line = read_first_line(&mut file).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut delimiter = sniff_delimiter(&first_line, options.delimiter);
        let tsv = path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "tsv" | "tab" | "TSV"));
        if tsv && options.delimiter == b',' && !first_line.contains(&b',') {
            delimiter = b'\t';
        }
        Self::build(file, options, delimiter, Some(path.to_path_buf()))
    }
}

impl<R: Read> CsvContacts<R> {
    /// Reads the header from `reader` and resolves the columns. The delimiter is used as given.
    ///
    /// # Errors
    /// [`FileError::Csv`] for a file without a header row; [`FileError::MissingColumn`] when the
    /// map names a column the header lacks; [`FileError::Io`] if reading fails.
    pub fn from_reader(reader: R, options: &CsvOptions) -> Result<Self, FileError> {
        Self::build(reader, options, options.delimiter, None)
    }

    fn build(reader: R, options: &CsvOptions, delimiter: u8, path: Option<PathBuf>) -> Result<Self, FileError> {
        // Records end at `\n`; a `\r` before it is trimmed with the cell. (With the default CRLF
        // terminator the csv crate reports every record of a CRLF file one line too early.) Field
        // counts are checked here, so that a blank CRLF line can be skipped like a blank LF line.
        let mut reader = ::csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(true)
            .terminator(::csv::Terminator::Any(b'\n'))
            .from_reader(reader);
        let headers = match reader.byte_headers() {
            Ok(h) => h.clone(),
            Err(e) => return Err(convert_error(e, &[], path.as_deref())),
        };
        if headers.is_empty() {
            return Err(FileError::Csv {
                line: 1,
                column: None,
                message: "the file is empty; expected a header row".to_owned(),
            });
        }
        let headers: Vec<String> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = String::from_utf8_lossy(h);
                let h = h.trim_start_matches('\u{feff}').trim();
                if h.is_empty() { format!("column {}", i + 1) } else { h.to_owned() }
            })
            .collect();
        let columns = ResolvedColumns::resolve(headers, &options.map)?;
        Ok(Self {
            reader,
            columns,
            null_values: options.null_values.iter().map(|v| v.trim().to_owned()).collect(),
            path,
            record: ::csv::ByteRecord::new(),
            row: 0,
            done: false,
        })
    }

    /// Which column feeds which field.
    #[must_use]
    pub fn columns(&self) -> &ResolvedColumns {
        &self.columns
    }

    /// Bytes of the input consumed so far (for a progress bar).
    #[must_use]
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    /// Where the next row starts.
    pub(crate) fn resume_point(&self) -> CsvResume {
        let p = self.reader.position();
        CsvResume { byte: p.byte(), line: p.line(), record: p.record(), row: self.row }
    }

    fn cell<'a>(&self, record: &'a ::csv::ByteRecord, index: usize, line: u64) -> Result<Option<&'a str>, FileError> {
        let Some(bytes) = record.get(index) else { return Ok(None) };
        let text = std::str::from_utf8(bytes).map_err(|e| FileError::Csv {
            line,
            column: Some(self.columns.headers()[index].clone()),
            message: format!("not valid UTF-8 (byte {} of the cell); save the file as UTF-8", e.valid_up_to() + 1),
        })?;
        let text = text.trim();
        if text.is_empty() || self.null_values.iter().any(|n| n == text) {
            return Ok(None);
        }
        Ok(Some(text))
    }

    fn to_raw(&self, record: &::csv::ByteRecord, line: u64) -> Result<RawContact, FileError> {
        let mut raw = RawContact::default();
        for (field, sources) in self.columns.fields() {
            let mut values = Vec::with_capacity(sources.len());
            for s in sources {
                if let Some(v) = self.cell(record, s.index, line)? {
                    values.push((v, s.phone_label));
                }
            }
            if values.is_empty() {
                continue;
            }
            let joined = || Some(values.iter().map(|(v, _)| *v).collect::<Vec<_>>().join(" "));
            match field {
                Field::Id => raw.id = joined(),
                Field::Name => raw.name = joined(),
                Field::GivenName => raw.given_name = joined(),
                Field::FamilyName => raw.family_name = joined(),
                Field::Company => raw.company = joined(),
                Field::JobTitle => raw.job_title = joined(),
                Field::Street => raw.street = joined(),
                Field::Street2 => raw.street2 = joined(),
                Field::City => raw.city = joined(),
                Field::State => raw.state = joined(),
                Field::Postcode => raw.postcode = joined(),
                Field::Country => raw.country = joined(),
                Field::Birthday => raw.birthday = joined(),
                Field::Email => raw.emails.extend(values.iter().map(|(v, _)| (*v).to_owned())),
                Field::Phone => {
                    raw.phones.extend(values.iter().map(|(v, label)| ((*v).to_owned(), label.map(str::to_owned))));
                }
                Field::Tags => raw.tags.extend(
                    values
                        .iter()
                        .flat_map(|(v, _)| v.split([',', ';', '|']))
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned),
                ),
            }
        }
        if self.columns.id_is_row_number() {
            raw.id = Some(self.row.to_string());
        }
        for &index in self.columns.custom_indices() {
            if let Some(v) = self.cell(record, index, line)? {
                raw.custom.entry(self.columns.headers()[index].clone()).or_insert_with(|| v.to_owned());
            }
        }
        Ok(raw)
    }
}

impl<R: Read + Seek> CsvContacts<R> {
    /// Continues reading at a point an earlier reader of the same file returned.
    pub(crate) fn resume(&mut self, at: CsvResume) -> Result<(), FileError> {
        let mut pos = ::csv::Position::new();
        pos.set_byte(at.byte).set_line(at.line).set_record(at.record);
        self.reader.seek(pos).map_err(|e| convert_error(e, self.columns.headers(), self.path.as_deref()))?;
        self.row = at.row;
        Ok(())
    }
}

impl<R: Read> Iterator for CsvContacts<R> {
    type Item = Result<CsvRecord, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut record = std::mem::take(&mut self.record);
        let result = loop {
            if self.done {
                break None;
            }
            match self.reader.read_byte_record(&mut record) {
                Ok(false) => self.done = true,
                Ok(true) => {
                    let line = record.position().map_or(0, ::csv::Position::line);
                    let expected = self.columns.headers().len();
                    if record.len() == 1 && record[0].trim_ascii().is_empty() && expected > 1 {
                        continue; // a blank line
                    }
                    self.row += 1;
                    if record.len() != expected {
                        let message = format!("expected {expected} fields, found {}", record.len());
                        break Some(Err(FileError::Csv { line, column: None, message }));
                    }
                    break Some(self.to_raw(&record, line).map(|raw| CsvRecord { line, row: self.row, raw }));
                }
                Err(e) => {
                    self.done = true;
                    break Some(Err(convert_error(e, self.columns.headers(), self.path.as_deref())));
                }
            }
        };
        self.record = record;
        result
    }
}

fn convert_error(e: ::csv::Error, headers: &[String], path: Option<&Path>) -> FileError {
    let line = e.position().map_or(1, ::csv::Position::line);
    match e.into_kind() {
        ::csv::ErrorKind::Io(source) => FileError::io(path, source),
        ::csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            FileError::Csv { line, column: None, message: format!("expected {expected_len} fields, found {len}") }
        }
        ::csv::ErrorKind::Utf8 { err, .. } => FileError::Csv {
            line,
            column: Some(headers.get(err.field()).cloned().unwrap_or_else(|| format!("column {}", err.field() + 1))),
            message: "not valid UTF-8".to_owned(),
        },
        other => FileError::Csv { line, column: None, message: format!("{other:?}") },
    }
}

/// The first line of a file (up to 64 KiB), without its line break.
fn read_first_line(file: &mut File) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while buf.len() < 64 * 1024 {
        let n = file.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.iter().position(|b| *b == b'\n') {
            buf.truncate(end);
            break;
        }
    }
    Ok(buf)
}

/// The delimiter for a file whose header line is `first_line`: `configured` when the line holds
/// it, else the first of tab, `;` and `|` that it holds, else `configured`.
#[must_use]
pub fn sniff_delimiter(first_line: &[u8], configured: u8) -> u8 {
    if first_line.contains(&configured) {
        return configured;
    }
    [b'\t', b';', b'|'].into_iter().find(|d| first_line.contains(d)).unwrap_or(configured)
}
