//! Mock google server.
