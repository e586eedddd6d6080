//! The BalanceTransaction view: money movements with fees and net amounts — the basis of cost analytics.

use serde::Deserialize;

use super::ObjectId;
use crate::open_enum::open_enum;

/// A balance transaction (`txn_…`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BalanceTransaction {
    /// `txn_…`
    pub id: Option<String>,
    /// Gross amount in minor units; positive in, negative out.
    pub amount: Option<i64>,
    /// Unix seconds when the funds become available.
    pub available_on: Option<i64>,
    /// Which balance the funds belong to.
    pub balance_type: Option<BalanceType>,
    /// Unix seconds.
    pub created: Option<i64>,
    /// Three-letter ISO code, lowercase.
    pub currency: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Conversion rate when the charge currency differs.
    pub exchange_rate: Option<f64>,
    /// Total fees, positive when assessed.
    pub fee: Option<i64>,
    /// The fees one by one.
    pub fee_details: Option<Vec<FeeDetail>>,
    /// `amount - fee`.
    pub net: Option<i64>,
    /// Stripe's accounting category; use it rather than `type` for reports.
    pub reporting_category: Option<String>,
    /// The object that caused the movement (id, or object when expanded).
    pub source: Option<ObjectId>,
    /// `available` or `pending`.
    pub status: Option<BalanceTransactionStatus>,
    /// What kind of movement.
    #[serde(rename = "type")]
    pub transaction_type: Option<BalanceTransactionType>,
}

/// One fee of a balance transaction.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FeeDetail {
    /// Amount in minor units.
    pub amount: Option<i64>,
    /// The Connect application that earned it.
    pub application: Option<String>,
    /// Currency.
    pub currency: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// What kind of fee.
    #[serde(rename = "type")]
    pub fee_type: Option<FeeType>,
}

open_enum! {
    /// `fee_details[].type`.
    pub enum FeeType {
        ApplicationFee => "application_fee",
        PaymentMethodPassthroughFee => "payment_method_passthrough_fee",
        StripeFee => "stripe_fee",
        Tax => "tax",
        WithheldTax => "withheld_tax",
    }
}

open_enum! {
    /// `balance_type`.
    pub enum BalanceType {
        Issuing => "issuing",
        Payments => "payments",
        RefundAndDisputePrefunding => "refund_and_dispute_prefunding",
        RiskReserved => "risk_reserved",
    }
}

open_enum! {
    /// A balance transaction's status.
    pub enum BalanceTransactionStatus {
        Available => "available",
        Pending => "pending",
    }
}

open_enum! {
    /// A balance transaction's type (about 50 exist; the common ones are named).
    pub enum BalanceTransactionType {
        Adjustment => "adjustment",
        Advance => "advance",
        ApplicationFee => "application_fee",
        Charge => "charge",
        Payment => "payment",
        PaymentRefund => "payment_refund",
        Refund => "refund",
        Payout => "payout",
        PayoutCancel => "payout_cancel",
        PayoutFailure => "payout_failure",
        StripeFee => "stripe_fee",
        StripeFxFee => "stripe_fx_fee",
        TaxFee => "tax_fee",
        Topup => "topup",
        Transfer => "transfer",
        ReserveHold => "reserve_hold",
        ReserveRelease => "reserve_release",
        Dispute => "dispute",
    }
}
