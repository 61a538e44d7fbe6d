//! The end-to-end test package. Its tests live in `it/`; this library is empty on purpose.
