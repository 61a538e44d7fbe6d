//! [`VCardContacts`]: reads vCard 2.1, 3.0 and 4.0 into [`RawContact`]s, one card at a time.
//!
//! It handles folded lines, quoted-printable values with soft line breaks, `CHARSET` (UTF-8,
//! Latin-1 / Windows-1252), base64 values (binary ones such as `PHOTO` are skipped), groups
//! (`item1.EMAIL` labelled by `item1.X-ABLabel`), 2.1-style bare types (`TEL;CELL:`) and 4.0 URIs
//! (`tel:`, `mailto:`). Anything outside `BEGIN:VCARD` ... `END:VCARD` (an `.ics` file's events, say)
//! is skipped; blocks nested inside a card (`AGENT`) are skipped too. Broken structure (a card with no
//! `END:VCARD`, a mismatched `END`, a line that is not `NAME:value`) is a [`FileError::VCard`]
//! naming the line; reading then goes on with the next card.
//!
//! Mapping: `FN` -> name, `N` -> family / given (middle names, prefix and suffix as custom
//! properties), `EMAIL` and `TEL` (preferred first; `TEL` keeps its type as the label), `ORG` ->
//! company (units as custom `department`), `TITLE` -> job title, the first (or preferred) `ADR` ->
//! address, `BDAY`, `CATEGORIES` -> tags, `UID` -> id (the card's 1-based number when it has none),
//! everything else (`NOTE`, `NICKNAME`, `URL`, `X-...`) -> custom properties by lower-case name.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rolodex_domain::raw::RawContact;

use crate::error::FileError;

/// One card as a raw contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VCardRecord {
    /// The 1-based line of its `BEGIN:VCARD`.
    pub line: u64,
    /// The 1-based number of the card in the file.
    pub ordinal: u64,
    /// Its `VERSION`, when it has one.
    pub version: Option<String>,
    /// Its values.
    pub raw: RawContact,
}

/// Where to resume reading (for paging through a file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct VCardResume {
    pub byte: u64,
    pub line: u64,
    pub cards: u64,
}

struct Physical {
    line: u64,
    start: u64,
    bytes: Vec<u8>,
}

struct Logical {
    line: u64,
    bytes: Vec<u8>,
}

/// One content line, split up.
#[derive(Debug)]
struct Property {
    line: u64,
    group: Option<String>,
    /// Upper case.
    name: String,
    /// Keys upper case; values unquoted, one entry per comma-separated value.
    params: Vec<(String, String)>,
    value: Vec<u8>,
}

impl Property {
    fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn types(&self) -> impl Iterator<Item = String> + '_ {
        self.params.iter().filter(|(k, _)| k == "TYPE").map(|(_, v)| v.to_ascii_lowercase())
    }

    /// Lower is preferred: `PREF=n` gives n, `TYPE=pref` gives 1, nothing gives 101.
    fn pref_rank(&self) -> u32 {
        if let Some(n) = self.param("PREF").and_then(|p| p.trim().parse::<u32>().ok()) {
            return n;
        }
        if self.types().any(|t| t == "pref") { 1 } else { 101 }
    }

    fn error(&self, message: impl Into<String>) -> FileError {
        FileError::VCard { line: self.line, property: Some(self.name.clone()), message: message.into() }
    }

    /// The value decoded (quoted-printable / base64, then the charset), still escaped.
    fn decoded(&self) -> Result<String, FileError> {
        let encoding = self.param("ENCODING").map(str::to_ascii_uppercase);
        let bytes = match encoding.as_deref() {
            Some("QUOTED-PRINTABLE") => decode_quoted_printable(&self.value),
            Some("BASE64" | "B") => {
                let compact: Vec<u8> = self.value.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(&compact)
                    .map_err(|e| self.error(format!("invalid base64: {e}")))?
            }
            _ => self.value.clone(),
        };
        decode_charset(bytes, self.param("CHARSET")).map_err(|m| self.error(m))
    }
}

/// Reads vCards from a file or any reader, one [`VCardRecord`] per card.
pub struct VCardContacts<R: Read> {
    input: BufReader<R>,
    path: Option<PathBuf>,
    pending: Option<Physical>,
    next_line: u64,
    offset: u64,
    cards: u64,
    done: bool,
}

impl<R: Read> std::fmt::Debug for VCardContacts<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VCardContacts").field("path", &self.path).field("cards", &self.cards).finish_non_exhaustive()
    }
}

