//! What left, as the laws ask it to be recorded: Japan's APPI records of provision to third
//! parties (recipient, date, person, categories, the ground), exportable for a period; and the
//! CCPA's "categories sold or shared in the last 12 months", computed from the same records.
//! Read through the one door (`admin = ["audit"]`) and ledgered.

use mamori_policy::AdminPermission;
use mamori_policy::vendors::VendorRole;
use mamori_proto::disclosures::{ProvisionRecord, ProvisionRecords, SoldOrShared};

use crate::access::Permission;
use crate::error::Result;
use crate::vault::{Actor, Vault};
use crate::{format_id, format_time};

/// Records in one answer at most.
pub const MAX_RECORDS: i64 = 100_000;
const AUDIT: Permission = Permission::Admin(AdminPermission::Audit);
const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

impl Vault {
    /// The disclosures made in `[from_ms, to_ms)`, oldest first (ledgered `disclosure.records`).
    pub async fn provision_records(
        &self,
        by: &Actor,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<ProvisionRecords> {
        self.grant_and_ledger(by, AUDIT, "disclosure.records")
            .await?;
        let rows = (self.store)
            .disclosures_between(from_ms, to_ms, MAX_RECORDS + 1)
            .await?;
        let truncated = rows.len() as i64 > MAX_RECORDS;
        let records = (rows.into_iter().take(MAX_RECORDS as usize))
            .map(|r| {
                let vendor = self.policy.vendor(&r.vendor);
                let role = vendor.map(|v| v.role);
                let basis = self.policy.purpose(&r.purpose).map(|p| p.legal_basis);
                ProvisionRecord {
                    id: format_id(&r.id),
                    subject: format_id(&r.subject_id),
                    vendor_role: role.map_or("removed", role_code).to_string(),
                    appi_record: role.is_some_and(|r| r == VendorRole::IndependentController),
                    vendor: r.vendor,
                    legal_basis: basis.map_or("removed", |b| b.name()).to_string(),
                    purpose: r.purpose,
                    categories: r.categories.split(',').map(str::to_string).collect(),
                    records: (r.records.split(',').filter(|id| !id.is_empty()))
                        .map(str::to_string)
                        .collect(),
                    disclosed_at: format_time(r.at_ms),
                }
            })
            .collect();
        Ok(ProvisionRecords { records, truncated })
    }

    /// The categories disclosed for a sale or share (purposes flagged `sale_or_share`) in the
    /// last 12 months, with the recipients and purposes (ledgered `disclosure.sold_or_shared`).
    pub async fn sold_or_shared(&self, by: &Actor) -> Result<SoldOrShared> {
        self.grant_and_ledger(by, AUDIT, "disclosure.sold_or_shared")
            .await?;
        let since = self.now_ms() - YEAR_MS;
        let flagged: Vec<String> = (self.policy.purposes.iter())
            .filter(|p| p.sale_or_share)
            .map(|p| p.name.clone())
            .collect();
        let rows = self.store.disclosure_summary(&flagged, since).await?;
        let (mut categories, mut recipients, mut purposes) = (vec![], vec![], vec![]);
        for (vendor, purpose, names) in rows {
            categories.extend(names.split(',').map(str::to_string));
            recipients.push(vendor);
            purposes.push(purpose);
        }
        for list in [&mut categories, &mut recipients, &mut purposes] {
            list.sort();
            list.dedup();
        }
        Ok(SoldOrShared {
            since: format_time(since),
            categories,
            recipients,
            purposes,
        })
    }
}

fn role_code(role: VendorRole) -> &'static str {
    VendorRole::ALL
        .iter()
        .find(|(_, r)| *r == role)
        .map_or("processor", |(name, _)| name)
}
