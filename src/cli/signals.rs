//! SIGINT/SIGTERM: the first stops the test gracefully (summary still
//! printed); a second one exits at once.

use std::io::Write;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::oneshot;

use crate::exit_code;

/// Returns a receiver that fires on the first signal; on the second the
/// process exits with the interrupted code.
pub fn install() -> oneshot::Receiver<()> {
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            tracing::warn!(
                "cannot install signal handlers; Ctrl-C will end the process without a summary"
            );
            return;
        };
        tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
        let _ = writeln!(
            std::io::stderr(),
            "\nstopping: waiting for VUs to stop (press Ctrl-C again to exit now)"
        );
        let _ = tx.send(());
        tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
        let _ = writeln!(
            std::io::stderr(),
            "interrupted again: exiting without a summary"
        );
        std::process::exit(exit_code::INTERRUPTED);
    });
    rx
}