impl VCardContacts<File> {
    /// Opens a `.vcf` (or `.ics`) file.
    ///
    /// # Errors
    /// [`FileError::Io`] if the file cannot be opened.
    pub fn open(path: &Path) -> Result<Self, FileError> {
        let file = File::open(path).map_err(|e| FileError::io(Some(path), e))?;
        let mut reader = Self::from_reader(file);
        reader.path = Some(path.to_path_buf());
        Ok(reader)
    }
}

impl<R: Read> VCardContacts<R> {
    /// Reads vCards from `reader`.
    pub fn from_reader(reader: R) -> Self {
        Self::resumed(reader, VCardResume { byte: 0, line: 1, cards: 0 }, None)
    }

    /// Reads from a reader already positioned at `at` (for paging).
    pub(crate) fn resumed(reader: R, at: VCardResume, path: Option<PathBuf>) -> Self {
        Self {
            input: BufReader::new(reader),
            path,
            pending: None,
            next_line: at.line.max(1),
            offset: at.byte,
            cards: at.cards,
            done: false,
        }
    }

    /// Bytes of the input consumed so far (for a progress bar).
    #[must_use]
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    /// Where the next unread line starts.
    pub(crate) fn resume_point(&self) -> VCardResume {
        match &self.pending {
            Some(p) => VCardResume { byte: p.start, line: p.line, cards: self.cards },
            None => VCardResume { byte: self.offset, line: self.next_line, cards: self.cards },
        }
    }

    fn read_physical(&mut self) -> Result<Option<Physical>, FileError> {
        if let Some(p) = self.pending.take() {
            return Ok(Some(p));
        }
        let mut bytes = Vec::new();
        let n = self.input.read_until(b'\n', &mut bytes).map_err(|e| FileError::io(self.path.as_deref(), e))?;
        if n == 0 {
            return Ok(None);
        }
        let physical = Physical { line: self.next_line, start: self.offset, bytes: trim_line_end(bytes) };
        self.offset += n as u64;
        self.next_line += 1;
        Ok(Some(physical))
    }

    fn peek_physical(&mut self) -> Result<Option<&Physical>, FileError> {
        if self.pending.is_none() {
            self.pending = self.read_physical()?;
        }
        Ok(self.pending.as_ref())
    }

    /// The next content line with folds and quoted-printable soft breaks joined.
    fn read_logical(&mut self) -> Result<Option<Logical>, FileError> {
        let Some(first) = self.read_physical()? else { return Ok(None) };
        let mut bytes = first.bytes;
        let quoted_printable = header_says_quoted_printable(&bytes);
        let base64 = header_says_base64(&bytes);
        loop {
            let soft_break = quoted_printable && bytes.last() == Some(&b'=');
            let Some(next) = self.peek_physical()? else { break };
            let folded = matches!(next.bytes.first(), Some(b' ' | b'\t'));
            // vCard 2.1 writers may continue base64 without indenting, ending with a blank line.
            let bare_base64 = base64 && !next.bytes.is_empty() && next.bytes.iter().all(|b| is_base64_byte(*b));
            if !(folded || soft_break || bare_base64) {
                if base64 && next.bytes.is_empty() {
                    self.pending = None;
                }
                break;
            }
            let Some(next) = self.pending.take() else { break };
            if soft_break {
                bytes.pop();
            }
            let skip = usize::from(folded && !soft_break);
            bytes.extend_from_slice(next.bytes.get(skip..).unwrap_or_default());
        }
        Ok(Some(Logical { line: first.line, bytes }))
    }

