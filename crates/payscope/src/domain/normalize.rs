//! The pure function from a stored Stripe charge (its JSON, its balance transaction when known, its attempt number
//! within its payment intent) to the analytics row [`Payment`].
//!
//! Reads go through the Stripe client's narrow views, where every field is optional and every enum open, so a
//! charge from any API version normalises without failing; what is absent stays `None`.

use stripe::views::{BalanceTransaction, Charge};

use super::payment::Payment;

/// Why a stored charge cannot become a payment row.
#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    /// The JSON is not a charge as Stripe renders it.
    #[error("the stored charge is not readable json: {0}; re-import the connection")]
    Json(#[from] serde_json::Error),
    /// A field every charge has is missing.
    #[error("the stored charge has no {0}; it is not a stripe charge")]
    Missing(&'static str),
}

/// Normalises one charge. `balance_transaction` is used when the charge's own `balance_transaction` is only an id
/// (the import expands it inline, so it is usually not needed); `attempt_number` is the charge's position among its
/// intent's charges by `created`, 1-based, when the caller knows it. `version` is what this row reflects (the
/// event's `created` or the fetch time).
pub fn payment_from_charge(
    charge_json: &str,
    balance_transaction: Option<&BalanceTransaction>,
    attempt_number: Option<i64>,
    version: i64,
) -> Result<Payment, NormalizeError> {
    let charge: Charge = serde_json::from_str(charge_json)?;
    payment_from_view(&charge, balance_transaction, attempt_number, version)
}

/// [`payment_from_charge`] on an already parsed view.
pub fn payment_from_view(
    charge: &Charge,
    balance_transaction: Option<&BalanceTransaction>,
    attempt_number: Option<i64>,
    version: i64,
) -> Result<Payment, NormalizeError> {
    let outcome = charge.outcome.as_ref();
    let details = charge.payment_method_details.as_ref();
    let card = details.and_then(|d| d.card.as_ref());
    let expanded = charge
        .balance_transaction
        .as_ref()
        .and_then(|bt| bt.as_object());
    // An expanded transaction in the charge wins over one passed in: it is the charge's own.
    let txn = expanded.or(balance_transaction.filter(|bt| {
        let wanted = charge.balance_transaction.as_ref().and_then(|b| b.id());
        wanted.is_none() || wanted == bt.id.as_deref()
    }));
    let outcome_type = outcome.and_then(|o| o.outcome_type.as_ref().map(|t| t.to_string()));
    // The issuer's decline code is the outcome reason of an issuer decline; for Radar blocks the reason is a risk
    // verdict (e.g. highest_risk_level), not a decline code.
    let decline_code = outcome
        .filter(|_| outcome_type.as_deref() == Some("issuer_declined"))
        .and_then(|o| o.reason.clone());
    Ok(Payment {
        charge_id: charge.id.clone().ok_or(NormalizeError::Missing("id"))?,
        created: charge.created.ok_or(NormalizeError::Missing("created"))?,
        version,
        amount: charge.amount.ok_or(NormalizeError::Missing("amount"))?,
        currency: charge
            .currency
            .clone()
            .ok_or(NormalizeError::Missing("currency"))?,
        status: charge
            .status
            .as_ref()
            .map(|s| s.to_string())
            .ok_or(NormalizeError::Missing("status"))?,
        captured: charge.captured.unwrap_or(false),
        amount_refunded: charge.amount_refunded.unwrap_or(0),
        disputed: charge.disputed.unwrap_or(false),
        outcome_type,
        network_status: outcome.and_then(|o| o.network_status.as_ref().map(|s| s.to_string())),
        outcome_reason: outcome.and_then(|o| o.reason.clone()),
        risk_level: outcome.and_then(|o| o.risk_level.as_ref().map(|s| s.to_string())),
        advice_code: outcome.and_then(|o| o.advice_code.as_ref().map(|s| s.to_string())),
        network_decline_code: outcome.and_then(|o| o.network_decline_code.clone()),
        failure_code: charge.failure_code.clone(),
        decline_code,
        payment_method_type: details.and_then(|d| d.method_type.clone()),
        card_brand: card.and_then(|c| c.brand.as_ref().map(|b| b.to_string())),
        card_funding: card.and_then(|c| c.funding.as_ref().map(|f| f.to_string())),
        card_country: card.and_then(|c| c.country.clone()),
        card_iin: card.and_then(|c| c.iin.clone()),
        card_issuer: card.and_then(|c| c.issuer.clone()),
        wallet: card.and_then(|c| {
            c.wallet
                .as_ref()
                .and_then(|w| w.wallet_type.as_ref().map(|t| t.to_string()))
        }),
        three_d_secure: card.and_then(|c| {
            c.three_d_secure
                .as_ref()
                .and_then(|t| t.result.as_ref().map(|r| r.to_string()))
        }),
        fee: txn.and_then(|t| t.fee),
        net: txn.and_then(|t| t.net),
        payment_intent_id: charge
            .payment_intent
            .as_ref()
            .map(|p| p.as_str().to_owned()),
        attempt_number,
        customer_id: charge.customer.as_ref().map(|c| c.as_str().to_owned()),
    })
}

#[cfg(test)]
mod tests;
