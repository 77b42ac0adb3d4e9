//! Splits the console's browser build into a main module and lazily loaded
//! parts, one per `#[lazy]` function (pages, the graph, the log viewer).
//!
//! `scripts/build-site` runs it between `cargo build` and `wasm-bindgen`, the
//! place `cargo leptos build --split` does it, so the site builds without
//! cargo-leptos. Usage: `updraft-wasm-split <linked.wasm> <main-out.wasm> <pkg-dir>`.

use std::path::PathBuf;

use anyhow::{Context, bail};

/// The loader's file name that leptos's `HydrationScripts` preloads; it must
/// be exactly this.
const LOADER_NAME: &str = "./__wasm_split.______________________.js";
/// The JS module wasm-bindgen writes for the main module (`--out-name updraft`).
const MAIN_MODULE: &str = "./updraft.js";
/// Which parts each split point needs; the server reads it to preload the
/// parts of the page it renders.
const MANIFEST_NAME: &str = "__wasm_split_manifest.json";

fn main() -> anyhow::Result<()> {
    let arguments: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [linked, main_out, pkg] = arguments.as_slice() else {
        bail!("usage: updraft-wasm-split <linked.wasm> <main-out.wasm> <pkg-dir>");
    };
    let input = std::fs::read(linked).with_context(|| format!("reading {}", linked.display()))?;
    let mut options = wasm_split_cli_support::Options::new(&input);
    options.output_dir = pkg;
    options.main_out_path = main_out;
    options.main_module = MAIN_MODULE;
    options.link_name = LOADER_NAME;
    // eyre's report does not convert into anyhow's; keep its whole chain as text.
    let split = wasm_split_cli_support::transform(options)
        .map_err(|report| anyhow::anyhow!("{report:?}"))
        .with_context(|| format!("splitting {}", linked.display()))?;
    let manifest = serde_json::to_string_pretty(&split.prefetch_map)?;
    std::fs::write(pkg.join(MANIFEST_NAME), manifest)?;
    println!(
        "split {} into the main module and {} lazily loaded parts",
        linked.display(),
        split.split_modules.len()
    );
    Ok(())
}
