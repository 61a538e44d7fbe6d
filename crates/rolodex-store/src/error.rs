//! The store's internal error and its translation into the port error enums of
//! `rolodex-domain` (driver errors never cross the port boundary untranslated).

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use rolodex_domain::ports::storage::{ConnectionStoreError, JobQueueError, StorageError};

/// What went wrong inside the store.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DbError {
    #[error(transparent)]
    Diesel(#[from] DieselError),
    #[error("database connection pool: {0}")]
    Pool(String),
    #[error("{entity} `{id}` not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{entity} `{id}` changed concurrently (current version {current_version})")]
    Conflict { entity: &'static str, id: String, current_version: i64 },
    #[error("{0} already exists")]
    Duplicate(String),
    #[error("{0}")]
    Invalid(String),
    #[error("a stored row cannot be read: {0}")]
    Corrupt(String),
    #[error("tokens of connection `{0}` cannot be decrypted")]
    Undecryptable(String),
}

impl DbError {
    pub(crate) fn pool(e: impl std::fmt::Display) -> Self {
        Self::Pool(e.to_string())
    }

    pub(crate) fn not_found(entity: &'static str, id: impl std::fmt::Display) -> Self {
        Self::NotFound { entity, id: id.to_string() }
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }

    /// Translates into a port error.
    pub(crate) fn into_port<E: StorageError>(self) -> E {
        match self {
            Self::NotFound { entity, id } => E::not_found(entity, id),
            Self::Conflict { entity, id, current_version } => E::conflict(entity, id, current_version),
            Self::Duplicate(what) => E::duplicate(what),
            Self::Invalid(message) => E::invalid(message),
            Self::Diesel(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                E::duplicate(info.constraint_name().map_or_else(|| info.message().to_owned(), ToOwned::to_owned))
            }
            Self::Diesel(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info)) => {
                E::invalid(format!("a referenced row does not exist: {}", info.message()))
            }
            other => E::unexpected(Box::new(other)),
        }
    }

    pub(crate) fn into_job_error(self) -> JobQueueError {
        self.into_port()
    }

    pub(crate) fn into_connection_error(self) -> ConnectionStoreError {
        match self {
            Self::Undecryptable(id) => ConnectionStoreError::Undecryptable(id),
            other => other.into_port(),
        }
    }
}

pub(crate) type DbResult<T> = Result<T, DbError>;
