//! The Dispute view: chargebacks and inquiries.

use serde::Deserialize;

use super::{BalanceTransaction, Metadata, ObjectId};
use crate::open_enum::open_enum;

/// A dispute (`dp_…`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Dispute {
    /// `dp_…`
    pub id: Option<String>,
    /// Disputed amount, minor units.
    pub amount: Option<i64>,
    /// Funds withdrawn and reinstated for this dispute.
    pub balance_transactions: Option<Vec<BalanceTransaction>>,
    /// The disputed charge.
    pub charge: Option<ObjectId>,
    /// Unix seconds.
    pub created: Option<i64>,
    /// Currency.
    pub currency: Option<String>,
    /// Evidence deadline and submission state.
    pub evidence_details: Option<EvidenceDetails>,
    /// Whether the charge can still be refunded instead.
    pub is_charge_refundable: Option<bool>,
    /// Live or test data.
    pub livemode: Option<bool>,
    /// The merchant's metadata.
    pub metadata: Option<Metadata>,
    /// The network's reason code (network-dependent).
    pub network_reason_code: Option<String>,
    /// The disputed PaymentIntent.
    pub payment_intent: Option<ObjectId>,
    /// The customer's stated reason.
    pub reason: Option<DisputeReason>,
    /// Where the dispute stands.
    pub status: Option<DisputeStatus>,
}

/// `evidence_details`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EvidenceDetails {
    /// Evidence deadline, unix seconds.
    pub due_by: Option<i64>,
    /// Whether evidence was saved.
    pub has_evidence: Option<bool>,
    /// Whether the deadline passed.
    pub past_due: Option<bool>,
    /// How many times evidence was submitted.
    pub submission_count: Option<i64>,
}

open_enum! {
    /// `dispute.reason`.
    pub enum DisputeReason {
        BankCannotProcess => "bank_cannot_process",
        CheckReturned => "check_returned",
        CreditNotProcessed => "credit_not_processed",
        CustomerInitiated => "customer_initiated",
        DebitNotAuthorized => "debit_not_authorized",
        Duplicate => "duplicate",
        Fraudulent => "fraudulent",
        General => "general",
        IncorrectAccountDetails => "incorrect_account_details",
        InsufficientFunds => "insufficient_funds",
        Noncompliant => "noncompliant",
        ProductNotReceived => "product_not_received",
        ProductUnacceptable => "product_unacceptable",
        SubscriptionCanceled => "subscription_canceled",
        Unrecognized => "unrecognized",
    }
}

open_enum! {
    /// `dispute.status`.
    pub enum DisputeStatus {
        WarningNeedsResponse => "warning_needs_response",
        WarningUnderReview => "warning_under_review",
        WarningClosed => "warning_closed",
        NeedsResponse => "needs_response",
        UnderReview => "under_review",
        Won => "won",
        Lost => "lost",
        Prevented => "prevented",
    }
}
