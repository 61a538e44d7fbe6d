//! A seeded generator of realistic contacts with known duplicates, for benchmarks and quality tests.
