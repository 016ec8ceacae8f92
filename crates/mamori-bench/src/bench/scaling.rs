//! What several servers on one database achieve together: the ledger's append rate through one
//! writer, then through two (two vaults on the database, as two `mamori serve` processes would
//! have, taking turns at the ledger's end), in the same run.

use super::*;

/// Appends `total` events through one writer, then `total` split over two at once.
pub(super) async fn figures(
    paths: &Paths,
    total: u64,
    out: &mut BTreeMap<&'static str, Value>,
) -> anyhow::Result<()> {
    let first = Context::open(paths).await?;
    let second = Context::open(paths).await?;
    note("ledger appends through one writer");
    let one = ledger_appends(&first.vault, total).await?;
    note("ledger appends through two writers at once");
    let started = Instant::now();
    let (a, b) = tokio::join!(
        ledger_appends(&first.vault, total / 2),
        ledger_appends(&second.vault, total / 2)
    );
    let (_, _) = (a?, b?);
    let two = (total / 2 * 2) as f64 / started.elapsed().as_secs_f64();
    out.insert("ledger_append_per_s_one_writer", json!(one.round()));
    out.insert("ledger_append_per_s_two_writers", json!(two.round()));
    out.insert("ledger_two_writers_vs_one", json!(round3(two / one)));
    Ok(())
}
