//! The compact records the ledger stores per object (small enums, u32 indexes, i64 amounts); JSON is rendered
//! from them on demand so a million charges fit in a few hundred megabytes.

/// "No object" in a u32 index field.
pub(crate) const NONE: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub(crate) struct Customer {
    pub created: i64,
    /// Index into `cards::COUNTRIES`.
    pub country: u8,
    pub currency: u8,
    pub default_payment_method: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct PaymentMethod {
    pub created: i64,
    pub customer: u32,
    /// Index into the card table's BINs.
    pub bin: u16,
    pub last4: u16,
    pub exp_month: u8,
    pub exp_year: u16,
    pub wallet: crate::data::cards::Wallet,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IntentStatus {
    RequiresPaymentMethod,
    Processing,
    Succeeded,
    Canceled,
}

impl IntentStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            IntentStatus::RequiresPaymentMethod => "requires_payment_method",
            IntentStatus::Processing => "processing",
            IntentStatus::Succeeded => "succeeded",
            IntentStatus::Canceled => "canceled",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct PaymentIntent {
    pub created: i64,
    pub amount: i64,
    pub currency: u8,
    pub customer: u32,
    pub payment_method: u32,
    pub latest_charge: u32,
    pub status: IntentStatus,
    /// When it was canceled (only for `Canceled`) or reached its final status otherwise.
    pub settled_at: i64,
    pub attempts: u8,
    /// Cancellation reason index: 0 none, 1 abandoned, 2 requested_by_customer, 3 duplicate.
    pub cancellation_reason: u8,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ChargeStatus {
    Succeeded,
    Pending,
    Failed,
}

impl ChargeStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ChargeStatus::Succeeded => "succeeded",
            ChargeStatus::Pending => "pending",
            ChargeStatus::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Charge {
    pub created: i64,
    pub amount: i64,
    pub amount_refunded: i64,
    pub intent: u32,
    pub customer: u32,
    pub payment_method: u32,
    pub balance_transaction: u32,
    pub dispute: u32,
    /// First refund of this charge; a charge's refunds are consecutive.
    pub refunds_start: u32,
    pub refunds_len: u8,
    pub currency: u8,
    pub status: ChargeStatus,
    /// Index into `declines` (0 = approved).
    pub decline: u8,
    pub risk_score: u8,
    pub three_ds: crate::data::cards::ThreeDs,
    /// CVC check: 0 pass, 1 fail, 2 unavailable, 3 unchecked.
    pub cvc_check: u8,
    /// Postal code check: 0 pass, 1 fail, 2 unavailable, 3 not provided (null).
    pub postal_check: u8,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RefundStatus {
    Succeeded,
    Pending,
}

impl RefundStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Pending => "pending",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Refund {
    pub created: i64,
    pub charge: u32,
    pub amount: i64,
    pub balance_transaction: u32,
    pub status: RefundStatus,
    /// 0 none, 1 requested_by_customer, 2 duplicate, 3 fraudulent.
    pub reason: u8,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum DisputeStatus {
    WarningNeedsResponse,
    WarningUnderReview,
    WarningClosed,
    NeedsResponse,
    UnderReview,
    Won,
    Lost,
}

impl DisputeStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            DisputeStatus::WarningNeedsResponse => "warning_needs_response",
            DisputeStatus::WarningUnderReview => "warning_under_review",
            DisputeStatus::WarningClosed => "warning_closed",
            DisputeStatus::NeedsResponse => "needs_response",
            DisputeStatus::UnderReview => "under_review",
            DisputeStatus::Won => "won",
            DisputeStatus::Lost => "lost",
        }
    }

    pub(crate) fn is_closed(self) -> bool {
        matches!(
            self,
            DisputeStatus::WarningClosed | DisputeStatus::Won | DisputeStatus::Lost
        )
    }

    pub(crate) fn is_inquiry(self) -> bool {
        matches!(
            self,
            DisputeStatus::WarningNeedsResponse
                | DisputeStatus::WarningUnderReview
                | DisputeStatus::WarningClosed
        )
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Dispute {
    pub created: i64,
    pub charge: u32,
    pub amount: i64,
    pub status: DisputeStatus,
    /// Index into `disputes::REASONS`.
    pub reason: u8,
    /// When the current status was reached (equals `created` while still in the first status).
    pub status_at: i64,
    /// The debit (and, for won disputes, the reinstatement) balance transactions.
    pub balance_transactions: [u32; 2],
    pub evidence_file: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TxnKind {
    Charge,
    Refund,
    /// A dispute debit (`adjustment`, reporting category `dispute`).
    Dispute,
    /// A won dispute's reinstatement (`adjustment`, reporting category `dispute_reversal`).
    DisputeReversal,
    Payout,
}

impl TxnKind {
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            TxnKind::Charge => "charge",
            TxnKind::Refund => "refund",
            TxnKind::Dispute | TxnKind::DisputeReversal => "adjustment",
            TxnKind::Payout => "payout",
        }
    }

    pub(crate) fn reporting_category(self) -> &'static str {
        match self {
            TxnKind::Charge => "charge",
            TxnKind::Refund => "refund",
            TxnKind::Dispute => "dispute",
            TxnKind::DisputeReversal => "dispute_reversal",
            TxnKind::Payout => "payout",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct BalanceTransaction {
    pub created: i64,
    pub available_on: i64,
    /// In the settlement currency (USD cents).
    pub amount: i64,
    pub fee: i64,
    pub kind: TxnKind,
    /// Index of the source object (charge, refund, dispute or payout, per `kind`).
    pub source: u32,
    /// The payout that paid this out, if any.
    pub payout: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum PayoutStatus {
    Paid,
    InTransit,
    Pending,
}

impl PayoutStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            PayoutStatus::Paid => "paid",
            PayoutStatus::InTransit => "in_transit",
            PayoutStatus::Pending => "pending",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Payout {
    pub created: i64,
    pub arrival_date: i64,
    pub amount: i64,
    pub status: PayoutStatus,
    pub balance_transaction: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SetupStatus {
    Succeeded,
    RequiresPaymentMethod,
    Canceled,
}

impl SetupStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            SetupStatus::Succeeded => "succeeded",
            SetupStatus::RequiresPaymentMethod => "requires_payment_method",
            SetupStatus::Canceled => "canceled",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct SetupIntent {
    pub created: i64,
    pub customer: u32,
    pub payment_method: u32,
    pub status: SetupStatus,
}

#[derive(Clone, Debug)]
pub(crate) struct Product {
    pub created: i64,
    /// Index into `catalog::PRODUCTS`.
    pub name: u16,
    pub active: bool,
    pub unit_amount: i64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SubscriptionStatus {
    Active,
    Trialing,
    PastDue,
    Unpaid,
    Canceled,
    Incomplete,
    IncompleteExpired,
}

impl SubscriptionStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Unpaid => "unpaid",
            SubscriptionStatus::Canceled => "canceled",
            SubscriptionStatus::Incomplete => "incomplete",
            SubscriptionStatus::IncompleteExpired => "incomplete_expired",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub created: i64,
    pub customer: u32,
    pub product: u32,
    pub status: SubscriptionStatus,
    pub canceled_at: i64,
    pub quantity: u8,
    /// Yearly instead of monthly billing.
    pub yearly: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct CreditNote {
    pub created: i64,
    pub customer: u32,
    pub amount: i64,
    pub void: bool,
    /// 0 none, 1 duplicate, 2 fraudulent, 3 order_change, 4 product_unsatisfactory.
    pub reason: u8,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FilePurpose {
    DisputeEvidence,
    FinanceReportRun,
}

impl FilePurpose {
    pub(crate) fn name(self) -> &'static str {
        match self {
            FilePurpose::DisputeEvidence => "dispute_evidence",
            FilePurpose::FinanceReportRun => "finance_report_run",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct File {
    pub created: i64,
    pub purpose: FilePurpose,
    pub size: u32,
    /// For report files, the report run; for evidence, the dispute.
    pub owner: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct ReportRun {
    pub created: i64,
    /// Index into `catalog::REPORT_TYPES`.
    pub report_type: u8,
    pub interval_start: i64,
    pub interval_end: i64,
    pub file: u32,
    pub succeeded_at: i64,
}
