//! How amounts in minor units are shown: Stripe's zero-decimal currencies have no minor unit, every other
//! currency payscope shows with two decimals.

/// Stripe's zero-decimal currencies (docs: "Zero-decimal currencies"); amounts in them are whole units.
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// Minor units per major unit of `currency`.
pub fn minor_per_major(currency: &str) -> f64 {
    if ZERO_DECIMAL.contains(&currency.to_ascii_lowercase().as_str()) {
        1.0
    } else {
        100.0
    }
}

/// `1234.50 USD` for 123450 minor units of usd; thousands separated by a thin comma for reading.
pub fn format_money(minor: f64, currency: &str) -> String {
    let major = minor / minor_per_major(currency);
    let decimals = if minor_per_major(currency) == 1.0 {
        0
    } else {
        2
    };
    let text = format!("{:.*}", decimals, major.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if major < 0.0 && text.chars().any(|c| c != '0' && c != '.') {
        "-"
    } else {
        ""
    };
    let fraction = if fraction.is_empty() {
        String::new()
    } else {
        format!(".{fraction}")
    };
    format!(
        "{sign}{grouped}{fraction} {}",
        currency.to_ascii_uppercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_show_in_major_units_with_the_currency() {
        assert_eq!(format_money(123_450.0, "usd"), "1,234.50 USD");
        assert_eq!(format_money(5.0, "eur"), "0.05 EUR");
        assert_eq!(format_money(1_000_000.0, "jpy"), "1,000,000 JPY");
        assert_eq!(format_money(-2500.0, "gbp"), "-25.00 GBP");
    }
}
