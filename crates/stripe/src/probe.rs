//! The permission probe: one call that checks, concurrently and without side effects, every permission the guide
//! asks the merchant to grant, and says for each whether it is granted, missing, or cannot be checked (and why).
//!
//! How each permission is probed (facts §2; the UNVERIFIED orderings are our documented choices, which the emulator
//! implements):
//!
//! | Dashboard name | permission | probe | granted when |
//! |---|---|---|---|
//! | Balance | `rak_balance_read` | `GET /v1/balance` | 2xx |
//! | Balance transaction sources | `rak_balance_transaction_source_read` | `GET /v1/balance_transactions?limit=1&expand[]=data.source` | 2xx and the first `source`, if any, came back expanded (a silently unexpanded id counts as missing) |
//! | Balance Transfers | `rak_balance_transfer_read` (name unverified) | none: private preview, no public endpoint | — (cannot be checked) |
//! | Charges, Disputes, Events, Files, PaymentIntents, PaymentMethods, Payouts, Products, SetupIntents, Credit notes | `rak_<x>_read` | `GET /v1/<x>s?limit=1` | 2xx |
//! | Subscriptions | `rak_subscription_read` | `GET /v1/subscriptions?limit=1&status=all` | 2xx |
//! | Report Runs and Report Types | `rak_report_runs_and_report_types_read` | `GET /v1/reporting/report_runs?limit=1` (report types error in test mode for live-only types) | 2xx |
//! | Sources | `rak_source_read` | no list endpoint: `GET /v1/sources/src_payscopeprobe` | 404 `resource_missing` (assumes Stripe checks permissions before looking the object up, facts §14.3) |
//! | Tokens | `rak_token_read` | no list endpoint: `GET /v1/tokens/tok_payscopeprobe` | as Sources |
//! | SKUs | `rak_sku_read` | none: `/v1/skus` left the API in 2022 | — (cannot be checked) |
//! | Webhook Endpoints (Write) | `rak_webhook_write` | `POST /v1/webhook_endpoints` with no parameters: nothing is created | 400 `parameter_missing` (assumes permission is checked before parameters, facts §14.3) |
//!
//! Everywhere a 403 means missing. Any other answer (404 on a list, 429 or 5xx after retries, network failure) means
//! "cannot be checked" with the error as the reason; a 401 fails the whole probe because no check can succeed.
//! The account id comes from any 403 message or from `GET /v1/account` (which needs `rak_connected_account_read`,
//! not in the guide's set, so it often fails quietly).

use futures::future::join_all;
use serde::Deserialize;

use crate::client::Client;
use crate::error::Error;
use crate::form::Params;
use crate::key::Mode;

/// The level the guide asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Read.
    Read,
    /// Write (implies Read).
    Write,
}

/// One permission the guide asks for, named both ways so the UI can say "set Charges to Read (rak_charge_read)".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Requirement {
    /// The resource as the Dashboard's key form names it.
    pub dashboard_name: &'static str,
    /// The permission as Stripe's 403 messages name it.
    pub permission: &'static str,
    /// Read or Write.
    pub access: Access,
}

const fn read(dashboard_name: &'static str, permission: &'static str) -> Requirement {
    Requirement {
        dashboard_name,
        permission,
        access: Access::Read,
    }
}

/// Every permission the guide asks for, in the guide's order.
pub const REQUIRED_PERMISSIONS: [Requirement; 19] = [
    read("Balance", "rak_balance_read"),
    read(
        "Balance transaction sources",
        "rak_balance_transaction_source_read",
    ),
    read("Balance Transfers", "rak_balance_transfer_read"),
    read("Charges", "rak_charge_read"),
    read("Disputes", "rak_dispute_read"),
    read("Events", "rak_event_read"),
    read("Files", "rak_file_read"),
    read("PaymentIntents", "rak_payment_intent_read"),
    read("PaymentMethods", "rak_payment_method_read"),
    read("Payouts", "rak_payout_read"),
    read("Products", "rak_product_read"),
    read("SetupIntents", "rak_setup_intent_read"),
    read("Sources", "rak_source_read"),
    read("Tokens", "rak_token_read"),
    read("Credit notes", "rak_credit_note_read"),
    read("Subscriptions", "rak_subscription_read"),
    read("SKUs", "rak_sku_read"),
    read(
        "Report Runs and Report Types",
        "rak_report_runs_and_report_types_read",
    ),
    Requirement {
        dashboard_name: "Webhook Endpoints",
        permission: "rak_webhook_write",
        access: Access::Write,
    },
];

