//! The command line as clap reads it: global options, every command and its arguments, and
//! the server's request limits.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "mamori",
    version,
    about = "Privacy-first customer data platform"
)]
pub struct Cli {
    /// Data directory: config, master key file and the SQLite database.
    #[arg(
        long,
        global = true,
        env = "MAMORI_DATA",
        default_value = "./mamori-data"
    )]
    pub data: PathBuf,
    /// Database URL: sqlite://PATH or postgres://… (default: sqlite in the data directory).
    #[arg(long, global = true, env = "MAMORI_DATABASE")]
    pub database: Option<String>,
    /// Address to listen on.
    #[arg(
        long,
        global = true,
        env = "MAMORI_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: String,
    /// Governance policy file (default: policy.toml in the data directory).
    #[arg(long, global = true, env = "MAMORI_POLICY")]
    pub policy: Option<PathBuf>,
    /// Configuration file: mail, SMS, TLS, deadlines (default: mamori.toml in the data
    /// directory, if present).
    #[arg(long, global = true, env = "MAMORI_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Clone)]
pub enum Command {
    /// Create the data directory: master key (mode 0600), policy, database.
    Init,
    /// Run the server.
    Serve {
        #[command(flatten)]
        limits: LimitArgs,
        /// PEM certificate chain: serve HTTPS only (with HSTS and Secure cookies).
        #[arg(long, requires = "tls_key", env = "MAMORI_TLS_CERT")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of the certificate.
        #[arg(long, requires = "tls_cert", env = "MAMORI_TLS_KEY")]
        tls_key: Option<PathBuf>,
    },
    /// Set up a demo (example policy, synthetic customers), serve it, print the URL and API keys.
    Demo {
        #[command(flatten)]
        limits: LimitArgs,
        /// How many synthetic customers to create.
        #[arg(long, default_value_t = 300)]
        customers: usize,
    },
    /// Policy tools.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// API keys.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// The privacy officer's report (Markdown; --json for the structure).
    Report {
        #[arg(long)]
        json: bool,
    },
    /// Surveys: define one from a TOML file, list them, see results, close one.
    Survey {
        #[command(subcommand)]
        command: SurveyCommand,
    },
    /// Vendors of the policy's register: their tasks after erasures, corrections and opt-outs,
    /// and the secret each signs its confirmations with.
    Vendor {
        #[command(subcommand)]
        command: VendorCommand,
    },
    /// Authorised agents of the Data Rights Protocol (from the DRP service directory).
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
    /// Bulk-create subjects from a CSV (`external_id`, `category.field` columns) or JSON Lines
    /// file (one `POST /v1/subjects` body per line). Resumable: run it again to continue.
    #[command(args_conflicts_with_subcommands = true)]
    Import {
        #[command(subcommand)]
        kind: Option<ImportKind>,
        #[arg(long)]
        file: Option<PathBuf>,
        /// The purpose the data is collected for (must allow creating every category imported).
        #[arg(long)]
        purpose: Option<String>,
        /// The role the import acts as; it is ledgered as actor `cli:import`.
        #[arg(long, default_value = "service")]
        role: String,
        /// Rows per transaction (bigger batches touch each blind-index page fewer times).
        #[arg(long, default_value_t = 10_000)]
        batch: usize,
        /// Where rejected rows are listed (default: FILE.rejects.jsonl).
        #[arg(long)]
        rejects: Option<PathBuf>,
    },
    /// Measure the performance targets in a throw-away installation: runs the load generator
    /// `mamori-bench` from beside this binary (`mamori bench --help` lists its options).
    Bench {
        /// Options of `mamori-bench` (--quick, --json, --subjects N, …).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Remove personal data (e-mail addresses, phone numbers, payment cards, IBANs, IP
    /// addresses, national ids, addresses, dates of birth, names) from free text: one record per
    /// line on standard input, scrubbed records on standard output, in order. Needs no data
    /// directory.
    Scrub {
        /// Print each line's detected spans (kind and byte offsets) as a JSON array instead.
        #[arg(long)]
        spans: bool,
        /// How a kind is replaced: KIND=placeholder (default, `[EMAIL]`), mask (last four
        /// kept), hash (keyed, needs --hash-key-env) or drop. Repeatable.
        #[arg(long = "mode", value_name = "KIND=MODE")]
        modes: Vec<String>,
        /// Environment variable holding the key for `hash`.
        #[arg(long, value_name = "VAR")]
        hash_key_env: Option<String>,
    },
    /// The ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Webhook subscriptions (delivered by `mamori serve`).
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Key epochs: the keys that wrap every person's data key, rotated and destroyed on a
    /// schedule so that erasures reach old copies (see `[keys]` in mamori.toml).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Seal a consistent copy of the database into a backup file while the server runs (a
    /// new file; a directory gets one named by the time). Needs the key store to open again.
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// Check the installation's security posture: file permissions, network filesystems, https,
    /// backups, key rotation, API keys, webhooks, the ledger and the clock. Exits non-zero on
    /// any high-severity finding.
    Doctor {
        /// One JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Retention of live data: what each category's `retention` in the policy no longer allows
    /// keeping (`mamori serve` sweeps hourly on its own).
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Staff: people who sign in (API keys stay for machines).
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Legal holds: keep a person, a category, or a person's category past retention and
    /// despite erasure requests, until lifted.
    Hold {
        #[command(subcommand)]
        command: HoldCommand,
    },
    /// The incident register: open an incident, list and show them, add to a timeline.
    Incident {
        #[command(subcommand)]
        command: IncidentCommand,
    },
    /// Tabletop drills: start one from a scenario, read how the response went.
    Drill {
        #[command(subcommand)]
        command: DrillCommand,
    },
    /// Put a backup in place of the database (stop the server first): checks the backup and
    /// its ledger, then erases again everyone erased since it was taken.
    Restore { from: PathBuf },
}

#[derive(Subcommand, Clone)]
pub enum HoldCommand {
    /// Place a hold on a person (`--subject`), a category for everyone (`--category`), or both.
    Add {
        #[arg(long)]
        subject: Option<String>,
        #[arg(long)]
        category: Option<String>,
        /// litigation, regulatory_inquiry, law_enforcement, tax_audit or internal_investigation.
        #[arg(long)]
        reason: String,
        /// The day it ends (YYYY-MM-DD, UTC); absent: until lifted.
        #[arg(long)]
        until: Option<String>,
    },
    /// The holds in force.
    List,
    /// Lift a hold.
    Lift { id: String },
}

#[derive(Subcommand, Clone)]
pub enum DrillCommand {
    /// Open a drill incident: lost_laptop, leaked_service_key, vendor_breach or
    /// misdirected_export. Prints its id; work it like any incident.
    Start {
        scenario: String,
        /// The title's language: en, ja or fr.
        #[arg(long, default_value = "en")]
        lang: String,
    },
    /// How the response went: milestones after awareness, steps skipped, deadlines missed.
    Report { id: String },
}

#[derive(Subcommand, Clone)]
pub enum IncidentCommand {
    /// Open an incident; prints its id. The title is stored sealed.
    Open {
        #[arg(long)]
        title: String,
        /// lost_device, leaked_credential, vendor_breach, misdirected_email,
        /// unauthorised_access, ransomware or other.
        #[arg(long)]
        kind: String,
        /// low, medium, high or critical.
        #[arg(long)]
        severity: String,
        /// When the business became aware of it (RFC 3339); absent: now.
        #[arg(long)]
        detected_at: Option<String>,
    },
    /// The register, newest first.
    List,
    /// One incident and its timeline.
    Show { id: String },
    /// Add an entry: a note, a status moved forward (`--status`), a revised severity
    /// (`--severity`) or a link (`--link api_key:ID`, `staff:ID`, `vendor:NAME`), against the
    /// version last shown.
    Add {
        id: String,
        #[arg(long)]
        version: i64,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        severity: Option<String>,
        #[arg(long)]
        link: Option<String>,
        /// Extend a duty's deadline (LAW:RECIPIENT, as `deadlines` lists them) to --until, with
        /// --note saying why.
        #[arg(long, requires = "until")]
        extend: Option<String>,
        /// The extended deadline (RFC 3339).
        #[arg(long, requires = "extend")]
        until: Option<String>,
    },
    /// Contain: revoke an API key, disable a member of staff, stop, pause or re-key a webhook
    /// subscription, or remove or pause a DRP agent (one of them), recorded on the timeline.
    /// A re-keyed subscription's new secret is printed once; its old one stops at once.
    #[command(group(clap::ArgGroup::new("step").required(true).multiple(false)))]
    Contain {
        id: String,
        #[arg(long)]
        version: i64,
        #[arg(long, group = "step")]
        revoke_key: Option<String>,
        #[arg(long, group = "step")]
        disable_staff: Option<String>,
        #[arg(long, group = "step")]
        remove_webhook: Option<String>,
        #[arg(long, group = "step")]
        remove_agent: Option<String>,
        #[arg(long, group = "step")]
        pause_webhook: Option<String>,
        #[arg(long, group = "step")]
        rotate_webhook_secret: Option<String>,
        #[arg(long, group = "step")]
        pause_agent: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Prepare notices to the people the actors reached in the window (like the impact) and
    /// queue them: the running server sends each once, in the person's language, reading their
    /// address through the access decision for --purpose. A drill's are never sent.
    Notify(NotifyArgs),
    /// Where an incident's notices to people stand (counts per state and category).
    Notices { id: String },
    /// A draft report to a law's authority (gdpr, lgpd, appi, ccpa, hipaa, pci), as Markdown:
    /// the contents that law requires, filled in where the register knows them.
    Draft {
        id: String,
        #[arg(long)]
        jurisdiction: String,
        #[arg(long, default_value = "en")]
        lang: String,
    },
}

/// `mamori incident notify`'s arguments.
#[derive(clap::Args, Clone)]
pub struct NotifyArgs {
    pub id: String,
    /// Actors as the ledger names them (key:ID, staff:ID); repeat for several.
    #[arg(long = "actor", required = true)]
    pub actors: Vec<String>,
    /// The window's start and end (RFC 3339).
    #[arg(long)]
    pub from: String,
    #[arg(long)]
    pub to: String,
    #[arg(long, default_value = "data_subject_rights")]
    pub purpose: String,
    /// What people can do, per language (optional; generic advice otherwise).
    #[arg(long)]
    pub advice_en: Option<String>,
    #[arg(long)]
    pub advice_ja: Option<String>,
    #[arg(long)]
    pub advice_fr: Option<String>,
    /// For people whose own language is not known (default: the policy's first).
    #[arg(long)]
    pub language: Option<String>,
}

#[derive(Subcommand, Clone)]
pub enum StaffCommand {
    /// Invite a person with a role of the policy: prints their one-time enrolment link (valid 7
    /// days) for you to send. Needs the `staff` administrative permission; ledgered.
    Invite {
        email: String,
        #[arg(long)]
        role: String,
        /// Put this before the link, e.g. https://privacy.example.com (default: public_url).
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Everyone on the staff: id, role, whether enrolled.
    List,
    /// Disable a member of staff (when they leave): they can no longer sign in, their sessions
    /// end, an unused enrolment link stops working. Ledgered.
    Disable { id: String },
    /// Start a member of staff over (lost every device and recovery code, or coming back):
    /// their password, second factors and recovery codes go, their sessions end, and a new
    /// one-time enrolment link (7 days) is printed. Ledgered.
    Reset {
        id: String,
        /// Put this before the link (default: public_url).
        #[arg(long)]
        base_url: Option<String>,
    },
}

#[derive(Subcommand, Clone)]
pub enum RetentionCommand {
    /// Erase what has expired now (`--dry-run`: only count it, per category).
    Sweep {
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Clone)]
pub enum KeyCommand {
    /// Start a new key epoch if one is due (`--now`: at once), re-wrap every data key under
    /// it, and destroy the epochs past the horizon. `mamori serve` does this on its own.
    Rotate {
        #[arg(long)]
        now: bool,
    },
    /// The key epochs and when each retired one will be destroyed.
    Status,
    /// A new master key: the key store (the root key and the epoch keys) is re-sealed under it
    /// and the old one is destroyed. Nothing derived changes, so it takes milliseconds; a
    /// running server keeps serving (restart it before its next key rotation is due).
    RotateMaster,
}

/// Request rate limits of the server.
#[derive(clap::Args, Clone)]
pub struct LimitArgs {
    /// Requests per second per API key (bursts of twice that); 0 turns the limit off.
    #[arg(long, env = "MAMORI_RATE_LIMIT", default_value_t = 1_000)]
    pub rate_limit: u32,
    /// Failed authentications per second per client address before it is shut out for 10 s.
    #[arg(long, env = "MAMORI_FAILED_AUTH_LIMIT", default_value_t = 10)]
    pub failed_auth_limit: u32,
    /// Delivery attempts per webhook event before it is dead-lettered (replayable).
    #[arg(long, env = "MAMORI_WEBHOOK_ATTEMPTS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub webhook_attempts: u32,
    /// Seconds a webhook target may take to answer before the attempt counts as failed.
    #[arg(long, env = "MAMORI_WEBHOOK_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub webhook_timeout: u64,
    /// Anonymous survey responses per minute from one client address.
    #[arg(long, env = "MAMORI_SURVEY_RATE_LIMIT", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub survey_rate_limit: u32,
}

impl LimitArgs {
    pub fn limits(&self) -> mamori_server::Limits {
        let defaults = mamori_server::Limits::default();
        mamori_server::Limits {
            per_key: self.rate_limit,
            failed_auth_per_ip: self.failed_auth_limit,
            webhooks: mamori_core::webhooks::WebhookSettings {
                max_attempts: self.webhook_attempts,
                timeout: std::time::Duration::from_secs(self.webhook_timeout),
                ..defaults.webhooks
            },
            survey_responses_per_ip_per_minute: self.survey_rate_limit,
            ..defaults
        }
    }
}

#[derive(Subcommand, Clone)]
pub enum PolicyCommand {
    /// Check a policy file; prints every problem with file:line:column and exits non-zero if any.
    Check { file: PathBuf },
    /// Explain in plain words what changed from policy OLD to policy NEW, and which changes
    /// widen processing (people must agree again) or narrow it (effective at once).
    Diff { old: PathBuf, new: PathBuf },
    /// Record the policy in force (--policy) as a published version: notices and new consent
    /// records name it; `notice.published` is announced to webhooks.
    Publish,
    /// List the published versions.
    Versions,
    /// Print the records of processing (GDPR Art. 30) generated from the policy in force and
    /// its vendor register: Markdown, or JSON, or CSV (one activity per row).
    Records {
        /// en, ja or fr.
        #[arg(long, default_value = "en")]
        lang: String,
        /// md, json or csv.
        #[arg(long, default_value = "md")]
        format: String,
    },
}

#[derive(Subcommand, Clone)]
pub enum ApikeyCommand {
    /// Create a key for a role; the key is printed once and stored only as a keyed hash.
    Create {
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
    },
    List,
    Revoke {
        id: String,
    },
}

#[derive(Subcommand, Clone)]
pub enum SurveyCommand {
    /// Define a survey from a TOML file (see examples/survey.toml).
    Create {
        file: PathBuf,
    },
    List,
    /// Aggregates as JSON; groups smaller than the survey's k are suppressed.
    Results {
        slug: String,
        /// Break down by the answers to this single-choice question.
        #[arg(long)]
        by: Option<String>,
    },
    /// Stop taking responses.
    Close {
        slug: String,
    },
    /// A differentially private release of a survey's results, spending EPSILON of its budget.
    Release {
        slug: String,
        #[arg(long)]
        epsilon: f64,
    },
    /// Invite subjects to an invited survey: prints one link per subject (shown once) for you to
    /// send; each buys one unlinkable response.
    Invite {
        slug: String,
        /// Subject ids (UUIDs).
        #[arg(required = true)]
        subjects: Vec<String>,
        /// Put this before each link, e.g. https://shop.example.
        #[arg(long, default_value = "")]
        base_url: String,
    },
}

#[derive(Subcommand, Clone)]
pub enum VendorCommand {
    /// Print the vendor's confirmation secret (`whsec_…`), to hand to the vendor: it signs
    /// `POST /v1/vendor-tasks/{id}/confirm` with it, in the Standard Webhooks form.
    Secret { vendor: String },
    /// List vendors' tasks, newest first: id, vendor, kind, subject, due, state.
    Tasks {
        /// Only the tasks not confirmed yet.
        #[arg(long)]
        open: bool,
    },
}

#[derive(Subcommand, Clone)]
pub enum AgentCommand {
    /// Register an agent: its directory id, name and base64 Ed25519 verify key.
    Add {
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        verify_key: String,
    },
    List,
    /// Remove an agent: its tokens stop working; its requests stay in the register.
    Remove {
        id: String,
    },
    /// Pause an agent: its tokens are refused until it is resumed (ids are never reused, so
    /// pause rather than remove while an incident is looked into).
    Pause {
        id: String,
    },
    /// Resume a paused agent.
    Resume {
        id: String,
    },
}

#[derive(Subcommand, Clone)]
pub enum ImportKind {
    /// Existing consents from CSV: subject (Mamori id or external id), purpose, channel,
    /// granted (true/false), timestamp (RFC 3339), source, notice_version. Original times and
    /// provenance are kept; a record older than the current decision only joins the history.
    Consents {
        #[arg(long)]
        file: PathBuf,
        /// The role the import acts as (it must be allowed to use each purpose).
        #[arg(long, default_value = "service")]
        role: String,
        /// Where rejected rows are listed (default: FILE.rejects.jsonl).
        #[arg(long)]
        rejects: Option<PathBuf>,
    },
}

#[derive(Subcommand, Clone)]
pub enum WebhookCommand {
    /// Subscribe a URL to events from now on; prints its id and signing secret (shown once).
    Add {
        #[arg(long)]
        url: String,
        /// Comma-separated: consent.changed, subject.erased, or * for all.
        #[arg(long, value_delimiter = ',', default_value = "*")]
        events: Vec<String>,
    },
    List,
    Remove {
        id: String,
    },
    /// Pause a subscription: nothing is sent until it is resumed; what was held is then sent.
    Pause {
        id: String,
    },
    Resume {
        id: String,
    },
    /// Make a new signing secret current; prints it (shown once). The previous one also signs
    /// for --grace (e.g. 24h, at most 168h; 0, the default, when it leaked).
    RotateSecret {
        id: String,
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        grace: std::time::Duration,
    },
    /// Deliver again every event from outbox seq FROM on (dead letters included).
    Replay {
        id: String,
        #[arg(long)]
        from: i64,
    },
    /// A local receiver for trying webhooks: prints each delivery and checks its signature.
    Listen {
        /// Address to receive on.
        #[arg(long, default_value = "127.0.0.1:9000")]
        on: String,
        /// The subscription's secret (`whsec_…`), to check signatures.
        #[arg(long, env = "MAMORI_WEBHOOK_SECRET")]
        secret: Option<String>,
    },
}

#[derive(Subcommand, Clone)]
pub enum LedgerCommand {
    /// Recompute the Merkle tree from storage and check every signed tree head.
    Verify {
        /// Also check the ledger against an outside copy of signed heads (JSON lines: the
        /// server's `ledger-heads.jsonl`, or heads a witness kept from GET /v1/ledger/head);
        /// a truncated ledger fails, naming the missing range.
        #[arg(long)]
        witness: Option<PathBuf>,
    },
    /// Sign with a new key from now on: the old key's private half is forgotten, its public half
    /// stays published (GET /v1/ledger/keys) and checks the heads it signed. Needs the `keys`
    /// administrative permission; ledgered.
    RotateKey,
    /// List every signing key (id, public key, when it signed).
    Keys,
}
