//! The route handlers, one module per area; each module's `routes()` registers its handlers with
//! their OpenAPI paths, so a route cannot be served without being documented.

pub(crate) mod audit;
pub(crate) mod connections;
pub(crate) mod contacts;
pub(crate) mod ops;
pub(crate) mod runs;
pub(crate) mod tools;
pub(crate) mod webhooks;
