//! A repeatable sample of mutants: `n` of them chosen by a seeded shuffle, and a regex for
//! cargo-mutants' `--re` that matches exactly those names.

/// splitmix64: small, and the same sequence for a seed on every machine and Rust version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0); the modulo bias is irrelevant at these sizes.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `n` of `names` (all of them if there are fewer), chosen by `seed`, in their given order.
pub fn choose(names: &[String], n: usize, seed: u64) -> Vec<String> {
    let mut order: Vec<usize> = (0..names.len()).collect();
    let mut rng = Rng(seed);
    let n = n.min(order.len());
    // The first n steps of a Fisher-Yates shuffle.
    for i in 0..n {
        let j = i + rng.below(order.len() - i);
        order.swap(i, j);
    }
    let mut chosen = order[..n].to_vec();
    chosen.sort_unstable();
    chosen.into_iter().map(|i| names[i].clone()).collect()
}

/// A regex (the `regex` crate's syntax) that matches each of `names` whole, and nothing else.
pub fn exactly(names: &[String]) -> String {
    let alternatives: Vec<String> = names
        .iter()
        .map(|name| format!("^{}$", escape(name)))
        .collect();
    alternatives.join("|")
}

/// `text` with every regex meta character escaped, as `regex::escape` does.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("src/a.rs:{i}:1: replace f{i}"))
            .collect()
    }

    #[test]
    fn a_seed_always_chooses_the_same_sample_in_source_order() {
        let all = names(50);
        let sample = choose(&all, 5, 7);
        assert_eq!(sample, choose(&all, 5, 7));
        assert_eq!(sample.len(), 5);
        let positions: Vec<usize> = sample
            .iter()
            .map(|s| all.iter().position(|n| n == s).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        assert_ne!(sample, choose(&all, 5, 8));
    }

    #[test]
    fn a_sample_larger_than_the_list_is_the_list() {
        assert_eq!(choose(&names(3), 10, 1), names(3));
    }

    #[test]
    fn the_regex_escapes_names() {
        let names = vec!["src/a.rs:1:2: replace <impl Drop for M>::drop with ()".to_string()];
        assert_eq!(
            exactly(&names),
            r"^src/a\.rs:1:2: replace <impl Drop for M>::drop with \(\)$"
        );
    }
}
