//! In-memory fakes of the storage ports and the storage contract suites.
