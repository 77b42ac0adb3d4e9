//! Compiles the upstream Flyte IDL from the pinned npm package `@flyteorg/flyteidl`
//! (installed by `npm install` at the workspace root, or named by `FLYTEIDL_PROTOS`)
//! plus updraft's own protos, without a system `protoc`.

use std::fs;
use std::path::{Path, PathBuf};

/// The files whose import closure updraft serves or reads.
const FLYTE_ROOTS: &[&str] = &[
    "flyteidl/service/admin.proto",
    "flyteidl/service/dataproxy.proto",
    "flyteidl/service/auth.proto",
    "flyteidl/service/identity.proto",
    "flyteidl/service/signal.proto",
    "flyteidl/datacatalog/datacatalog.proto",
    "flyteidl/core/dynamic_job.proto",
    "flyteidl/core/errors.proto",
    "flyteidl/core/workflow_closure.proto",
    "flyteidl/event/event.proto",
];

const UPDRAFT_ROOTS: &[&str] = &[
    "updraft/propeller/v1/propeller.proto",
    "updraft/admin/v1/queue.proto",
    "updraft/catalog/v1/eviction.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let upstream = match std::env::var_os("FLYTEIDL_PROTOS") {
        Some(path) => PathBuf::from(path),
        None => manifest_dir.join("../node_modules/@flyteorg/flyteidl/protos"),
    };
    println!("cargo:rerun-if-env-changed=FLYTEIDL_PROTOS");
    if !upstream.join("flyteidl").is_dir() {
        return Err(format!(
            "the Flyte IDL was not found at {}: run `npm install` at the workspace root \
             (it installs the pinned @flyteorg/flyteidl) or set FLYTEIDL_PROTOS",
            upstream.display()
        )
        .into());
    }
    println!("cargo:rerun-if-changed={}", upstream.display());
    println!("cargo:rerun-if-changed=google_stub");
    println!("cargo:rerun-if-changed=updraft");

    // The openapiv2 options only feed generated API docs; removing them avoids
    // shipping grpc-gateway's protos, and changes nothing on the wire.
    let cleaned = PathBuf::from(std::env::var("OUT_DIR")?).join("flyteidl-cleaned");
    let _ = fs::remove_dir_all(&cleaned);
    copy_without_openapi_options(&upstream.join("flyteidl"), &cleaned.join("flyteidl"))?;

    let mut compiler = protox::Compiler::new([
        cleaned.clone(),
        manifest_dir.join("google_stub"),
        manifest_dir.clone(),
    ])?;
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(FLYTE_ROOTS.iter().chain(UPDRAFT_ROOTS))?;
    let descriptors = compiler.file_descriptor_set();

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .server_mod_attribute(".", r#"#[cfg(feature = "server")]"#)
        .client_mod_attribute(".", r#"#[cfg(feature = "client")]"#)
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}

fn copy_without_openapi_options(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_without_openapi_options(&entry.path(), &target)?;
        } else if entry.path().extension().is_some_and(|ext| ext == "proto") {
            let text = fs::read_to_string(entry.path())?;
            fs::write(target, strip_openapi_options(&text))?;
        }
    }
    Ok(())
}

/// Removes `import "protoc-gen-openapiv2/..."` lines and every
/// `option (grpc.gateway.protoc_gen_openapiv2...) = { ... };` statement, matching
/// braces outside string literals; occurrences inside `//` comments stay.
fn strip_openapi_options(text: &str) -> String {
    const OPTION_START: &str = "option (grpc.gateway.protoc_gen_openapiv2";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(position) = rest.find(OPTION_START) {
        let line_start = rest[..position].rfind('\n').map_or(0, |i| i + 1);
        if rest[line_start..position].contains("//") {
            let end = position + OPTION_START.len();
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        out.push_str(&rest[..position]);
        rest = &rest[position..];
        rest = &rest[statement_end(rest)..];
    }
    out.push_str(rest);
    out.lines()
        .filter(|line| {
            !line
                .trim_start()
                .starts_with("import \"protoc-gen-openapiv2/")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Byte index just past the `;` that ends the option statement starting at `text`.
fn statement_end(text: &str) -> usize {
    let mut depth = 0usize;
    let mut in_string: Option<char> = None;
    let mut escaped = false;
    for (index, character) in text.char_indices() {
        if let Some(quote) = in_string {
            if escaped {
                escaped = false;
            } else if character == '\\' {
                escaped = true;
            } else if character == quote {
                in_string = None;
            }
            continue;
        }
        match character {
            '"' | '\'' => in_string = Some(character),
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ';' if depth == 0 => return index + 1,
            _ => {}
        }
    }
    text.len()
}
