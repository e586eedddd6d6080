//! The Charge view: one payment attempt, its outcome and the card used — the core of approval and decline analytics.

use serde::Deserialize;

use super::{BalanceTransaction, Expandable, Metadata, ObjectId};
use crate::open_enum::open_enum;

/// A charge (`ch_…`): one attempt to move money, successful or not.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Charge {
    /// `ch_…`
    pub id: Option<String>,
    /// Amount intended to be collected, in the currency's minor unit.
    pub amount: Option<i64>,
    /// Amount captured (can be less than `amount`).
    pub amount_captured: Option<i64>,
    /// Amount refunded so far.
    pub amount_refunded: Option<i64>,
    /// The balance transaction that moved the funds (expand `balance_transaction` for fees); null until settled with
    /// asynchronous capture.
    pub balance_transaction: Option<Expandable<BalanceTransaction>>,
    /// Whether the charge was captured.
    pub captured: Option<bool>,
    /// Unix seconds; never changes.
    pub created: Option<i64>,
    /// Three-letter ISO code, lowercase.
    pub currency: Option<String>,
    /// The customer, if any.
    pub customer: Option<ObjectId>,
    /// Free text from the merchant.
    pub description: Option<String>,
    /// Whether a dispute was opened.
    pub disputed: Option<bool>,
    /// Error code of a failed charge, e.g. `card_declined`.
    pub failure_code: Option<String>,
    /// Human-readable failure reason.
    pub failure_message: Option<String>,
    /// Live or test data.
    pub livemode: Option<bool>,
    /// The merchant's metadata.
    pub metadata: Option<Metadata>,
    /// What the network and Radar said.
    pub outcome: Option<Outcome>,
    /// Whether the charge succeeded or was authorized for later capture.
    pub paid: Option<bool>,
    /// The PaymentIntent this charge belongs to; retries of one payment share it.
    pub payment_intent: Option<ObjectId>,
    /// The PaymentMethod id used.
    pub payment_method: Option<String>,
    /// How the customer paid, including card brand, country, BIN and issuer when available.
    pub payment_method_details: Option<PaymentMethodDetails>,
    /// Whether fully refunded.
    pub refunded: Option<bool>,
    /// `succeeded`, `pending` or `failed`.
    pub status: Option<ChargeStatus>,
}

open_enum! {
    /// A charge's status.
    pub enum ChargeStatus {
        Succeeded => "succeeded",
        Pending => "pending",
        Failed => "failed",
    }
}

/// `charge.outcome`: the authorization result and risk evaluation.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Outcome {
    /// Authorized, declined by the issuer, blocked by Radar, …
    #[serde(rename = "type")]
    pub outcome_type: Option<OutcomeType>,
    /// What the card network said.
    pub network_status: Option<NetworkStatus>,
    /// A short reason, e.g. `highest_risk_level` or a decline reason.
    pub reason: Option<String>,
    /// Radar's risk level.
    pub risk_level: Option<RiskLevel>,
    /// Radar's score 0–100 (Radar for Fraud Teams only).
    pub risk_score: Option<i64>,
    /// The Radar rule that acted, as an id.
    pub rule: Option<ObjectId>,
    /// A message for the merchant.
    pub seller_message: Option<String>,
    /// Stripe's advice on retrying.
    pub advice_code: Option<AdviceCode>,
    /// The network's two-character advice code.
    pub network_advice_code: Option<String>,
    /// The network's decline code.
    pub network_decline_code: Option<String>,
}

open_enum! {
    /// `outcome.type`.
    pub enum OutcomeType {
        Authorized => "authorized",
        ManualReview => "manual_review",
        IssuerDeclined => "issuer_declined",
        Blocked => "blocked",
        Invalid => "invalid",
    }
}

open_enum! {
    /// `outcome.network_status`.
    pub enum NetworkStatus {
        ApprovedByNetwork => "approved_by_network",
        DeclinedByNetwork => "declined_by_network",
        NotSentToNetwork => "not_sent_to_network",
        ReversedAfterApproval => "reversed_after_approval",
    }
}

open_enum! {
    /// `outcome.risk_level`.
    pub enum RiskLevel {
        Normal => "normal",
        Elevated => "elevated",
        Highest => "highest",
        NotAssessed => "not_assessed",
        StripeUnknown => "unknown",
    }
}

open_enum! {
    /// `outcome.advice_code`.
    pub enum AdviceCode {
        ConfirmCardData => "confirm_card_data",
        DoNotTryAgain => "do_not_try_again",
        TryAgainLater => "try_again_later",
    }
}

/// `charge.payment_method_details`: the payment method type and, for cards, the card.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PaymentMethodDetails {
    /// `card`, `sepa_debit`, … (open set).
    #[serde(rename = "type")]
    pub method_type: Option<String>,
    /// Card details when `type` is `card`.
    pub card: Option<CardDetails>,
}

