//! `embed_migrations!` reads `migrations/` at compile time but cannot tell cargo so: without this,
//! adding a migration (and nothing else) would leave the old set embedded.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
