//! Declares the `loom` cfg so `RUSTFLAGS="--cfg loom"` builds without an unexpected-cfg warning.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(loom)");
}
