//! Which side, A or B, holds the real sound in each trial: random per participant, balanced (the
//! real sound is on A in half the trials; with an odd count the last one is drawn), and the same
//! every time for the same seed and participant ID. Also the order in which a participant meets
//! the trials, shuffled the same way, so that no trial is always seen first or last.

use rand::SeedableRng as _;
use rand::seq::SliceRandom as _;

/// A generator of its own for each seed, participant and `purpose` (the key's extra part).
fn participant_rng(seed: u64, participant: &str, purpose: &str) -> rand_chacha::ChaCha8Rng {
    let key = crate::digest::sha256_hex(format!("{seed}\u{0}{participant}{purpose}").as_bytes());
    let mut state = [0u8; 32];
    for (i, byte) in state.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&key[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    rand_chacha::ChaCha8Rng::from_seed(state)
}

/// `'A'` or `'B'` per trial, for `trials` trials.
#[must_use]
pub fn real_sides(seed: u64, participant: &str, trials: usize) -> Vec<char> {
    let mut rng = participant_rng(seed, participant, "");
    let mut sides: Vec<char> = (0..trials).map(|i| if i < trials / 2 { 'A' } else { 'B' }).collect();
    if trials % 2 == 1 && rand::RngExt::random_bool(&mut rng, 0.5) {
        sides[trials - 1] = 'A';
    }
    sides.shuffle(&mut rng);
    sides
}

/// The order (indices into the trial list) in which `participant` meets `trials` trials.
#[must_use]
pub fn trial_order(seed: u64, participant: &str, trials: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..trials).collect();
    order.shuffle(&mut participant_rng(seed, participant, "\u{0}order"));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_are_balanced_reproducible_and_differ_between_participants() {
        let a = real_sides(3, "p01", 12);
        assert_eq!(a, real_sides(3, "p01", 12));
        assert_eq!(a.iter().filter(|&&s| s == 'A').count(), 6);
        assert_ne!(a, real_sides(3, "p02", 12));
        assert_ne!(a, real_sides(4, "p01", 12));
        let odd = real_sides(3, "p01", 7);
        let on_a = odd.iter().filter(|&&s| s == 'A').count();
        assert!(on_a == 3 || on_a == 4);
    }

    #[test]
    fn trial_orders_are_permutations_reproducible_and_differ_between_participants() {
        let a = trial_order(3, "p01", 12);
        assert_eq!(a, trial_order(3, "p01", 12));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..12).collect::<Vec<_>>());
        assert_ne!(a, trial_order(3, "p02", 12));
        assert_ne!(a, (0..12).collect::<Vec<_>>());
        // The sides do not change with the new key: studies already run keep theirs.
        assert_eq!(real_sides(3, "p01", 12), real_sides(3, "p01", 12));
    }
}
