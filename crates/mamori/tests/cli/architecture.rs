//! The one door, held by the compiler rather than by callers behaving: only core may name the
//! store, and core keeps its store, ledger writer and keyring private, so the server and the CLI
//! reach personal data only through core's operations (each decided and ledgered).

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

/// The workspace's packages as `cargo metadata` lists them (without dependencies' own).
fn workspace_metadata() -> serde_json::Value {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn neither_the_server_nor_the_cli_depends_on_the_store() {
    let metadata = workspace_metadata();
    let packages = metadata["packages"].as_array().unwrap();
    for name in ["mamori-server", "mamori"] {
        let package = packages.iter().find(|p| p["name"] == name).unwrap();
        let normal: Vec<&str> = package["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["name"].as_str())
            .collect();
        assert!(normal.contains(&"mamori-core"), "{name} depends on core");
        assert!(
            !normal.contains(&"mamori-store"),
            "{name} must reach the database through mamori-core only"
        );
    }
    for dir in ["crates/mamori-server/src", "crates/mamori/src"] {
        for file in sources(&workspace().join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                !text.contains("mamori_store"),
                "{} names mamori_store",
                file.display()
            );
        }
    }
}

/// The load generator is a crate of its own (`mamori-bench`): the product binary neither
/// compiles it nor turns on core's `bench` feature (its bulk-load shortcuts).
#[test]
fn the_product_binary_carries_no_load_generator() {
    let metadata = workspace_metadata();
    let packages = metadata["packages"].as_array().unwrap();
    let mamori = packages.iter().find(|p| p["name"] == "mamori").unwrap();
    let core = mamori["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "mamori-core" && d["kind"].is_null())
        .unwrap();
    assert_eq!(core["features"], serde_json::json!([]), "{core}");
    for file in sources(&workspace().join("crates/mamori/src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for bench_only in ["bench_support", "mod bench", "http_load"] {
            assert!(
                !text.contains(bench_only),
                "{}: {bench_only}",
                file.display()
            );
        }
    }
    let bench = packages.iter().find(|p| p["name"] == "mamori-bench");
    assert!(
        bench.is_some(),
        "the load generator lives in crates/mamori-bench"
    );
}

#[test]
fn core_keeps_its_store_ledger_and_keyring_private() {
    let mut checked = 0;
    for file in sources(&workspace().join("crates/mamori-core/src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_start();
            for field in ["pub store:", "pub ledger:", "pub keyring:"] {
                assert!(
                    !line.starts_with(field),
                    "{}:{}: `{field}` opens a side door",
                    file.display(),
                    n + 1
                );
            }
        }
        checked += 1;
    }
    // The walk found core's sources (a moved folder must not make this pass vacuously).
    assert!(checked > 20, "only {checked} core sources found");
}

/// Every error code the API lists is given somewhere: a code no path can produce would be a
/// promise in the document that nothing keeps.
#[test]
fn every_error_code_is_given_somewhere() {
    let mut given = String::new();
    for krate in ["mamori-core", "mamori-server", "mamori"] {
        for file in sources(&workspace().join("crates").join(krate).join("src")) {
            given.push_str(&std::fs::read_to_string(file).unwrap());
        }
    }
    let unused: Vec<_> = (mamori_proto::ErrorCode::ALL.iter())
        .filter(|code| !given.contains(&format!("ErrorCode::{code:?}")))
        .collect();
    assert!(unused.is_empty(), "codes nothing gives: {unused:?}");
}
