//! Router-level tests of `rolodex-web` over a real store: SQLite in a temp dir, and PostgreSQL
//! when `TEST_DATABASE_URL` is set. Requests go through `tower::ServiceExt::oneshot`.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions unwrap too; a failure is a test failure"
)]

mod api;
mod support;
mod webhooks;

/// Runs a scenario on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.
macro_rules! on_both {
    ($name:ident, $scenario:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                $scenario(crate::support::sqlite().await).await;
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                if let Some(app) = crate::support::postgres(concat!(stringify!($name), "::postgres")).await {
                    $scenario(app).await;
                }
            }
        }
    };
}

on_both!(auth_and_tenancy, crate::api::auth_and_tenancy);
on_both!(contacts_crud_search_timeline, crate::api::contacts_crud_search_timeline);
on_both!(connections_lifecycle, crate::api::connections_lifecycle);
on_both!(validation_names_the_field, crate::api::validation_names_the_field);
on_both!(sync_runs_and_tool, crate::api::sync_runs_and_tool);
on_both!(webhook_delivery, crate::webhooks::webhook_delivery);

#[tokio::test(flavor = "multi_thread")]
async fn body_limits_are_413() {
    api::body_limits(support::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_readiness() {
    api::health_and_readiness(support::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_documents_every_route() {
    api::openapi_documents_every_route(support::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_and_methods_are_problems() {
    api::unknown_routes_and_methods(support::sqlite().await).await;
}