/// The verdict on one permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The key has it.
    Granted,
    /// Stripe refused the probe for lack of it.
    Missing,
    /// No side-effect-free request can tell, or the probe failed for another reason.
    CannotCheck {
        /// Why, in words for the merchant.
        reason: String,
    },
}

/// One permission and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionCheck {
    /// The permission.
    pub requirement: Requirement,
    /// The verdict.
    pub outcome: ProbeOutcome,
}

/// The probe's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionReport {
    /// The key's mode.
    pub mode: Mode,
    /// The Stripe account id, when a response revealed it.
    pub account_id: Option<String>,
    /// One entry per [`REQUIRED_PERMISSIONS`] item, same order.
    pub checks: Vec<PermissionCheck>,
}

impl PermissionReport {
    /// The permissions Stripe said are missing.
    pub fn missing(&self) -> Vec<Requirement> {
        self.checks
            .iter()
            .filter(|c| c.outcome == ProbeOutcome::Missing)
            .map(|c| c.requirement)
            .collect()
    }

    /// The verdict for one permission, by its `rak_…` name.
    pub fn outcome(&self, permission: &str) -> Option<&ProbeOutcome> {
        self.checks
            .iter()
            .find(|c| c.requirement.permission == permission)
            .map(|c| &c.outcome)
    }
}

