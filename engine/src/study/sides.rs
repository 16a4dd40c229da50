//! Which side, A or B, holds the real sound in each trial: random per participant, balanced (the
//! real sound is on A in half the trials; with an odd count the last one is drawn), and the same
//! every time for the same seed and participant ID.

use rand::SeedableRng as _;
use rand::seq::SliceRandom as _;

/// `'A'` or `'B'` per trial, for `trials` trials.
#[must_use]
pub fn real_sides(seed: u64, participant: &str, trials: usize) -> Vec<char> {
    let key = crate::digest::sha256_hex(format!("{seed}\u{0}{participant}").as_bytes());
    let mut state = [0u8; 32];
    for (i, byte) in state.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&key[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    let mut rng = rand_chacha::ChaCha8Rng::from_seed(state);
    let mut sides: Vec<char> = (0..trials).map(|i| if i < trials / 2 { 'A' } else { 'B' }).collect();
    if trials % 2 == 1 && rand::RngExt::random_bool(&mut rng, 0.5) {
        sides[trials - 1] = 'A';
    }
    sides.shuffle(&mut rng);
    sides
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
}
