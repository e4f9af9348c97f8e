//! [`Backoff`]: how long to wait before the next attempt at a call that failed.
//!
//! Exponential from `base` up to `cap`, with jitter (each delay drawn from the upper half
//! of its step) so that replicas that lost their MAIN together do not retry in lock-step.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Delays for successive attempts; [`Backoff::reset`] after a success.
#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
    seed: RandomState,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            base,
            cap: cap.max(base),
            attempt: 0,
            seed: RandomState::new(),
        }
    }

    /// The delay before the next attempt: `base * 2^n` capped at `cap`, then jittered into
    /// its upper half.
    pub fn next_delay(&mut self) -> Duration {
        let step = self.base.saturating_mul(1u32 << self.attempt.min(20)).min(self.cap);
        self.attempt = self.attempt.saturating_add(1);
        let mut hasher = self.seed.build_hasher();
        hasher.write_u32(self.attempt);
        let fraction = (hasher.finish() % 1024) as u32;
        step / 2 + step / 2 * fraction / 1024
    }

    /// Starts again from `base` (the call succeeded).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// How many delays were handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

impl Default for Backoff {
    /// 50 ms doubling to at most 5 s.
    fn default() -> Backoff {
        Backoff::new(Duration::from_millis(50), Duration::from_secs(5))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_within_their_jitter_and_reset() {
        let (base, cap) = (Duration::from_millis(10), Duration::from_millis(300));
        let mut backoff = Backoff::new(base, cap);
        let mut step = base;
        for _ in 0..12 {
            let delay = backoff.next_delay();
            assert!(delay >= step / 2 && delay <= step, "{delay:?} outside half of {step:?}");
            step = (step * 2).min(cap);
        }
        assert_eq!(backoff.attempts(), 12);
        backoff.reset();
        assert!(backoff.next_delay() <= base);
    }
}
