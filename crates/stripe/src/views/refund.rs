//! The Refund view: money returned to a customer.

use serde::Deserialize;

use super::{BalanceTransaction, Expandable, Metadata, ObjectId};
use crate::open_enum::open_enum;

/// A refund (`re_…`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Refund {
    /// `re_…`
    pub id: Option<String>,
    /// Amount refunded, minor units.
    pub amount: Option<i64>,
    /// The balance transaction (id, or object when expanded).
    pub balance_transaction: Option<Expandable<BalanceTransaction>>,
    /// The refunded charge.
    pub charge: Option<ObjectId>,
    /// Unix seconds.
    pub created: Option<i64>,
    /// Currency.
    pub currency: Option<String>,
    /// Why a refund failed.
    pub failure_reason: Option<String>,
    /// The merchant's metadata.
    pub metadata: Option<Metadata>,
    /// The PaymentIntent refunded.
    pub payment_intent: Option<ObjectId>,
    /// Why it was refunded.
    pub reason: Option<RefundReason>,
    /// Where the refund stands.
    pub status: Option<RefundStatus>,
}

open_enum! {
    /// `refund.reason`.
    pub enum RefundReason {
        Duplicate => "duplicate",
        ExpiredUncapturedCharge => "expired_uncaptured_charge",
        Fraudulent => "fraudulent",
        RequestedByCustomer => "requested_by_customer",
    }
}

open_enum! {
    /// `refund.status`.
    pub enum RefundStatus {
        Pending => "pending",
        RequiresAction => "requires_action",
        Succeeded => "succeeded",
        Failed => "failed",
        Canceled => "canceled",
    }
}