    fn read_card(&mut self) -> Option<Result<VCardRecord, FileError>> {
        // Find the next BEGIN:VCARD; anything else outside a card is skipped.
        let begin = loop {
            match self.read_logical() {
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
                Ok(Some(l)) => {
                    if parse_property(&l).is_ok_and(|p| p.name == "BEGIN" && value_is(&p, "VCARD")) {
                        break l.line;
                    }
                }
            }
        };
        self.cards += 1;
        let ordinal = self.cards;
        let mut properties = Vec::new();
        let mut nested: Vec<(String, u64)> = Vec::new();
        loop {
            let logical = match self.read_logical() {
                Ok(Some(l)) => l,
                Ok(None) => {
                    return Some(Err(FileError::VCard {
                        line: begin,
                        property: None,
                        message: "BEGIN:VCARD has no END:VCARD".to_owned(),
                    }));
                }
                Err(e) => return Some(Err(e)),
            };
            if logical.bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let property = match parse_property(&logical) {
                Ok(p) => p,
                Err(e) => return Some(Err(e)),
            };
            match property.name.as_str() {
                "BEGIN" => nested.push((value_text(&property), property.line)),
                "END" => {
                    let what = value_text(&property);
                    match nested.pop() {
                        Some((open, _)) if open.eq_ignore_ascii_case(&what) => {}
                        Some((open, line)) => {
                            return Some(Err(
                                property.error(format!("END:{what} does not close BEGIN:{open} (line {line})"))
                            ));
                        }
                        None if what.eq_ignore_ascii_case("VCARD") => break,
                        None => {
                            return Some(Err(
                                property.error(format!("END:{what} inside the vCard that begins on line {begin}"))
                            ));
                        }
                    }
                }
                _ if !nested.is_empty() => {}
                _ => properties.push(property),
            }
        }
        Some(build_card(begin, ordinal, &properties))
    }
}

impl<R: Read> Iterator for VCardContacts<R> {
    type Item = Result<VCardRecord, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.read_card();
        match &item {
            None | Some(Err(FileError::Io { .. })) => self.done = true,
            Some(Err(FileError::VCard { message, .. })) if message.ends_with("has no END:VCARD") => self.done = true,
            _ => {}
        }
        item
    }
}

fn trim_line_end(mut bytes: Vec<u8>) -> Vec<u8> {
    while matches!(bytes.last(), Some(b'\n' | b'\r')) {
        bytes.pop();
    }
    bytes
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

/// The part of a content line before its first unquoted colon.
fn header_part(bytes: &[u8]) -> &[u8] {
    let mut quoted = false;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return &bytes[..i],
            _ => {}
        }
    }
    bytes
}

fn header_contains(bytes: &[u8], needle: &[u8]) -> bool {
    let header = header_part(bytes);
    header.len() >= needle.len() && header.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

fn header_says_quoted_printable(bytes: &[u8]) -> bool {
    header_contains(bytes, b"QUOTED-PRINTABLE")
}

fn header_says_base64(bytes: &[u8]) -> bool {
    header_contains(bytes, b"ENCODING=BASE64") || header_contains(bytes, b"ENCODING=B;")
}

fn value_is(p: &Property, expected: &str) -> bool {
    value_text(p).eq_ignore_ascii_case(expected)
}

fn value_text(p: &Property) -> String {
    String::from_utf8_lossy(&p.value).trim().to_owned()
}

/// Splits on `sep` outside double quotes.
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

fn parse_property(logical: &Logical) -> Result<Property, FileError> {
    let header_bytes = header_part(&logical.bytes);
    let error = |message: String| FileError::VCard { line: logical.line, property: None, message };
    if header_bytes.len() == logical.bytes.len() {
        let shown: String = String::from_utf8_lossy(&logical.bytes).chars().take(40).collect();
        return Err(error(format!("expected `NAME:value`, found `{shown}`")));
    }
    let value = logical.bytes[header_bytes.len() + 1..].to_vec();
    let header = String::from_utf8_lossy(header_bytes);
    let mut tokens = split_unquoted(&header, ';').into_iter();
    let full_name = tokens.next().unwrap_or_default().trim();
    let (group, name) = match full_name.rsplit_once('.') {
        Some((g, n)) => (Some(g.to_owned()), n),
        None => (None, full_name),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        let shown: String = full_name.chars().take(40).collect();
        return Err(error(format!("`{shown}` is not a property name")));
    }
    let mut params = Vec::new();
    for token in tokens {
        let token = token.trim();
        if token.is_empty() {
            continue;
        }
        let (key, values) = match token.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_uppercase(), v),
            None => {
                let bare = token.to_ascii_uppercase();
                let key = match bare.as_str() {
                    "QUOTED-PRINTABLE" | "BASE64" | "8BIT" | "7BIT" => "ENCODING",
                    _ => "TYPE",
                };
                (key.to_owned(), token)
            }
        };
        for v in split_unquoted(values, ',') {
            let v = v.trim().trim_matches('"');
            // 4.0 writes TYPE="voice,cell": one quoted list.
            for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                params.push((key.clone(), part.to_owned()));
            }
        }
    }
    Ok(Property { line: logical.line, group, name: name.to_ascii_uppercase(), params, value })
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes quoted-printable; soft breaks were already joined, an `=` not followed by two hex
/// digits is kept as it is.
#[must_use]
pub fn decode_quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'=' {
            let hi = input.get(i + 1).copied().and_then(hex_value);
            let lo = input.get(i + 2).copied().and_then(hex_value);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
            if i + 1 == input.len() {
                break; // a trailing soft break
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Windows-1252's characters for bytes 0x80-0x9F (Latin-1 has control codes there).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘', '’',
    '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

fn decode_cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| if (0x80..0xA0).contains(&b) { CP1252_HIGH[usize::from(b - 0x80)] } else { char::from(b) })
        .collect()
}

