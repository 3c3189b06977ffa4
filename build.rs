//! Build script: asks the linker to place the code a spawned child runs together.
//!
//! A fork copies no page-table entry of the binary's code, so a spawned child
//! faults once on each 64 KB window of code it runs: 14 windows before, 2 with
//! the functions of `tools/child-path.order` side by side (benches/README.md,
//! "spawn + join, round six"). Only LLD reads such a file, and Rust uses it by
//! itself from 1.90 on for this target (a distribution's own Rust build may
//! not: an empty program is linked with the file first); anywhere else nothing
//! is asked.

use std::env;
use std::path::Path;
use std::process::{Command, Stdio};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=tools/child-path.order");
    println!("cargo::rerun-if-env-changed=RUSTC_LINKER");
    println!("cargo::rerun-if-env-changed=RUSTC_WRAPPER");
    if !links_with_rust_lld() {
        return;
    }
    let Ok(root) = env::var("CARGO_MANIFEST_DIR") else {
        return;
    };
    // Absent from a copy that left the tools out, the file would stop the
    // link; `-Wl,` would split a path with a comma in it.
    let order = Path::new(&root).join("tools/child-path.order");
    if order.is_file() && !root.contains(',') && links_with_the_order(&order) {
        let order = order.display();
        // The link argument names the file where it is now: once the repo
        // moves (a renamed folder, a target dir kept with it), that path is
        // gone, and this asks cargo to say the file again before linking
        // (rust-lld: "cannot open .../tools/child-path.order").
        println!("cargo::rerun-if-changed={order}");
        println!("cargo::rustc-link-arg-bin=procscript=-Wl,--symbol-ordering-file={order}");
    }
}

/// Whether this compiler's link takes the ordering file, tried on an empty
/// program: a Rust 1.90+ built by a distribution (not rustup) links with the
/// system's `ld`, as does a `RUSTC_WRAPPER` that adds `-fuse-ld=bfd`, and GNU
/// ld stops at the option it does not know (the whole build failed).
fn links_with_the_order(order: &Path) -> bool {
    let (Some(rustc), Some(out)) = (env::var_os("RUSTC"), env::var_os("OUT_DIR")) else {
        return false;
    };
    let out = Path::new(&out);
    let source = out.join("order_probe.rs");
    if std::fs::write(&source, "fn main() {}\n").is_err() {
        return false;
    }
    let mut probe = match env::var_os("RUSTC_WRAPPER").filter(|wrapper| !wrapper.is_empty()) {
        Some(wrapper) => {
            let mut probe = Command::new(wrapper);
            probe.arg(rustc);
            probe
        }
        None => Command::new(rustc),
    };
    probe
        .arg(&source)
        .arg("-o")
        .arg(out.join("order_probe"))
        .arg(format!(
            "-Clink-arg=-Wl,--symbol-ordering-file={}",
            order.display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether the final link is rustc's own LLD: the default for x86_64 Linux
/// with glibc from Rust 1.90, unless a linker of the user's is configured.
fn links_with_rust_lld() -> bool {
    let target_is_default = env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu");
    let own_linker = env::var_os("RUSTC_LINKER").is_some()
        || env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|flags| flags.contains("link"));
    target_is_default && !own_linker && rustc_minor().is_some_and(|minor| minor >= 90)
}

/// The minor version of the compiler building this crate (`1.95.0` gives 95).
fn rustc_minor() -> Option<u32> {
    let rustc = env::var_os("RUSTC")?;
    let output = Command::new(rustc).arg("-V").output().ok()?;
    let version = String::from_utf8(output.stdout).ok()?;
    version
        .split_whitespace()
        .nth(1)?
        .split('.')
        .nth(1)?
        .parse()
        .ok()
}
