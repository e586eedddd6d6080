//! The PaymentIntent view: one payment, possibly several charge attempts — used to deduplicate retries.

use serde::Deserialize;

use super::{Charge, Expandable, Metadata, ObjectId};
use crate::open_enum::open_enum;

/// A PaymentIntent (`pi_…`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PaymentIntent {
    /// `pi_…`
    pub id: Option<String>,
    /// Amount intended, minor units.
    pub amount: Option<i64>,
    /// Amount that can still be captured.
    pub amount_capturable: Option<i64>,
    /// Amount received.
    pub amount_received: Option<i64>,
    /// When it was canceled, unix seconds.
    pub canceled_at: Option<i64>,
    /// Why it was canceled.
    pub cancellation_reason: Option<String>,
    /// Automatic, automatic_async or manual capture.
    pub capture_method: Option<CaptureMethod>,
    /// Unix seconds.
    pub created: Option<i64>,
    /// Currency.
    pub currency: Option<String>,
    /// The customer, if any.
    pub customer: Option<ObjectId>,
    /// Free text.
    pub description: Option<String>,
    /// The error of the last failed attempt.
    pub last_payment_error: Option<PaymentError>,
    /// The latest charge (id, or object when expanded).
    pub latest_charge: Option<Expandable<Charge>>,
    /// Live or test data.
    pub livemode: Option<bool>,
    /// The merchant's metadata.
    pub metadata: Option<Metadata>,
    /// The PaymentMethod attached.
    pub payment_method: Option<ObjectId>,
    /// Payment method types allowed.
    pub payment_method_types: Option<Vec<String>>,
    /// Where the payment stands.
    pub status: Option<PaymentIntentStatus>,
}

/// `last_payment_error`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PaymentError {
    /// Error code, e.g. `card_declined`.
    pub code: Option<String>,
    /// Issuer decline code, e.g. `insufficient_funds`.
    pub decline_code: Option<String>,
    /// Human-readable message.
    pub message: Option<String>,
    /// Error type, e.g. `card_error`.
    #[serde(rename = "type")]
    pub error_type: Option<String>,
}

open_enum! {
    /// `capture_method`.
    pub enum CaptureMethod {
        Automatic => "automatic",
        AutomaticAsync => "automatic_async",
        Manual => "manual",
    }
}

open_enum! {
    /// A PaymentIntent's status.
    pub enum PaymentIntentStatus {
        Canceled => "canceled",
        Processing => "processing",
        RequiresAction => "requires_action",
        RequiresCapture => "requires_capture",
        RequiresConfirmation => "requires_confirmation",
        RequiresPaymentMethod => "requires_payment_method",
        Succeeded => "succeeded",
    }
}
