//! Core's capabilities on both backends, without HTTP: a vault over a fresh database, its clock
//! a `FakeClock`, called as the server and the CLI call it.

#[path = "core/consent.rs"]
mod consent;
#[path = "core/keys.rs"]
mod keys;
#[path = "core/leases.rs"]
mod leases;
#[path = "core/requests.rs"]
mod requests;
#[path = "core/retention.rs"]
mod retention;
#[path = "core/subjects.rs"]
mod subjects;
#[path = "core/surveys.rs"]
mod surveys;
#[path = "core/vendors.rs"]
mod vendors;

use std::sync::Arc;

use mamori_core::clock::FakeClock;
use mamori_core::ledger::Ledger;
use mamori_core::{Actor, Vault};
use mamori_crypto::{Keyring, MasterKey};
use mamori_ledger::HeadSigner;
use mamori_policy::Policy;
use mamori_testkit::{Backend, database_url};

const POLICY: &str = include_str!("../../../examples/policy.toml");
const MASTER_HEX: &str = "4d616d6f726920746573742d6f6e6c79206d6173746572206b657920212121ff";

/// A vault over a fresh database of `backend`, with a clock the test moves.
pub struct Core {
    pub vault: Vault,
    pub clock: FakeClock,
    pub keyring: Arc<Keyring>,
    pub store: Arc<dyn mamori_store::Store>,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Core {
    async fn open(backend: Backend) -> Option<Core> {
        let dir = tempfile::tempdir().unwrap();
        let url = database_url(backend, dir.path()).await?;
        let policy = Arc::new(Policy::parse("policy.toml", POLICY).unwrap());
        let keyring = Arc::new(Keyring::new(&MasterKey::from_hex(MASTER_HEX).unwrap()));
        let store: Arc<dyn mamori_store::Store> =
            Arc::from(mamori_store::open(&url).await.unwrap());
        let signer = HeadSigner::from_seed(&keyring.ledger_signing_seed());
        let ledger = Ledger::start(store.clone(), signer).await.unwrap();
        let mut vault = Vault::new(policy, keyring.clone(), store.clone(), ledger);
        let clock = FakeClock::default();
        vault.clock = Arc::new(clock.clone());
        Some(Core {
            vault,
            clock,
            keyring,
            store,
            url,
            _dir: dir,
        })
    }
}

/// An actor with a role of the example policy.
pub fn actor(role: &str) -> Actor {
    Actor {
        id: format!("test:{role}"),
        role: role.into(),
    }
}

/// Someone created as the service fulfilling orders: their id.
pub async fn someone(core: &Core, email: &str) -> [u8; 16] {
    let data =
        serde_json::from_value(serde_json::json!({"contact": {"name": "Ada", "email": email}}))
            .unwrap();
    let id = core
        .vault
        .create_subject(&actor("service"), "order_fulfilment", None, &data)
        .await
        .unwrap();
    mamori_core::parse_id(&id).unwrap()
}

/// Runs each test on SQLite and on PostgreSQL.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let core = super::Core::open(super::Backend::Sqlite).await.expect("sqlite always available");
                super::$name(core).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(core) = super::Core::open(super::Backend::Postgres).await else { return };
                super::$name(core).await;
            })*
        }
    };
}

use consent::*;
use keys::*;
use leases::*;
use requests::*;
use retention::*;
use subjects::*;
use surveys::*;
use vendors::*;

both_backends!(
    consent_starts_refused_and_follows_each_decision,
    an_erased_person_cannot_be_found_or_consent,
    the_erasure_journal_catches_up_with_the_database,
    key_epochs_rotate_rewrap_and_expire_by_the_clock,
    scheduled_backups_are_taken_when_due_and_the_oldest_pruned,
    retention_drops_expired_fields_and_erases_whom_nothing_is_left_of,
    expired_data_is_asked_of_the_vendors_that_received_it,
    a_lease_has_one_holder_until_it_lapses_or_is_given_up,
    an_imported_withdrawal_asks_vendors_to_stop,
    retention_deletes_the_old_records_of_someone_still_active,
    preferences_go_after_consent_is_withdrawn,
    a_legal_hold_stops_erasures_and_sweeps_until_lifted,
    deadlines_are_reminded_once_as_they_come_near,
    survey_results_hide_every_group_below_k,
);
