//! Mock ghl server.
