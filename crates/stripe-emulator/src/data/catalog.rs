//! Fixed vocabularies: product names, buyer names, dispute reasons with their network codes, and the report
//! types Stripe offers.

/// What the merchant sells (an invented online shop with a few subscriptions).
pub(crate) const PRODUCTS: &[(&str, &str)] = &[
    ("Starter plan", "Monthly access for one seat"),
    ("Team plan", "Monthly access for up to ten seats"),
    ("Business plan", "Unlimited seats with priority support"),
    ("Canvas tote bag", "Organic cotton tote with the logo"),
    ("Ceramic mug", "Stoneware mug, 350 ml"),
    ("Hoodie", "Heavyweight fleece hoodie"),
    ("T-shirt", "Comfortable gray cotton t-shirt"),
    ("Notebook set", "Three dotted A5 notebooks"),
    ("Gift card", "Digital gift card"),
    ("Workshop ticket", "Half-day online workshop"),
    ("Sticker pack", "Ten vinyl stickers"),
    ("Desk lamp", "Dimmable LED desk lamp"),
    ("Water bottle", "Insulated steel bottle, 750 ml"),
    ("Backpack", "Waterproof 20 l backpack"),
    ("Headphones", "Wireless over-ear headphones"),
    ("Phone case", "Recycled plastic phone case"),
];

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Jenny", "Liam", "Olivia", "Noah", "Emma", "Mateo", "Ava", "Lucas", "Mia", "Amelia", "Hugo",
    "Chloe", "Yuki", "Priya", "Wei", "Sofia", "Lars", "Ingrid", "Aisha", "Diego", "Fatima",
    "Kenji", "Anna", "Jonas", "Elena", "Marco", "Zoe", "Omar", "Hannah", "Ethan", "Leah", "Samuel",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Rosen",
    "Smith",
    "Garcia",
    "Muller",
    "Martin",
    "Rossi",
    "Tanaka",
    "Patel",
    "Chen",
    "Johansson",
    "Kowalski",
    "Silva",
    "Brown",
    "Dubois",
    "Jansen",
    "Nguyen",
    "Kim",
    "Murphy",
    "Lopez",
    "Wilson",
    "Schmidt",
    "Novak",
    "Okafor",
    "Haddad",
];

/// A dispute reason with its share of disputes and the Visa / Mastercard / Amex reason codes.
pub(crate) struct DisputeReason {
    pub name: &'static str,
    pub weight: f64,
    pub visa: &'static str,
    pub mastercard: &'static str,
    pub amex: &'static str,
    /// Chance the merchant wins when it responds.
    pub win_rate: f64,
}

pub(crate) const DISPUTE_REASONS: &[DisputeReason] = &[
    DisputeReason {
        name: "fraudulent",
        weight: 45.0,
        visa: "10.4",
        mastercard: "4837",
        amex: "F29",
        win_rate: 0.25,
    },
    DisputeReason {
        name: "product_not_received",
        weight: 20.0,
        visa: "13.1",
        mastercard: "4855",
        amex: "C08",
        win_rate: 0.55,
    },
    DisputeReason {
        name: "subscription_canceled",
        weight: 8.0,
        visa: "13.2",
        mastercard: "4841",
        amex: "C28",
        win_rate: 0.4,
    },
    DisputeReason {
        name: "product_unacceptable",
        weight: 7.0,
        visa: "13.3",
        mastercard: "4853",
        amex: "C31",
        win_rate: 0.35,
    },
    DisputeReason {
        name: "duplicate",
        weight: 6.0,
        visa: "12.6.1",
        mastercard: "4834",
        amex: "P08",
        win_rate: 0.5,
    },
    DisputeReason {
        name: "credit_not_processed",
        weight: 6.0,
        visa: "13.6",
        mastercard: "4860",
        amex: "C02",
        win_rate: 0.45,
    },
    DisputeReason {
        name: "general",
        weight: 5.0,
        visa: "13.7",
        mastercard: "4853",
        amex: "C32",
        win_rate: 0.4,
    },
    DisputeReason {
        name: "unrecognized",
        weight: 3.0,
        visa: "10.4",
        mastercard: "4863",
        amex: "F24",
        win_rate: 0.3,
    },
];

/// A report type: id, display name, default columns and whether it reaches up to yesterday.
pub(crate) struct ReportType {
    pub id: &'static str,
    pub name: &'static str,
    pub version: i64,
    pub columns: &'static [&'static str],
}

/// The common report types (stripe-api-facts.md §10); `updated` and availability derive from the ledger's clock.
pub(crate) const REPORT_TYPES: &[ReportType] = &[
    ReportType {
        id: "balance.summary.1",
        name: "Balance summary",
        version: 1,
        columns: &["category", "currency", "description", "net_amount"],
    },
    ReportType {
        id: "balance_change_from_activity.itemized.3",
        name: "Balance change from activity, itemized",
        version: 3,
        columns: &[
            "balance_transaction_id",
            "created",
            "available_on",
            "currency",
            "gross",
            "fee",
            "net",
        ],
    },
    ReportType {
        id: "balance_change_from_activity.summary.1",
        name: "Balance change from activity, summary",
        version: 1,
        columns: &[
            "reporting_category",
            "currency",
            "count",
            "gross",
            "fee",
            "net",
        ],
    },
    ReportType {
        id: "ending_balance_reconciliation.itemized.4",
        name: "Ending balance reconciliation, itemized",
        version: 4,
        columns: &[
            "balance_transaction_id",
            "created",
            "available_on",
            "currency",
            "gross",
            "fee",
            "net",
        ],
    },
    ReportType {
        id: "payout_reconciliation.itemized.5",
        name: "Payout reconciliation, itemized",
        version: 5,
        columns: &[
            "balance_transaction_id",
            "created",
            "available_on",
            "currency",
            "gross",
            "fee",
            "net",
        ],
    },
    ReportType {
        id: "payout_reconciliation.summary.1",
        name: "Payout reconciliation, summary",
        version: 1,
        columns: &[
            "reporting_category",
            "currency",
            "count",
            "gross",
            "fee",
            "net",
        ],
    },
    ReportType {
        id: "payouts.itemized.3",
        name: "Payouts, itemized",
        version: 3,
        columns: &[
            "payout_id",
            "effective_at",
            "currency",
            "gross",
            "fee",
            "net",
            "status",
        ],
    },
    ReportType {
        id: "payouts.summary.1",
        name: "Payouts, summary",
        version: 1,
        columns: &["category", "currency", "description", "net_amount"],
    },
];
