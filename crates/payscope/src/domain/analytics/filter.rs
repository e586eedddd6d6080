//! What a dashboard looks at: the period, the data connections and the card attributes it is narrowed to, and the
//! approval-rate rules; plus the dimensions a breakdown can group by.

use serde::Serialize;

use super::period::Period;

/// Every filter a dashboard applies. Empty lists mean "all".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filter {
    /// The date range (by the payment's `created`).
    pub period: Period,
    /// Data connection ids.
    pub connections: Vec<String>,
    /// Card brands (visa, mastercard, …).
    pub brands: Vec<String>,
    /// Card funding (credit, debit, prepaid, unknown).
    pub funding: Vec<String>,
    /// Issuing countries (ISO-2).
    pub countries: Vec<String>,
    /// Currencies (lowercase ISO).
    pub currencies: Vec<String>,
    /// How approval is counted.
    pub approval: ApprovalRules,
}

impl Filter {
    /// Everything in `period`, counted with the default approval rules.
    pub fn period(period: Period) -> Filter {
        Filter {
            period,
            connections: Vec::new(),
            brands: Vec::new(),
            funding: Vec::new(),
            countries: Vec::new(),
            currencies: Vec::new(),
            approval: ApprovalRules::default(),
        }
    }

    /// The same filter over the previous period of the same length.
    pub fn previous(&self) -> Filter {
        Filter {
            period: self.period.previous(),
            ..self.clone()
        }
    }
}

/// How the approval rate is defined. Approved ÷ attempted, where attempted never includes card verifications
/// (zero-amount charges: they check a card, they do not ask for money).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ApprovalRules {
    /// Count each payment intent once, approved when any of its attempts succeeded, so a customer retrying a
    /// declined card three times is one attempt, not three. Charges without an intent count alone.
    pub dedup_retries: bool,
    /// Leave pending charges out of both sides (their outcome is unknown yet); otherwise they count as attempted
    /// and not approved.
    pub exclude_pending: bool,
}

impl Default for ApprovalRules {
    /// Pagos-style defaults: raw attempts, pending excluded.
    fn default() -> Self {
        ApprovalRules {
            dedup_retries: false,
            exclude_pending: true,
        }
    }
}

/// A payment attribute a breakdown can group by. The store maps each to one column; nothing else reaches SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Card brand.
    Brand,
    /// Card funding.
    Funding,
    /// Issuing country.
    Country,
    /// Issuing bank name.
    Issuer,
    /// BIN / IIN.
    Bin,
    /// Wallet type.
    Wallet,
    /// 3-D Secure result.
    ThreeDSecure,
    /// Issuer decline code.
    DeclineCode,
    /// Stripe's failure code.
    FailureCode,
    /// Advice code.
    AdviceCode,
    /// Network status.
    NetworkStatus,
    /// Outcome type.
    OutcomeType,
    /// Charge status.
    Status,
    /// Currency.
    Currency,
}

impl Dimension {
    /// The name used in URLs, CSV headers and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Brand => "brand",
            Dimension::Funding => "funding",
            Dimension::Country => "country",
            Dimension::Issuer => "issuer",
            Dimension::Bin => "bin",
            Dimension::Wallet => "wallet",
            Dimension::ThreeDSecure => "three_d_secure",
            Dimension::DeclineCode => "decline_code",
            Dimension::FailureCode => "failure_code",
            Dimension::AdviceCode => "advice_code",
            Dimension::NetworkStatus => "network_status",
            Dimension::OutcomeType => "outcome_type",
            Dimension::Status => "status",
            Dimension::Currency => "currency",
        }
    }

    /// The filter parameter a value of this dimension narrows to, when the dashboards filter by it.
    pub fn filter_param(self) -> Option<&'static str> {
        match self {
            Dimension::Brand => Some("brand"),
            Dimension::Funding => Some("funding"),
            Dimension::Country => Some("country"),
            Dimension::Currency => Some("currency"),
            _ => None,
        }
    }
}
