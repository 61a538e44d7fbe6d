//! The two backends behind one API: a pool per backend, a borrowed connection [`Conn`] that names
//! the backend, and the macros that type-check one query body against both (`each!`) and run a
//! body on a pooled connection (`read!`) or inside a transaction (`tx!`). On SQLite all writes go
//! through a one-connection writer pool (SQLite has a single writer anyway; this turns lock
//! contention into queueing), and reads use a separate reader pool (WAL lets them run alongside).

use diesel::sqlite::SqliteConnection;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;

/// A SQLite connection driven from async code.
pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// The pools of the configured backend.
pub(crate) enum Backend {
    Pg(Pool<AsyncPgConnection>),
    Sqlite { writer: Pool<SqliteConn>, reader: Pool<SqliteConn> },
}

/// A connection of either backend, borrowed for one operation.
pub(crate) enum Conn<'a> {
    Pg(&'a mut AsyncPgConnection),
    Sqlite(&'a mut SqliteConn),
}

/// Runs `$body` with `$c` bound to the concrete connection: the body is written once and
/// type-checked for each backend.
macro_rules! each {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::backend::Conn::Pg(inner) => {
                let $c: &mut diesel_async::AsyncPgConnection = &mut **inner;
                $body
            }
            $crate::backend::Conn::Sqlite(inner) => {
                let $c: &mut $crate::backend::SqliteConn = &mut **inner;
                $body
            }
        }
    };
}

/// Runs `$body` (an expression of type `DbResult<T>`, using `$conn: &mut Conn`) on a pooled
/// connection, outside a transaction (the reader pool on SQLite).
macro_rules! read {
    ($store:expr, |$conn:ident| $body:expr) => {{
        match &*$store.backend {
            $crate::backend::Backend::Pg(pool) => match pool.get().await {
                Ok(mut obj) => {
                    let $conn = &mut $crate::backend::Conn::Pg(&mut obj);
                    let result: $crate::error::DbResult<_> = async { $body }.await;
                    result
                }
                Err(e) => Err($crate::error::DbError::pool(e)),
            },
            $crate::backend::Backend::Sqlite { reader, .. } => match reader.get().await {
                Ok(mut obj) => {
                    let $conn = &mut $crate::backend::Conn::Sqlite(&mut obj);
                    let result: $crate::error::DbResult<_> = async { $body }.await;
                    result
                }
                Err(e) => Err($crate::error::DbError::pool(e)),
            },
        }
    }};
}

/// Runs `$body` inside one transaction (the writer on SQLite); an `Err` rolls everything back.
macro_rules! tx {
    ($store:expr, |$conn:ident| $body:expr) => {{
        use diesel_async::AsyncConnection as _;
        match &*$store.backend {
            $crate::backend::Backend::Pg(pool) => match pool.get().await {
                Ok(mut obj) => {
                    obj.transaction(async |c| {
                        let $conn = &mut $crate::backend::Conn::Pg(c);
                        let result: $crate::error::DbResult<_> = $body;
                        result
                    })
                    .await
                }
                Err(e) => Err($crate::error::DbError::pool(e)),
            },
            $crate::backend::Backend::Sqlite { writer, .. } => match writer.get().await {
                Ok(mut obj) => {
                    obj.transaction(async |c| {
                        let $conn = &mut $crate::backend::Conn::Sqlite(c);
                        let result: $crate::error::DbResult<_> = $body;
                        result
                    })
                    .await
                }
                Err(e) => Err($crate::error::DbError::pool(e)),
            },
        }
    }};
}

/// Inserts an owned `Vec` of rows in multi-row statements of `$per` rows. On PostgreSQL through
/// diesel-async; on SQLite inside one blocking task with synchronous Diesel (diesel-async cannot
/// run SQLite batch inserts, and one task for the whole batch avoids a thread hop per row).
/// `$stmt` builds the statement from `$chunk: &[Row]` and is type-checked for both backends.
macro_rules! insert_batch {
    ($conn:expr, $rows:expr, $per:expr, |$chunk:ident| $stmt:expr) => {{
        let rows = $rows;
        let per: usize = $per;
        match $conn {
            $crate::backend::Conn::Pg(inner) => {
                let c: &mut diesel_async::AsyncPgConnection = &mut **inner;
                let mut n = 0usize;
                for $chunk in rows.chunks(per.max(1)) {
                    n += diesel_async::RunQueryDsl::execute($stmt, c).await?;
                }
                Ok::<usize, $crate::error::DbError>(n)
            }
            $crate::backend::Conn::Sqlite(inner) => inner
                .spawn_blocking(move |c| {
                    let mut n = 0usize;
                    for $chunk in rows.chunks(per.max(1)) {
                        n += diesel::RunQueryDsl::execute($stmt, c)?;
                    }
                    Ok(n)
                })
                .await
                .map_err($crate::error::DbError::from),
        }
    }};
}

pub(crate) use {each, insert_batch, read, tx};

/// A future run on its own tokio task, so its CPU work (building rows, encoding binds) runs on
/// another worker thread than its caller's, beside other such tasks. Dropping it aborts the task
/// at its next await: a transaction it holds is rolled back, as if the future itself was dropped.
pub(crate) struct OwnTask<T>(tokio::task::JoinHandle<T>);

impl<T: Send + 'static> OwnTask<T> {
    pub(crate) fn spawn(work: impl std::future::Future<Output = T> + Send + 'static) -> Self {
        Self(tokio::spawn(work))
    }
}

impl<T> Drop for OwnTask<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for OwnTask<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.get_mut().0).poll(cx)
    }
}
