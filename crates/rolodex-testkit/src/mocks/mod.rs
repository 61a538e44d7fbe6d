//! Mock provider servers on 127.0.0.1, port 0, that behave like the real APIs as
//! `shared/design/provider-apis.md` describes: pages, cursors, deletions, expired cursors, 429 with
//! `Retry-After`, 401 then a refresh, `invalid_grant`, and their exact error bodies.

mod common;
pub mod ghl;
pub mod google;
pub mod graph;