/// Bytes to text by `CHARSET`: UTF-8 (the default; Windows-1252 when the bytes are not UTF-8),
/// Latin-1 / Windows-1252. Other charsets are accepted when the bytes happen to be UTF-8.
fn decode_charset(bytes: Vec<u8>, charset: Option<&str>) -> Result<String, String> {
    let charset = charset.map(|c| c.trim().to_ascii_lowercase());
    match charset.as_deref() {
        Some("iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "windows-1252" | "cp1252" | "iso-8859-15") => {
            Ok(decode_cp1252(&bytes))
        }
        None | Some("utf-8" | "utf8" | "us-ascii" | "ascii") => {
            String::from_utf8(bytes).or_else(|e| Ok(decode_cp1252(e.as_bytes())))
        }
        Some(other) => String::from_utf8(bytes)
            .map_err(|_| format!("CHARSET `{other}` is not supported (use UTF-8, ISO-8859-1 or Windows-1252)")),
    }
}

/// Undoes vCard text escapes: `\n`, `\,`, `\;`, `\\`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(e @ (',' | ';' | '\\' | ':')) => out.push(e),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Splits a still-escaped value on unescaped `sep`, unescaping each part.
fn split_escaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(unescape(&s[start..i]));
            start = i + c.len_utf8();
        }
    }
    parts.push(unescape(&s[start..]));
    parts
}

fn non_empty(s: impl Into<String>) -> Option<String> {
    let s = s.into();
    let t = s.trim();
    if t.is_empty() { None } else { Some(t.to_owned()) }
}

fn phone_label(p: &Property, labels: &[(String, String)]) -> Option<String> {
    let types: Vec<String> = p.types().collect();
    let has = |names: &[&str]| types.iter().any(|t| names.contains(&t.as_str()));
    let label = if has(&["fax"]) {
        Some("fax")
    } else if has(&["pager"]) {
        Some("pager")
    } else if has(&["cell", "mobile", "iphone"]) {
        Some("mobile")
    } else if has(&["work"]) {
        Some("work")
    } else if has(&["home"]) {
        Some("home")
    } else {
        None
    };
    label.map(str::to_owned).or_else(|| group_label(p, labels))
}

/// Apple's `item1.X-ABLabel:_$!<Mobile>!$_` labels the other properties of group `item1`.
fn group_label(p: &Property, labels: &[(String, String)]) -> Option<String> {
    let group = p.group.as_deref()?;
    let (_, label) = labels.iter().find(|(g, _)| g.eq_ignore_ascii_case(group))?;
    let cleaned = label.trim_start_matches("_$!<").trim_end_matches(">!$_").trim().to_ascii_lowercase();
    non_empty(cleaned)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> &'a str {
    match s.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(prefix) => &s[prefix.len()..],
        _ => s,
    }
}

fn add_custom(raw: &mut RawContact, key: &str, value: String) {
    let Some(value) = non_empty(value) else { return };
    raw.custom
        .entry(key.to_owned())
        .and_modify(|v| {
            v.push('\n');
            v.push_str(&value);
        })
        .or_insert(value);
}

fn set_address(raw: &mut RawContact, parts: &[String]) {
    let part = |i: usize| parts.get(i).and_then(|p| non_empty(p.as_str()));
    let street = part(2);
    let mut lines = street.as_deref().unwrap_or_default().lines().map(str::trim).filter(|l| !l.is_empty());
    raw.street = lines.next().map(str::to_owned);
    let rest: Vec<&str> = lines.collect();
    let mut second: Vec<String> = [part(1), part(0)].into_iter().flatten().collect();
    if !rest.is_empty() {
        second.insert(0, rest.join(", "));
    }
    raw.street2 = non_empty(second.join(", "));
    raw.city = part(3);
    raw.state = part(4);
    raw.postcode = part(5);
    raw.country = part(6);
}

