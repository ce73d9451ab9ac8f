// Cargo builds build-dependencies only for a package with a build script; the
// [build-dependencies] above unify the features of proc-macro crates (syn).
fn main() {}
