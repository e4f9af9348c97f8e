//! The part of Python's `random` module that the standard graph is drawn with.
//!
//! Owns: a Mersenne Twister (MT19937) seeded the way CPython seeds it from an integer,
//! and the draws `gen_graph.py` makes — `random()`, `randint`, `choice`, `shuffle` and
//! `choices` with cumulative weights — each consuming the generator exactly as CPython
//! 3.x does. Promises: for the same seed, the same sequence of values as Python, so
//! `weft bench` loads the very graph `shared/bench/gen_graph.py` writes (a test compares
//! the two byte for byte).

const N: usize = 624;
const M: usize = 397;

/// CPython's `random.Random`, reduced to what the benchmark draws.
pub struct PyRandom {
    state: [u32; N],
    index: usize,
}

impl PyRandom {
    /// `random.Random(seed)` for a non-negative integer seed.
    pub fn new(seed: u64) -> PyRandom {
        // CPython splits the seed's absolute value into 32-bit words, low word first.
        let mut key = vec![seed as u32];
        if seed >> 32 != 0 {
            key.push((seed >> 32) as u32);
        }
        let mut random = PyRandom {
            state: [0; N],
            index: N,
        };
        random.init_by_array(&key);
        random
    }

    fn init_genrand(&mut self, seed: u32) {
        self.state[0] = seed;
        for i in 1..N {
            let previous = self.state[i - 1];
            self.state[i] = 1_812_433_253u32
                .wrapping_mul(previous ^ (previous >> 30))
                .wrapping_add(i as u32);
        }
        self.index = N;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let previous = self.state[i - 1];
            self.state[i] = (self.state[i] ^ (previous ^ (previous >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                self.state[0] = self.state[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let previous = self.state[i - 1];
            self.state[i] =
                (self.state[i] ^ (previous ^ (previous >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                self.state[0] = self.state[N - 1];
                i = 1;
            }
        }
        self.state[0] = 0x8000_0000;
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn twist(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        for k in 0..N {
            let y = (self.state[k] & UPPER) | (self.state[(k + 1) % N] & LOWER);
            let mag = if y & 1 == 0 { 0 } else { 0x9908_b0df };
            self.state[k] = self.state[(k + M) % N] ^ (y >> 1) ^ mag;
        }
        self.index = 0;
    }

    /// `random()`: a float in [0, 1) with 53 random bits.
    pub fn random(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `_randbelow(n)`: uniform in `0..n`, by rejection on `n.bit_length()` bits.
    pub fn below(&mut self, n: u32) -> u32 {
        assert!(n > 0, "below(0)");
        let bits = 32 - n.leading_zeros();
        loop {
            let r = self.next_u32() >> (32 - bits);
            if r < n {
                return r;
            }
        }
    }

    /// `randint(low, high)`, both ends included.
    pub fn randint(&mut self, low: i64, high: i64) -> i64 {
        let width = u32::try_from(high - low + 1).expect("randint range fits in 32 bits");
        low + i64::from(self.below(width))
    }

    /// `choice(items)`.
    pub fn choice<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let len = u32::try_from(items.len()).expect("choice from at most 2^32 items");
        &items[self.below(len) as usize]
    }

    /// `shuffle(items)` in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(u32::try_from(i + 1).expect("shuffle of at most 2^32 items")) as usize;
            items.swap(i, j);
        }
    }

    /// `choices(population, cum_weights=cumulative, k=count)`.
    pub fn choices<T: Copy>(&mut self, population: &[T], cumulative: &[f64], count: usize) -> Vec<T> {
        let total = cumulative.last().copied().unwrap_or(0.0);
        let hi = population.len().saturating_sub(1);
        (0..count)
            .map(|_| {
                let x = self.random() * total;
                // bisect_right over cumulative[..hi]
                let index = cumulative[..hi].partition_point(|&w| w <= x);
                population[index]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::PyRandom;

    #[test]
    fn matches_cpython_for_seed_42() {
        // Known CPython values: random.Random(42).random() and the next getrandbits(32).
        let mut r = PyRandom::new(42);
        assert_eq!(r.random(), 0.6394267984578837);
        let mut r = PyRandom::new(42);
        assert_eq!(r.next_u32(), 2_746_317_213);
    }

    #[test]
    fn draws_consume_the_generator_as_cpython_does() {
        // random.Random(42): [randint(18, 80) x3], choice(range(26)), shuffle(range(10)),
        // choices([1, 2, 3], cum_weights=[1.0, 1.5, 1.8], k=5), as CPython 3.11 prints them.
        let mut r = PyRandom::new(42);
        let ages: Vec<i64> = (0..3).map(|_| r.randint(18, 80)).collect();
        let letters: Vec<u32> = (0..26).collect();
        let letter = *r.choice(&letters);
        let mut items: Vec<u32> = (0..10).collect();
        r.shuffle(&mut items);
        let chosen = r.choices(&[1, 2, 3], &[1.0, 1.5, 1.8], 5);
        assert_eq!(ages, [58, 25, 19]);
        assert_eq!(letter, 23);
        assert_eq!(items, [7, 6, 2, 9, 0, 5, 1, 8, 3, 4]);
        assert_eq!(chosen, [1, 1, 1, 2, 2]);
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = PyRandom::new(7);
        assert!((0..10_000).all(|_| r.below(37) < 37));
        assert_eq!(r.below(1), 0);
    }
}