const BINARY: &[&str] = &["PHOTO", "LOGO", "SOUND", "KEY"];
const IGNORED: &[&str] = &["VERSION", "PRODID", "X-ABLABEL"];

fn build_card(line: u64, ordinal: u64, properties: &[Property]) -> Result<VCardRecord, FileError> {
    let mut raw = RawContact::default();
    let mut version = None;
    let labels: Vec<(String, String)> = properties
        .iter()
        .filter(|p| p.name == "X-ABLABEL")
        .filter_map(|p| Some((p.group.clone()?, p.decoded().ok()?)))
        .collect();
    let mut emails: Vec<(u32, String)> = Vec::new();
    let mut phones: Vec<(u32, String, Option<String>)> = Vec::new();
    let mut addresses: Vec<(u32, Vec<String>)> = Vec::new();
    for p in properties {
        if BINARY.contains(&p.name.as_str()) {
            continue;
        }
        if p.name == "VERSION" {
            version = non_empty(value_text(p));
        }
        if IGNORED.contains(&p.name.as_str()) {
            continue;
        }
        let text = p.decoded()?;
        match p.name.as_str() {
            "FN" if raw.name.is_none() => raw.name = non_empty(unescape(&text)),
            "N" if raw.family_name.is_none() && raw.given_name.is_none() => {
                let parts = split_escaped(&text, ';');
                let part = |i: usize| parts.get(i).and_then(|s| non_empty(s.as_str()));
                raw.family_name = part(0);
                raw.given_name = part(1);
                for (i, key) in [(2, "middle_name"), (3, "name_prefix"), (4, "name_suffix")] {
                    if let Some(v) = part(i) {
                        add_custom(&mut raw, key, v);
                    }
                }
            }
            "EMAIL" => {
                if let Some(e) = non_empty(strip_prefix_ci(unescape(&text).trim(), "mailto:")) {
                    emails.push((p.pref_rank(), e));
                }
            }
            "TEL" => {
                if let Some(t) = non_empty(strip_prefix_ci(unescape(&text).trim(), "tel:")) {
                    phones.push((p.pref_rank(), t, phone_label(p, &labels)));
                }
            }
            "ORG" if raw.company.is_none() => {
                let parts: Vec<String> = split_escaped(&text, ';').into_iter().filter_map(non_empty).collect();
                let mut parts = parts.into_iter();
                raw.company = parts.next();
                let units: Vec<String> = parts.collect();
                if !units.is_empty() {
                    add_custom(&mut raw, "department", units.join(" / "));
                }
            }
            "TITLE" if raw.job_title.is_none() => raw.job_title = non_empty(unescape(&text)),
            "ADR" => addresses.push((p.pref_rank(), split_escaped(&text, ';'))),
            "BDAY" if raw.birthday.is_none() => raw.birthday = non_empty(unescape(&text)),
            "CATEGORIES" => raw.tags.extend(split_escaped(&text, ',').into_iter().filter_map(non_empty)),
            "UID" if raw.id.is_none() => raw.id = non_empty(unescape(&text)),
            other => add_custom(&mut raw, &other.to_ascii_lowercase(), unescape(&text)),
        }
    }
    emails.sort_by_key(|(rank, _)| *rank);
    phones.sort_by_key(|(rank, _, _)| *rank);
    addresses.sort_by_key(|(rank, _)| *rank);
    raw.emails = emails.into_iter().map(|(_, e)| e).collect();
    raw.phones = phones.into_iter().map(|(_, t, l)| (t, l)).collect();
    let mut addresses = addresses.into_iter();
    if let Some((_, first)) = addresses.next() {
        set_address(&mut raw, &first);
    }
    for (_, other) in addresses {
        let joined: Vec<String> = other.iter().filter_map(|p| non_empty(p.replace('\n', ", "))).collect::<Vec<_>>();
        add_custom(&mut raw, "other_address", joined.join(", "));
    }
    if raw.id.is_none() {
        raw.id = Some(ordinal.to_string());
    }
    Ok(VCardRecord { line, ordinal, version, raw })
}
