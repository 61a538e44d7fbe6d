//! [`shutdown_signal`]: what the binaries wait for before they stop claiming jobs and serving
//! requests: SIGTERM (a service manager, a container runtime) or Ctrl-C.

/// Completes on SIGTERM or Ctrl-C (Ctrl-C only where SIGTERM cannot be listened to, with a warning).
#[cfg(unix)]
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
pub async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
