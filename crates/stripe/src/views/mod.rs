//! Narrow typed views of the Stripe objects payscope reads. Every field is optional and every enum has an
//! `Unknown(String)` arm, so a new field, a removed field or a new value never breaks parsing; the raw JSON stays the
//! record of truth and these views only read it.

mod balance_transaction;
mod charge;
mod dispute;
mod event;
mod payment_intent;
mod payout;
mod refund;
mod webhook_endpoint;

pub use balance_transaction::{
    BalanceTransaction, BalanceTransactionStatus, BalanceTransactionType, BalanceType, FeeDetail,
    FeeType,
};
pub use charge::{
    AdviceCode, CardBrand, CardChecks, CardDetails, CardFunding, CardNetwork, Charge, ChargeStatus,
    CheckResult, NetworkStatus, Outcome, OutcomeType, PaymentMethodDetails, RegulatedStatus,
    RiskLevel, ThreeDSecure, ThreeDSecureResult, Wallet, WalletType,
};
pub use dispute::{Dispute, DisputeReason, DisputeStatus, EvidenceDetails};
pub use event::{Event, EventData, EventRequest};
pub use payment_intent::{CaptureMethod, PaymentError, PaymentIntent, PaymentIntentStatus};
pub use payout::{Payout, PayoutMethod, PayoutReconciliationStatus, PayoutStatus, PayoutType};
pub use refund::{Refund, RefundReason, RefundStatus};
pub use webhook_endpoint::{WebhookEndpoint, WebhookEndpointStatus};

use serde::{Deserialize, Deserializer};

/// Stripe's `metadata`: string keys and values set by the merchant.
pub type Metadata = std::collections::BTreeMap<String, String>;

/// The id of a related object, whether Stripe sent it as an id string or expanded it into an object; for relations
/// payscope only joins on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ObjectId(pub String);

impl ObjectId {
    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum IdOrObject {
            Id(String),
            Object { id: String },
        }
        Ok(match IdOrObject::deserialize(deserializer)? {
            IdOrObject::Id(id) | IdOrObject::Object { id } => ObjectId(id),
        })
    }
}

/// A related object that is an id unless the request asked Stripe to expand it (`expand[]=…`), for relations payscope
/// reads fields from (a charge's balance transaction carries its fees).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    /// Not expanded: just the id.
    Id(String),
    /// Expanded: the whole object.
    Object(Box<T>),
}

impl<T: HasId> Expandable<T> {
    /// The id in either form.
    pub fn id(&self) -> Option<&str> {
        match self {
            Expandable::Id(id) => Some(id),
            Expandable::Object(object) => object.id(),
        }
    }
}

impl<T> Expandable<T> {
    /// The object, when it was expanded.
    pub fn as_object(&self) -> Option<&T> {
        match self {
            Expandable::Id(_) => None,
            Expandable::Object(object) => Some(object),
        }
    }
}

/// Views whose object has an `id`, so an [`Expandable`] can give the id in both forms.
pub trait HasId {
    /// The object's id, e.g. `ch_…`.
    fn id(&self) -> Option<&str>;
}

macro_rules! has_id {
    ($($view:ty),+) => {
        $(impl HasId for $view {
            fn id(&self) -> Option<&str> {
                self.id.as_deref()
            }
        })+
    };
}

has_id!(
    BalanceTransaction,
    Charge,
    Dispute,
    Event,
    PaymentIntent,
    Payout,
    Refund,
    WebhookEndpoint
);

#[cfg(test)]
mod tests;
