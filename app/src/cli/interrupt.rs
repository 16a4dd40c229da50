//! Ctrl-C (and SIGTERM) for long commands: the first asks the running job to stop at its next
//! frame or batch, so that its temporary files are removed and it can say what it kept; a second
//! ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;

/// The flag, shared with the signal handlers.
fn shared() -> &'static Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// The flag the first signal sets, for a command to pass to the engine as its cancel flag.
pub fn flag() -> &'static AtomicBool {
    shared()
}

/// Whether a signal has asked the command to stop.
pub fn requested() -> bool {
    flag().load(Ordering::Relaxed)
}

/// Routes SIGINT and SIGTERM to [`flag`]. Only for commands that poll it: others keep the default
/// (the process ends at once).
pub fn install() -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let shared = shared();
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag as it was before this signal: set only by an
        // earlier one. 130 is the shell's code for a process ended by Ctrl-C.
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(shared))
            .context("cannot watch for Ctrl-C")?;
        signal_hook::flag::register(signal, Arc::clone(shared)).context("cannot watch for Ctrl-C")?;
    }
    Ok(())
}
