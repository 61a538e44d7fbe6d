//! Mock graph server.
