//! Presentment currencies: how often buyers pay in each, typical amounts, and the fixed rates used to settle
//! them into the account's USD balance.

/// A presentment currency with its share of payments, median price (minor units) and USD value of one minor unit.
pub(crate) struct Currency {
    pub code: &'static str,
    pub median: f64,
    pub usd_per_minor: f64,
    pub zero_decimal: bool,
}

/// All currencies the generator uses; index 0 is the settlement currency (USD).
pub(crate) const CURRENCIES: &[Currency] = &[
    Currency {
        code: "usd",
        median: 4_500.0,
        usd_per_minor: 1.0,
        zero_decimal: false,
    },
    Currency {
        code: "eur",
        median: 4_200.0,
        usd_per_minor: 1.08,
        zero_decimal: false,
    },
    Currency {
        code: "gbp",
        median: 3_600.0,
        usd_per_minor: 1.27,
        zero_decimal: false,
    },
    Currency {
        code: "cad",
        median: 5_900.0,
        usd_per_minor: 0.73,
        zero_decimal: false,
    },
    Currency {
        code: "aud",
        median: 6_500.0,
        usd_per_minor: 0.66,
        zero_decimal: false,
    },
    Currency {
        code: "jpy",
        median: 6_000.0,
        usd_per_minor: 0.67,
        zero_decimal: true,
    },
    Currency {
        code: "chf",
        median: 4_300.0,
        usd_per_minor: 1.13,
        zero_decimal: false,
    },
];

/// The account's settlement currency (balance, balance transactions, payouts).
pub(crate) const SETTLEMENT: usize = 0;

/// The currency a buyer from `country` pays in; most of the world pays in USD at a US merchant.
pub(crate) fn for_country(country: &str) -> usize {
    match country {
        "DE" | "FR" | "ES" | "IT" | "NL" | "BE" | "IE" => 1,
        "GB" => 2,
        "CA" => 3,
        "AU" => 4,
        "JP" => 5,
        "CH" => 6,
        _ => 0,
    }
}

/// Converts `amount` minor units of currency `from` into USD cents, and the exchange rate Stripe would show.
pub(crate) fn to_settlement(amount: i64, from: usize) -> (i64, Option<f64>) {
    let c = &CURRENCIES[from];
    if from == SETTLEMENT {
        return (amount, None);
    }
    // jpy has no minor unit: one yen is worth 0.67 US cents.
    let cents = (amount as f64 * c.usd_per_minor).round() as i64;
    let rate = if c.zero_decimal {
        c.usd_per_minor / 100.0
    } else {
        c.usd_per_minor
    };
    (cents, Some(rate))
}
