//! The published RFC 6962 test vectors (transparency-dev/merkle) from ../shared/testdata/rfc6962:
//! every happy path must verify and every corrupted proof must be refused.

use std::path::{Path, PathBuf};

use mamori_ledger::{b64, verify_consistency, verify_inclusion};
use serde::Deserialize;

fn vectors_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/rfc6962");
    assert!(
        dir.is_dir(),
        "test vectors missing at {}: the shared/ checkout must sit beside the project",
        dir.display()
    );
    dir
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(json_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn bytes(text: &str) -> Vec<u8> {
    b64::decode(text).expect("vector base64")
}

fn proof(p: &Option<Vec<String>>) -> Vec<Vec<u8>> {
    p.iter().flatten().map(|s| bytes(s)).collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inclusion {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Consistency {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    want_err: bool,
}

#[test]
fn inclusion_vectors() {
    let files = json_files(&vectors_dir().join("inclusion"));
    assert!(
        files.len() > 50,
        "expected the full inclusion set, found {}",
        files.len()
    );
    let (mut ok, mut refused) = (0, 0);
    for f in files {
        let v: Inclusion = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let got = verify_inclusion(
            v.leaf_idx,
            v.tree_size,
            &bytes(&v.leaf_hash),
            &proof(&v.proof),
            &bytes(&v.root),
        );
        assert_eq!(got.is_err(), v.want_err, "{}", f.display());
        if v.want_err { refused += 1 } else { ok += 1 }
    }
    assert!(ok > 5 && refused > 40, "ok={ok} refused={refused}");
}

#[test]
fn consistency_vectors() {
    let files = json_files(&vectors_dir().join("consistency"));
    assert!(
        files.len() > 50,
        "expected the full consistency set, found {}",
        files.len()
    );
    let (mut ok, mut refused) = (0, 0);
    for f in files {
        let v: Consistency = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let got = verify_consistency(
            v.size1,
            v.size2,
            &bytes(&v.root1),
            &bytes(&v.root2),
            &proof(&v.proof),
        );
        assert_eq!(got.is_err(), v.want_err, "{}", f.display());
        if v.want_err { refused += 1 } else { ok += 1 }
    }
    assert!(ok > 3 && refused > 40, "ok={ok} refused={refused}");
}
