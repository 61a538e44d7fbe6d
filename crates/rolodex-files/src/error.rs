//! [`FileError`]: everything that can go wrong reading a contact file or a `--map` spec. Every variant
//! names where: the path, the line, the column or vCard property, or the field of the map.

use std::path::PathBuf;

/// An error reading a CSV or vCard file, or parsing a column map.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file (`<input>` for a reader without a path).
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A malformed CSV row or cell.
    #[error("line {line}: {}{message}", column.as_ref().map(|c| format!("column `{c}`: ")).unwrap_or_default())]
    Csv {
        /// The 1-based line in the file where the record starts.
        line: u64,
        /// The column at fault, when one is.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A `--map` entry names a field that does not exist.
    #[error("--map: unknown field `{field}`; valid fields are {}", valid.join(", "))]
    UnknownField {
        /// The name given.
        field: String,
        /// Every valid field name.
        valid: Vec<&'static str>,
    },
    /// A `--map` entry names a column the file lacks.
    #[error("--map: field `{field}` takes column `{column}`, which the file lacks (its columns: {})", available.join(", "))]
    MissingColumn {
        /// The field being mapped.
        field: String,
        /// The missing column.
        column: String,
        /// The file's columns, to help the user.
        available: Vec<String>,
    },
    /// A `--map` spec that cannot be read (no `=`, an empty column, a field given twice).
    #[error("--map: {0}")]
    BadMap(String),
    /// A malformed vCard (a line that is not `NAME:value`, a card without `END:VCARD`, a value that
    /// cannot be decoded).
    #[error("line {line}: {}{message}", property.as_ref().map(|p| format!("property `{p}`: ")).unwrap_or_default())]
    VCard {
        /// The 1-based line where the problem starts.
        line: u64,
        /// The vCard property at fault (`TEL`, `N`, ...), when one is.
        property: Option<String>,
        /// What is wrong.
        message: String,
    },
}

impl FileError {
    pub(crate) fn io(path: Option<&std::path::Path>, source: std::io::Error) -> Self {
        Self::Io { path: path.map_or_else(|| PathBuf::from("<input>"), std::path::Path::to_path_buf), source }
    }

    /// The column or property the error names, if any.
    #[must_use]
    pub fn column(&self) -> Option<&str> {
        match self {
            Self::Csv { column, .. } => column.as_deref(),
            Self::VCard { property, .. } => property.as_deref(),
            Self::MissingColumn { column, .. } => Some(column),
            _ => None,
        }
    }

    /// The 1-based line the error names, if any.
    #[must_use]
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::Csv { line, .. } | Self::VCard { line, .. } => Some(*line),
            _ => None,
        }
    }
}