/// `payment_method_details.card`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CardDetails {
    /// Amount authorized.
    pub amount_authorized: Option<i64>,
    /// The issuer's authorization code.
    pub authorization_code: Option<String>,
    /// Card brand.
    pub brand: Option<CardBrand>,
    /// CVC and address checks.
    pub checks: Option<CardChecks>,
    /// Issuing country, ISO-2.
    pub country: Option<String>,
    /// Card range description; Stripe reveals it only when card details are enabled for the account.
    pub description: Option<String>,
    /// Expiry month.
    pub exp_month: Option<i64>,
    /// Expiry year.
    pub exp_year: Option<i64>,
    /// Stable card fingerprint.
    pub fingerprint: Option<String>,
    /// Credit, debit, prepaid.
    pub funding: Option<CardFunding>,
    /// The BIN; Stripe reveals it only when card details are enabled for the account.
    pub iin: Option<String>,
    /// The issuing bank; Stripe reveals it only when card details are enabled for the account.
    pub issuer: Option<String>,
    /// Last four digits.
    pub last4: Option<String>,
    /// The network that processed the charge.
    pub network: Option<CardNetwork>,
    /// The network's transaction id.
    pub network_transaction_id: Option<String>,
    /// Whether interchange regulation applied.
    pub regulated_status: Option<RegulatedStatus>,
    /// 3D Secure result.
    pub three_d_secure: Option<ThreeDSecure>,
    /// Wallet (Apple Pay, Google Pay, …) when used.
    pub wallet: Option<Wallet>,
}

open_enum! {
    /// `card.brand`.
    pub enum CardBrand {
        Amex => "amex",
        CartesBancaires => "cartes_bancaires",
        Diners => "diners",
        Discover => "discover",
        EftposAu => "eftpos_au",
        Jcb => "jcb",
        Link => "link",
        Mastercard => "mastercard",
        Unionpay => "unionpay",
        Visa => "visa",
        StripeUnknown => "unknown",
    }
}

open_enum! {
    /// `card.network`.
    pub enum CardNetwork {
        Amex => "amex",
        CartesBancaires => "cartes_bancaires",
        Diners => "diners",
        Discover => "discover",
        EftposAu => "eftpos_au",
        Interac => "interac",
        Jcb => "jcb",
        Link => "link",
        Mastercard => "mastercard",
        Unionpay => "unionpay",
        Visa => "visa",
        StripeUnknown => "unknown",
    }
}

open_enum! {
    /// `card.funding`.
    pub enum CardFunding {
        Credit => "credit",
        Debit => "debit",
        Prepaid => "prepaid",
        StripeUnknown => "unknown",
    }
}

open_enum! {
    /// `card.regulated_status`.
    pub enum RegulatedStatus {
        Regulated => "regulated",
        Unregulated => "unregulated",
    }
}

/// `card.checks`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CardChecks {
    /// Address line 1 check.
    pub address_line1_check: Option<CheckResult>,
    /// Postal code check.
    pub address_postal_code_check: Option<CheckResult>,
    /// CVC check.
    pub cvc_check: Option<CheckResult>,
}

open_enum! {
    /// The result of one card check.
    pub enum CheckResult {
        Pass => "pass",
        Fail => "fail",
        Unavailable => "unavailable",
        Unchecked => "unchecked",
    }
}

/// `card.three_d_secure`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ThreeDSecure {
    /// `challenge` or `frictionless`.
    pub authentication_flow: Option<String>,
    /// The authentication result.
    pub result: Option<ThreeDSecureResult>,
    /// Why the result is what it is.
    pub result_reason: Option<String>,
    /// Protocol version, e.g. `2.2.0`.
    pub version: Option<String>,
}

open_enum! {
    /// `three_d_secure.result`.
    pub enum ThreeDSecureResult {
        AttemptAcknowledged => "attempt_acknowledged",
        Authenticated => "authenticated",
        DataShareOnly => "data_share_only",
        Exempted => "exempted",
        Failed => "failed",
        NotSupported => "not_supported",
        ProcessingError => "processing_error",
    }
}

/// `card.wallet`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Wallet {
    /// The wallet used.
    #[serde(rename = "type")]
    pub wallet_type: Option<WalletType>,
}

open_enum! {
    /// `wallet.type`.
    pub enum WalletType {
        AmexExpressCheckout => "amex_express_checkout",
        ApplePay => "apple_pay",
        GooglePay => "google_pay",
        Link => "link",
        Masterpass => "masterpass",
        SamsungPay => "samsung_pay",
        VisaCheckout => "visa_checkout",
    }
}
