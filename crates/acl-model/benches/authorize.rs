//! Placeholder, replaced by the AuthorizerBenchmark reproduction.

fn main() {}
