//! Bulk enrollment on the test bench, side by side with the manual workflow (being built).

fn main() {}
