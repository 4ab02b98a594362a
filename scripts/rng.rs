//! xorshift64*: the deterministic generator of the generated test and
//! bench logs (scripts/loggen.rs and tests/log_parallel.rs include it).

/// The generator state (any non-zero seed).
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (not quite uniform; fine for test data).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One of `v`, picked at random.
    #[allow(dead_code)] // (the test log does not pick)
    pub fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len() as u64) as usize]
    }
}
