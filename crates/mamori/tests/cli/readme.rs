//! The README's tour, taken from README.md itself and pasted, command by command, into a shell
//! beside a fresh demo, so the README cannot drift from the product. Every command must succeed
//! (curl with `--fail-with-body`: an HTTP error fails it), except those whose comment says
//! `# refused`, which must fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shell commands of the tour and survey sections: every ```sh block from "A five-minute
/// tour" to "The CLI", one entry per command (a line and its `\` continuations).
fn tour_commands(readme: &str) -> Vec<String> {
    let start = readme
        .find("## A five-minute tour")
        .expect("the tour section");
    let end = readme.find("## The CLI").expect("the CLI section");
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut current = String::new();
    for line in readme[start..end].lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block && line.trim() == "```sh";
            continue;
        }
        let trimmed = line.trim();
        if !in_block || (current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#'))) {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if !line.ends_with('\\') {
            commands.push(std::mem::take(&mut current));
        }
    }
    commands
}

/// Each command checked in turn; `# refused` ones must fail, background ones (`&`) just start.
fn script(commands: &[String], api: u16, receiver: u16) -> String {
    let mut out = String::from(
        "set -u -o pipefail\ncurl() { command curl --fail-with-body --max-time 30 \"$@\"; }\n",
    );
    for (n, command) in commands.iter().enumerate() {
        let command = command
            .replace("127.0.0.1:8080", &format!("127.0.0.1:{api}"))
            .replace("127.0.0.1:9000", &format!("127.0.0.1:{receiver}"));
        let n = n + 1;
        out.push_str(&format!("echo '::: README command {n}'\n{command}"));
        if command.trim_end().ends_with('&') {
            continue;
        }
        if command.contains("# refused") {
            out.push_str(&format!(
                "[ $? -ne 0 ] || {{ echo 'README command {n} should be refused' >&2; exit 1; }}\n"
            ));
        } else {
            out.push_str(&format!(
                "[ $? -eq 0 ] || {{ echo 'README command {n} failed' >&2; exit 1; }}\n"
            ));
        }
    }
    out
}

fn wait_for(file: &Path, needle: &str, seconds: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if text.contains(needle) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_readme_tour_works_when_pasted_in_order() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let commands = tour_commands(&readme);
    assert!(commands.len() >= 30, "found {} commands", commands.len());
    // The directory the README assumes: the repository, with the binary the demo command built.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("target/release")).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_mamori"),
        dir.path().join("target/release/mamori"),
    )
    .unwrap();
    std::os::unix::fs::symlink(repo().join("examples"), dir.path().join("examples")).unwrap();
    let (api, receiver) = (free_port(), free_port());
    let demo_log = dir.path().join("demo.log");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .current_dir(dir.path())
        .args([
            "--data",
            "./mamori-demo",
            "--listen",
            &format!("127.0.0.1:{api}"),
        ])
        .args(["demo", "--customers", "12"])
        .env_remove("MAMORI_MASTER_KEY")
        .env("MAMORI_LOG", "warn")
        .stdout(std::fs::File::create(&demo_log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = wait_for(&demo_log, "privacy_ops role", 120);
    assert!(started.contains("privacy_ops role"), "{started}");

    let tour_log = dir.path().join("tour.log");
    let log = std::fs::File::create(&tour_log).unwrap();
    let mut shell = std::os::unix::process::CommandExt::process_group(
        Command::new("bash")
            .arg("-c")
            .arg(script(&commands, api, receiver))
            .current_dir(dir.path())
            .env_remove("MAMORI_DATA")
            .stdout(log.try_clone().unwrap())
            .stderr(log),
        0,
    )
    .spawn()
    .unwrap();
    let status = shell.wait().unwrap();
    // The receiver started in the background prints deliveries as they come.
    let output = wait_for(&tour_log, "subject.erased", 30);
    let _ = Command::new("kill")
        .args(["--", &format!("-{}", shell.id())])
        .status();
    // The erasure took c-42, not the customer the privacy-center walk-through signs in as.
    let data = dir.path().join("mamori-demo");
    let key = super::mamori(
        &data,
        &["apikey", "create", "--role", "service", "--name", "t"],
    );
    let key = String::from_utf8(key.stdout).unwrap();
    let lookup = |query: &str| {
        let out = Command::new("curl")
            .args(["-s", "-H", &format!("Authorization: Bearer {}", key.trim())])
            .args(["-H", "Mamori-Purpose: order_fulfilment"])
            .arg(format!("http://127.0.0.1:{api}/v1/subjects?{query}"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let (customer1, c42) = (
        lookup("email=customer1@example.com"),
        lookup("external_id=c-42"),
    );
    demo.kill().unwrap();
    demo.wait().unwrap();
    assert!(status.success(), "{output}");
    for expected in [
        "signature ok",
        "consent.changed",
        "subject.erased",
        "\"receipt\"",
        "\"legal_accounting\"",
        "\"confirmed_at\":\"",
        "created survey my-survey",
        "\"responses\": 25",
    ] {
        assert!(output.contains(expected), "no {expected:?} in\n{output}");
    }
    let chart = std::fs::read_to_string(dir.path().join("trust.svg")).unwrap();
    assert!(chart.starts_with("<svg"), "{chart}");
    assert!(customer1.starts_with("{\"ids\":[\""), "{customer1}");
    assert_eq!(c42, "{\"ids\":[]}");
}