/// How one permission is probed.
enum Probe {
    Get(&'static str, Params),
    ExpandedBalanceTransactionSource,
    LookupOfMissingObject(&'static str),
    PostWithoutParameters(&'static str),
    Impossible(&'static str),
}

fn probe_for(permission: &str) -> Probe {
    let list = |path| Probe::Get(path, Params::new().text("limit", 1));
    match permission {
        "rak_balance_read" => Probe::Get("/v1/balance", Params::new()),
        "rak_balance_transaction_source_read" => Probe::ExpandedBalanceTransactionSource,
        "rak_balance_transfer_read" => Probe::Impossible(
            "Balance Transfers is a private preview with no public endpoint, so Stripe offers no way to check it",
        ),
        "rak_charge_read" => list("/v1/charges"),
        "rak_dispute_read" => list("/v1/disputes"),
        "rak_event_read" => list("/v1/events"),
        "rak_file_read" => list("/v1/files"),
        "rak_payment_intent_read" => list("/v1/payment_intents"),
        "rak_payment_method_read" => list("/v1/payment_methods"),
        "rak_payout_read" => list("/v1/payouts"),
        "rak_product_read" => list("/v1/products"),
        "rak_setup_intent_read" => list("/v1/setup_intents"),
        "rak_source_read" => Probe::LookupOfMissingObject("/v1/sources/src_payscopeprobe"),
        "rak_token_read" => Probe::LookupOfMissingObject("/v1/tokens/tok_payscopeprobe"),
        "rak_credit_note_read" => list("/v1/credit_notes"),
        "rak_subscription_read" => Probe::Get(
            "/v1/subscriptions",
            Params::new().text("limit", 1).text("status", "all"),
        ),
        "rak_sku_read" => Probe::Impossible(
            "SKUs left the Stripe API in 2022 (/v1/skus no longer exists), so no request can check this permission",
        ),
        "rak_report_runs_and_report_types_read" => list("/v1/reporting/report_runs"),
        "rak_webhook_write" => Probe::PostWithoutParameters("/v1/webhook_endpoints"),
        _ => Probe::Impossible("payscope does not know how to probe this permission"),
    }
}

/// What one probe learned: a verdict, maybe the account id, or a failure that ends the whole probe.
struct Finding {
    outcome: ProbeOutcome,
    account_id: Option<String>,
}

#[derive(Deserialize)]
struct ListHead {
    data: Vec<SourceField>,
}

#[derive(Deserialize)]
struct SourceField {
    source: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct AccountHead {
    id: Option<String>,
}

impl Client {
    /// Checks every permission of [`REQUIRED_PERMISSIONS`] concurrently. Fails only when the key itself is refused
    /// (401) — then nothing else can be checked; every other problem becomes a per-permission verdict.
    pub async fn probe_permissions(&self) -> Result<PermissionReport, Error> {
        let probes = REQUIRED_PERMISSIONS
            .iter()
            .map(|requirement| self.run_probe(probe_for(requirement.permission)));
        let no_params = Params::new();
        let account = self.get_json::<AccountHead>("/v1/account", &no_params, "an account");
        let (findings, account) = futures::join!(join_all(probes), account);
        let mut account_id = match account {
            Ok(head) => head.id,
            Err(Error::Permission { account_id, .. }) => account_id,
            Err(_) => None,
        };
        let mut checks = Vec::with_capacity(findings.len());
        for (requirement, finding) in REQUIRED_PERMISSIONS.iter().zip(findings) {
            let finding = finding?;
            account_id = account_id.or(finding.account_id);
            checks.push(PermissionCheck {
                requirement: *requirement,
                outcome: finding.outcome,
            });
        }
        Ok(PermissionReport {
            mode: self.mode(),
            account_id,
            checks,
        })
    }

    async fn run_probe(&self, probe: Probe) -> Result<Finding, Error> {
        let result = match &probe {
            Probe::Impossible(reason) => {
                return Ok(Finding {
                    outcome: ProbeOutcome::CannotCheck {
                        reason: (*reason).to_owned(),
                    },
                    account_id: None,
                });
            }
            Probe::Get(path, params) => self.get(path, params).await,
            Probe::ExpandedBalanceTransactionSource => {
                let params = Params::new()
                    .text("limit", 1)
                    .list("expand", ["data.source"]);
                self.get("/v1/balance_transactions", &params).await
            }
            Probe::LookupOfMissingObject(path) => self.get(path, &Params::new()).await,
            Probe::PostWithoutParameters(path) => self.post(path, &Params::new()).await,
        };
        let outcome = match (&probe, result) {
            (_, Err(error @ Error::Authentication { .. })) => return Err(error),
            (_, Err(Error::Permission { account_id, .. })) => {
                return Ok(Finding {
                    outcome: ProbeOutcome::Missing,
                    account_id,
                });
            }
            (Probe::ExpandedBalanceTransactionSource, Ok(response)) => {
                match response.json::<ListHead>("a list of balance transactions") {
                    // An unexpanded id means Stripe ignored the expand instead of refusing it.
                    Ok(head) => match head.data.first().and_then(|t| t.source.as_ref()) {
                        Some(serde_json::Value::String(_)) => ProbeOutcome::Missing,
                        _ => ProbeOutcome::Granted,
                    },
                    Err(error) => cannot_check(&error),
                }
            }
            (_, Ok(_)) => ProbeOutcome::Granted,
            (Probe::LookupOfMissingObject(_), Err(error))
                if error.status() == Some(404) && error.code() == Some("resource_missing") =>
            {
                ProbeOutcome::Granted
            }
            (Probe::PostWithoutParameters(_), Err(error))
                if error.status() == Some(400) && error.code() == Some("parameter_missing") =>
            {
                ProbeOutcome::Granted
            }
            (_, Err(error)) => cannot_check(&error),
        };
        Ok(Finding {
            outcome,
            account_id: None,
        })
    }
}

fn cannot_check(error: &Error) -> ProbeOutcome {
    ProbeOutcome::CannotCheck {
        reason: format!("the probe request failed: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_required_permission_has_a_deliberate_probe() {
        for requirement in REQUIRED_PERMISSIONS {
            match probe_for(requirement.permission) {
                Probe::Impossible(reason) => {
                    assert!(
                        ["rak_balance_transfer_read", "rak_sku_read"]
                            .contains(&requirement.permission),
                        "{} has no probe: {reason}",
                        requirement.permission
                    );
                }
                Probe::Get(path, _)
                | Probe::LookupOfMissingObject(path)
                | Probe::PostWithoutParameters(path) => {
                    assert!(path.starts_with("/v1/"), "{path}");
                }
                Probe::ExpandedBalanceTransactionSource => {}
            }
        }
    }

    #[test]
    fn the_guides_list_is_complete_with_only_webhook_endpoints_at_write() {
        assert_eq!(REQUIRED_PERMISSIONS.len(), 19);
        let writes: Vec<&str> = REQUIRED_PERMISSIONS
            .iter()
            .filter(|r| r.access == Access::Write)
            .map(|r| r.dashboard_name)
            .collect();
        assert_eq!(writes, ["Webhook Endpoints"]);
        assert!(
            REQUIRED_PERMISSIONS
                .iter()
                .all(|r| r.permission.starts_with("rak_"))
        );
    }
}
