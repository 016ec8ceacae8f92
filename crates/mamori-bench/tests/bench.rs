//! `mamori-bench`, the load generator, as `mamori bench` runs it: every figure present in a
//! seconds-long smoke run (`--tiny`; the figures mean nothing), the throw-away installation
//! removed. It runs the server as the `mamori` binary beside it, as `cargo test --workspace`
//! builds them.

use std::path::PathBuf;
use std::process::Command;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `mamori` binary built beside this crate's.
fn mamori() -> PathBuf {
    let beside = std::path::Path::new(env!("CARGO_BIN_EXE_mamori-bench")).with_file_name("mamori");
    assert!(beside.is_file(), "{} is not built", beside.display());
    beside
}

/// Runs `mamori bench --tiny --json` with `extra` in a temporary directory (through `mamori`, or
/// `mamori-bench` itself with `direct`): its figures, and the directory (which the bench must
/// leave empty).
fn tiny_bench(direct: bool, extra: &[&str]) -> (serde_json::Value, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = if direct {
        Command::new(env!("CARGO_BIN_EXE_mamori-bench"))
    } else {
        let mut through = Command::new(mamori());
        through.arg("bench");
        through
    };
    let out = command
        .args(["--tiny", "--json"])
        .args(extra)
        .arg("--dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    (serde_json::from_slice(&out.stdout).unwrap(), dir)
}

#[test]
fn bad_options_fail_clearly_and_start_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--subjects", "many"][..], &["--no-such-option"]] {
        let out = Command::new(mamori())
            .arg("bench")
            .args(args)
            .arg("--dir")
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains("error:"),
            "{}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn bench_reports_every_figure() {
    let (figures, dir) = tiny_bench(false, &[]);
    for key in [
        "seal_ratio",
        "import_subjects_per_s",
        "read_rps",
        "read_p99_ms",
        "erase_median_ms",
        "ledger_append_per_s",
        "ledger_verify_leaves_per_s",
        "proof_ms",
        "rss_mb",
        "consent_check_rps",
        "consent_check_paced_p99_ms",
        "consent_check_paced_server_cpu_us",
        "consent_check_paced_client_cpu_us",
        "http_baseline_rps",
        "http_baseline_paced_server_cpu_us",
        "audience_checks_per_s",
        "webhook_latency_p99_ms",
        "webhook_deliveries_per_s",
        "export_ms_10k_records_10k_events",
        "page_my_data_p95_ms",
        "page_my_choices_p95_ms",
        "page_access_log_p95_ms",
        "requests_opened_per_s",
        "request_queue_page_median_ms",
        "request_queue_page_p95_ms",
        "page_console_home_p95_ms",
        "page_console_requests_p95_ms",
        "page_console_customer_p95_ms",
        "page_console_training_p95_ms",
        "page_console_sessions_p95_ms",
        "page_console_ledger_p95_ms",
        "page_console_proof_p95_ms",
        "page_console_policy_p95_ms",
        "page_console_report_p95_ms",
        "page_console_holds_p95_ms",
        "console_vs_my_data",
        "sign_in_refused_known_median_ms",
        "sign_in_unknown_vs_known",
        "survey_responses_per_s",
        "survey_response_p99_ms",
        "survey_results_median_ms",
        "rotation_ratio",
        "retention_idle_ratio",
        "retention_erase_ratio",
        "incident_notices_vs_mailer",
        "read_vs_baseline",
        "read_p99_vs_baseline_p99",
    ] {
        let v = figures[key].as_f64();
        assert!(v.is_some_and(|v| v >= 0.0), "{key}: {figures}");
    }
    assert!(figures["read_rps"].as_f64().unwrap() > 0.0);
    // Everyone left was re-wrapped, then expired and was erased by the sweep.
    assert!(
        figures["rotation_keys"].as_u64().unwrap() >= 1_000,
        "{figures}"
    );
    assert!(
        figures["retention_erased"].as_u64().unwrap() >= 1_000,
        "{figures}"
    );
    assert_eq!(figures["read_errors"], 0, "{figures}");
    assert_eq!(figures["consent_check_errors"], 0, "{figures}");
    assert!(figures["webhook_deliveries_per_s"].as_f64().unwrap() > 0.0);
    assert!(figures["survey_responses_per_s"].as_f64().unwrap() > 0.0);
    assert!(
        figures["survey_results_responses"].as_u64().unwrap() >= 2_000,
        "{figures}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the throw-away installation is removed"
    );
}

#[test]
fn bench_consent_only_reports_the_consent_figures_and_their_baselines() {
    let (figures, dir) = tiny_bench(true, &["--consent-only"]);
    for key in [
        "raw_aead_seals_per_s",
        "http_baseline_rps",
        "http_baseline_paced_p99_ms",
        "consent_check_paced_p99_ms",
        "consent_check_rps",
    ] {
        assert!(
            figures[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {figures}"
        );
    }
    // The server did the work: its CPU per request is measured, not zero.
    assert!(
        figures["consent_check_paced_server_cpu_us"]
            .as_f64()
            .is_some_and(|us| us > 0.0),
        "{figures}"
    );
    assert_eq!(figures["consent_check_errors"], 0, "{figures}");
    for skipped in [
        "read_rps",
        "webhook_latency_p99_ms",
        "survey_results_median_ms",
    ] {
        assert!(figures.get(skipped).is_none(), "{skipped}: {figures}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn bench_writers_only_reports_one_writer_and_two() {
    let (figures, dir) = tiny_bench(true, &["--writers-only"]);
    for key in [
        "ledger_append_per_s_one_writer",
        "ledger_append_per_s_two_writers",
        "ledger_two_writers_vs_one",
    ] {
        assert!(
            figures[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {figures}"
        );
    }
    assert!(figures.get("read_rps").is_none(), "{figures}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn bench_ratios_only_reports_each_path_against_the_no_op() {
    let (figures, dir) = tiny_bench(true, &["--ratios-only"]);
    for key in [
        "ratio_noop_rps",
        "ratio_read_vs_noop",
        "ratio_read_p99_vs_noop_p99",
        "ratio_consent_check_vs_noop",
        "ratio_consent_check_p99_vs_noop_p99",
    ] {
        assert!(
            figures[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {figures}"
        );
    }
    assert_eq!(figures["ratio_read_errors"], 0, "{figures}");
    assert_eq!(figures["ratio_consent_check_errors"], 0, "{figures}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
