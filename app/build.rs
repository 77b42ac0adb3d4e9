//! The browser build keeps the linker's relocations: `scripts/build-site`
//! needs them to cut the WASM into lazily loaded parts. They go on the final
//! link only, so no dependency is rebuilt for them.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=--emit-relocs");
    }
}
