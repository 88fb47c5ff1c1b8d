//! Test-only fault injection for the read counter, set with
//! `wrangler dev --var COUNTER_FAULT:...`. Never set in production, where every hook here
//! does nothing.

use std::time::Duration;
use worker::{Delay, Env, Result};

const FAULT_VAR: &str = "COUNTER_FAULT";
/// How late a `slow=` counter answers when its number does not parse.
const SLOW_DEFAULT_MS: u64 = 200;

/// A fault to inject, as `COUNTER_FAULT` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `throw`: the object fails every call.
    Throw,
    /// `slow=MS`: the object answers MS late.
    Slow(u64),
    /// `unreachable`: no call gets through to the object.
    Unreachable,
    /// `panic`: the Worker panics while it sends reads.
    Panic,
}

impl Fault {
    /// The fault `COUNTER_FAULT` names; `None` when it is unset, empty or names none.
    pub fn from_env(env: &Env) -> Option<Self> {
        Self::parse(&env.var(FAULT_VAR).ok()?.to_string())
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "throw" => Some(Self::Throw),
            "unreachable" => Some(Self::Unreachable),
            "panic" => Some(Self::Panic),
            _ => value
                .strip_prefix("slow=")
                .map(|ms| Self::Slow(ms.parse().unwrap_or(SLOW_DEFAULT_MS))),
        }
    }
}

/// In the object, before it answers a call: `throw` fails it, `slow=MS` delays it.
pub async fn before_answer(fault: Option<Fault>) -> Result<()> {
    match fault {
        Some(Fault::Throw) => Err(worker::Error::RustError(
            "injected fault: counter throws".into(),
        )),
        Some(Fault::Slow(ms)) => {
            Delay::from(Duration::from_millis(ms)).await;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// In the client, before it reaches for an object: `unreachable` stops it.
pub fn before_reaching(fault: Option<Fault>) -> Result<()> {
    if fault == Some(Fault::Unreachable) {
        return Err(worker::Error::RustError(
            "injected fault: counter unreachable".into(),
        ));
    }
    Ok(())
}

/// In the client, before it sends a batch: `panic` panics, a bug in the Worker itself (the
/// wasm instance aborts in the middle of a flush).
pub fn before_sending(fault: Option<Fault>) {
    if fault == Some(Fault::Panic) {
        panic!("injected fault: the counter client panics");
    }
}
