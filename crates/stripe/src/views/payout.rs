//! The Payout view: money sent from Stripe to the merchant's bank.

use serde::Deserialize;

use super::{Metadata, ObjectId};
use crate::open_enum::open_enum;

/// A payout (`po_…`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Payout {
    /// `po_…`
    pub id: Option<String>,
    /// Amount, minor units.
    pub amount: Option<i64>,
    /// Expected arrival, unix seconds.
    pub arrival_date: Option<i64>,
    /// Whether Stripe created it on the payout schedule.
    pub automatic: Option<bool>,
    /// Its balance transaction.
    pub balance_transaction: Option<ObjectId>,
    /// Unix seconds.
    pub created: Option<i64>,
    /// Currency.
    pub currency: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// The bank account or card paid to.
    pub destination: Option<ObjectId>,
    /// Why it failed.
    pub failure_code: Option<String>,
    /// Human-readable failure reason.
    pub failure_message: Option<String>,
    /// Live or test data.
    pub livemode: Option<bool>,
    /// The merchant's metadata.
    pub metadata: Option<Metadata>,
    /// Standard or instant.
    pub method: Option<PayoutMethod>,
    /// Whether its transactions are reconciled.
    pub reconciliation_status: Option<PayoutReconciliationStatus>,
    /// Which balance funded it (`card`, `bank_account`, `fpx`).
    pub source_type: Option<String>,
    /// Statement text at the bank.
    pub statement_descriptor: Option<String>,
    /// Where the payout stands.
    pub status: Option<PayoutStatus>,
    /// Bank account or card.
    #[serde(rename = "type")]
    pub payout_type: Option<PayoutType>,
}

open_enum! {
    /// `payout.method`.
    pub enum PayoutMethod {
        Standard => "standard",
        Instant => "instant",
    }
}

open_enum! {
    /// `payout.reconciliation_status`.
    pub enum PayoutReconciliationStatus {
        Completed => "completed",
        InProgress => "in_progress",
        NotApplicable => "not_applicable",
    }
}

open_enum! {
    /// `payout.status`.
    pub enum PayoutStatus {
        Paid => "paid",
        Pending => "pending",
        InTransit => "in_transit",
        Canceled => "canceled",
        Failed => "failed",
    }
}

open_enum! {
    /// `payout.type`.
    pub enum PayoutType {
        BankAccount => "bank_account",
        Card => "card",
    }
}
