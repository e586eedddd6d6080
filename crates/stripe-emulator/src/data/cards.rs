//! The card world: brands, issuing banks, their countries and BIN ranges, wallets and 3-D Secure results.
//! Bank names are invented (this is test data); each BIN belongs to exactly one bank, country, brand and funding.

use std::sync::OnceLock;

use super::rng::{Rng, mix};

/// Card brands with Stripe's wire names, their network, and how often they are seen.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Brand {
    Visa,
    Mastercard,
    Amex,
    Discover,
    Jcb,
    Unionpay,
    Diners,
    CartesBancaires,
}

impl Brand {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Brand::Visa => "visa",
            Brand::Mastercard => "mastercard",
            Brand::Amex => "amex",
            Brand::Discover => "discover",
            Brand::Jcb => "jcb",
            Brand::Unionpay => "unionpay",
            Brand::Diners => "diners",
            Brand::CartesBancaires => "cartes_bancaires",
        }
    }

    /// Base approval rate at the issuer, before issuer, country, amount and 3DS adjustments.
    pub(crate) fn base_approval(self) -> f64 {
        match self {
            Brand::Visa => 0.935,
            Brand::Mastercard => 0.925,
            Brand::Amex => 0.955,
            Brand::Discover => 0.90,
            Brand::Jcb => 0.86,
            Brand::Unionpay => 0.80,
            Brand::Diners => 0.88,
            Brand::CartesBancaires => 0.945,
        }
    }

    /// The network a charge travels on: Cartes Bancaires cards are co-branded and usually routed over Visa.
    pub(crate) fn network(self) -> &'static str {
        match self {
            Brand::CartesBancaires => "cartes_bancaires",
            other => other.name(),
        }
    }

    fn bin_prefixes(self) -> &'static [u32] {
        match self {
            Brand::Visa | Brand::CartesBancaires => &[4],
            Brand::Mastercard => &[51, 52, 53, 54, 55, 2221, 2720],
            Brand::Amex => &[34, 37],
            Brand::Discover => &[6011, 65],
            Brand::Jcb => &[35],
            Brand::Unionpay => &[62],
            Brand::Diners => &[36, 30],
        }
    }

    fn product_name(self, funding: Funding, tier: u64) -> &'static str {
        match (self, funding) {
            (Brand::Visa, Funding::Debit) => {
                ["Visa Debit", "Visa Classic Debit"][tier as usize % 2]
            }
            (Brand::Visa, Funding::Prepaid) => "Visa Prepaid",
            (Brand::Visa, Funding::Credit) => {
                ["Visa Classic", "Visa Signature", "Visa Infinite"][tier as usize % 3]
            }
            (Brand::Mastercard, Funding::Debit) => "Debit Mastercard",
            (Brand::Mastercard, Funding::Prepaid) => "Prepaid Mastercard",
            (Brand::Mastercard, Funding::Credit) => [
                "Standard Mastercard",
                "World Mastercard",
                "World Elite Mastercard",
            ][tier as usize % 3],
            (Brand::Amex, _) => [
                "American Express Green",
                "American Express Gold",
                "American Express Platinum",
            ][tier as usize % 3],
            (Brand::Discover, _) => "Discover It",
            (Brand::Jcb, _) => "JCB Standard",
            (Brand::Unionpay, Funding::Debit) => "UnionPay Debit",
            (Brand::Unionpay, _) => "UnionPay Credit",
            (Brand::Diners, _) => "Diners Club International",
            (Brand::CartesBancaires, _) => "Carte Bancaire Visa",
        }
    }
}

/// Card funding type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Funding {
    Credit,
    Debit,
    Prepaid,
}

impl Funding {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Funding::Credit => "credit",
            Funding::Debit => "debit",
            Funding::Prepaid => "prepaid",
        }
    }

    pub(crate) fn approval_factor(self) -> f64 {
        match self {
            Funding::Credit => 1.0,
            Funding::Debit => 1.01,
            Funding::Prepaid => 0.86,
        }
    }
}

/// An issuing bank: invented name, ISO country, issuance profile and how readily it approves.
struct Bank {
    name: &'static str,
    country: &'static str,
    brands: &'static [Brand],
    approval: f64,
}

use Brand::*;

const BANKS: &[Bank] = &[
    Bank {
        name: "Harborview National Bank",
        country: "US",
        brands: &[Visa, Mastercard],
        approval: 1.01,
    },
    Bank {
        name: "Granite Peak Bank",
        country: "US",
        brands: &[Visa, Mastercard],
        approval: 0.99,
    },
    Bank {
        name: "Lakeshore Credit Union",
        country: "US",
        brands: &[Visa],
        approval: 0.97,
    },
    Bank {
        name: "First Meridian Bank",
        country: "US",
        brands: &[Visa, Mastercard],
        approval: 1.0,
    },
    Bank {
        name: "Prairie Trust Bank",
        country: "US",
        brands: &[Mastercard],
        approval: 0.96,
    },
    Bank {
        name: "Pacific Crest Bank",
        country: "US",
        brands: &[Visa, Mastercard],
        approval: 1.02,
    },
    Bank {
        name: "Summit Federal Savings",
        country: "US",
        brands: &[Visa],
        approval: 0.93,
    },
    Bank {
        name: "American Express Company",
        country: "US",
        brands: &[Amex],
        approval: 1.0,
    },
    Bank {
        name: "Discover Bank",
        country: "US",
        brands: &[Discover],
        approval: 1.0,
    },
    Bank {
        name: "Bluebonnet Bank of Texas",
        country: "US",
        brands: &[Visa, Mastercard],
        approval: 0.95,
    },
    Bank {
        name: "Maple Leaf Trust",
        country: "CA",
        brands: &[Visa, Mastercard],
        approval: 1.0,
    },
    Bank {
        name: "Laurentian Caisse Populaire",
        country: "CA",
        brands: &[Visa],
        approval: 0.97,
    },
    Bank {
        name: "Thameside Bank plc",
        country: "GB",
        brands: &[Visa, Mastercard],
        approval: 1.0,
    },
    Bank {
        name: "Albion Building Society",
        country: "GB",
        brands: &[Visa],
        approval: 0.98,
    },
    Bank {
        name: "Pennine Card Services",
        country: "GB",
        brands: &[Mastercard, Amex],
        approval: 0.95,
    },
    Bank {
        name: "Rheinland Sparkasse",
        country: "DE",
        brands: &[Mastercard, Visa],
        approval: 0.99,
    },
    Bank {
        name: "Nordbank Hanse AG",
        country: "DE",
        brands: &[Visa, Mastercard],
        approval: 0.97,
    },
    Bank {
        name: "Banque du Littoral",
        country: "FR",
        brands: &[CartesBancaires, Visa, Mastercard],
        approval: 1.0,
    },
    Bank {
        name: "Credit Alpin",
        country: "FR",
        brands: &[CartesBancaires, Mastercard],
        approval: 0.98,
    },
    Bank {
        name: "Banco Meseta",
        country: "ES",
        brands: &[Visa, Mastercard],
        approval: 0.96,
    },
    Bank {
        name: "Banca Lagunare",
        country: "IT",
        brands: &[Visa, Mastercard],
        approval: 0.95,
    },
    Bank {
        name: "Polderbank N.V.",
        country: "NL",
        brands: &[Visa, Mastercard],
        approval: 1.0,
    },
    Bank {
        name: "Banque Ardennaise",
        country: "BE",
        brands: &[Mastercard, Visa],
        approval: 0.98,
    },
    Bank {
        name: "Liffey Savings Bank",
        country: "IE",
        brands: &[Visa, Mastercard],
        approval: 0.99,
    },
    Bank {
        name: "Skargard Sparbank",
        country: "SE",
        brands: &[Visa, Mastercard],
        approval: 1.01,
    },
    Bank {
        name: "Fjordkreditt ASA",
        country: "NO",
        brands: &[Visa, Mastercard],
        approval: 1.0,
    },
    Bank {
        name: "Alpenbank Zurich AG",
        country: "CH",
        brands: &[Visa, Mastercard],
        approval: 1.01,
    },
    Bank {
        name: "Wisla Bank Polski",
        country: "PL",
        brands: &[Visa, Mastercard],
        approval: 0.94,
    },
    Bank {
        name: "Southern Cross Bank",
        country: "AU",
        brands: &[Visa, Mastercard, Amex],
        approval: 1.0,
    },
    Bank {
        name: "Coral Coast Credit",
        country: "AU",
        brands: &[Visa],
        approval: 0.96,
    },
    Bank {
        name: "Kowhai Bank of New Zealand",
        country: "NZ",
        brands: &[Visa, Mastercard],
        approval: 0.99,
    },
    Bank {
        name: "Sakura Mirai Bank",
        country: "JP",
        brands: &[Jcb, Visa],
        approval: 0.97,
    },
    Bank {
        name: "Edo Card Services",
        country: "JP",
        brands: &[Jcb, Mastercard, Diners],
        approval: 0.95,
    },
    Bank {
        name: "Jade River Bank",
        country: "CN",
        brands: &[Unionpay],
        approval: 0.96,
    },
    Bank {
        name: "Victoria Harbour Bank",
        country: "HK",
        brands: &[Visa, Mastercard, Unionpay],
        approval: 0.98,
    },
    Bank {
        name: "Lion City Bank",
        country: "SG",
        brands: &[Visa, Mastercard],
        approval: 1.0,
    },
    Bank {
        name: "Ganga Commercial Bank",
        country: "IN",
        brands: &[Visa, Mastercard],
        approval: 0.85,
    },
    Bank {
        name: "Banco Cerrado S.A.",
        country: "BR",
        brands: &[Visa, Mastercard, Diners],
        approval: 0.88,
    },
    Bank {
        name: "Banco Sierra Madre",
        country: "MX",
        brands: &[Visa, Mastercard],
        approval: 0.89,
    },
    Bank {
        name: "Gulf Pearl Bank",
        country: "AE",
        brands: &[Visa, Mastercard],
        approval: 0.93,
    },
    Bank {
        name: "Table Mountain Bank",
        country: "ZA",
        brands: &[Visa, Mastercard],
        approval: 0.9,
    },
];

/// Issuing countries with the share of buyers from each; the merchant is in the US.
pub(crate) const COUNTRIES: &[(&str, f64)] = &[
    ("US", 58.0),
    ("CA", 5.0),
    ("GB", 7.0),
    ("DE", 4.5),
    ("FR", 4.5),
    ("ES", 1.5),
    ("IT", 1.5),
    ("NL", 1.5),
    ("BE", 0.7),
    ("IE", 0.6),
    ("SE", 0.7),
    ("NO", 0.5),
    ("CH", 0.8),
    ("PL", 0.6),
    ("AU", 3.0),
    ("NZ", 0.6),
    ("JP", 2.0),
    ("CN", 1.0),
    ("HK", 0.6),
    ("SG", 0.7),
    ("IN", 1.0),
    ("BR", 1.0),
    ("MX", 1.0),
    ("AE", 0.5),
    ("ZA", 0.4),
];

/// The merchant's own country; charges on cards issued elsewhere are cross-border.
pub(crate) const MERCHANT_COUNTRY: &str = "US";

/// Countries in the EEA/UK where Strong Customer Authentication makes 3-D Secure the norm.
pub(crate) fn sca_country(country: &str) -> bool {
    matches!(
        country,
        "GB" | "DE" | "FR" | "ES" | "IT" | "NL" | "BE" | "IE" | "SE" | "NO" | "PL"
    )
}

/// One BIN (the first six digits of a card) and what it identifies.
#[derive(Debug)]
pub(crate) struct Bin {
    pub iin: String,
    pub brand: Brand,
    pub funding: Funding,
    pub bank: &'static str,
    pub country: &'static str,
    pub description: &'static str,
    pub approval: f64,
}

/// The card world: every BIN, and per buyer country the BINs its buyers use with their weights.
pub(crate) struct CardTable {
    pub bins: Vec<Bin>,
    /// Per buyer country (index into [`COUNTRIES`]): its domestic BINs and their weights.
    by_country: Vec<(Vec<u16>, Vec<f64>)>,
}

/// How much of a country's card spend goes to a brand: the global mix, with the local schemes where they lead.
fn brand_weight(brand: Brand, country: &str) -> f64 {
    match (brand, country) {
        (Amex, "US") => 12.0,
        (Discover, "US") => 4.5,
        (Jcb, "JP") => 35.0,
        (Unionpay, "CN") => 80.0,
        (Unionpay, "HK") => 15.0,
        (CartesBancaires, "FR") => 45.0,
        (Diners, _) => 1.5,
        (Visa, _) => 55.0,
        (Mastercard, _) => 32.0,
        (Amex, _) => 6.0,
        (Discover | Jcb | Unionpay | CartesBancaires, _) => 2.0,
    }
}

fn funding_weight(funding: Funding) -> f64 {
    match funding {
        Funding::Credit => 0.55,
        Funding::Debit => 0.38,
        Funding::Prepaid => 0.07,
    }
}

/// The one card table (it does not depend on any account seed).
pub(crate) fn card_table() -> &'static CardTable {
    static TABLE: OnceLock<CardTable> = OnceLock::new();
    TABLE.get_or_init(build)
}

fn build() -> CardTable {
    let mut bins: Vec<Bin> = Vec::new();
    let mut taken = std::collections::HashSet::new();
    let mut rng = Rng::new(0x0B17, 0);
    for (b, bank) in BANKS.iter().enumerate() {
        for (k, &brand) in bank.brands.iter().enumerate() {
            let fundings: &[Funding] = match brand {
                Amex | Discover | Diners | Jcb => &[Funding::Credit],
                _ if k == 0 => &[Funding::Credit, Funding::Debit, Funding::Prepaid],
                _ => &[Funding::Credit, Funding::Debit],
            };
            for (f, &funding) in fundings.iter().enumerate() {
                let prefixes = brand.bin_prefixes();
                let prefix = prefixes[(b + f) % prefixes.len()];
                let digits = 6 - prefix.to_string().len() as u32;
                let mut tail = mix(b as u64 * 31 + k as u64, f as u64) % 10u64.pow(digits);
                // Keep every BIN unique so it identifies exactly one bank.
                while !taken.insert((prefix, tail)) {
                    tail = (tail + 1) % 10u64.pow(digits);
                }
                let iin = format!("{prefix}{tail:0width$}", width = digits as usize);
                let tier = mix(b as u64, k as u64 + 7);
                bins.push(Bin {
                    iin,
                    brand,
                    funding,
                    bank: bank.name,
                    country: bank.country,
                    description: brand.product_name(funding, tier),
                    approval: bank.approval * (0.98 + 0.04 * rng.unit()),
                });
            }
        }
    }
    let by_country = COUNTRIES
        .iter()
        .map(|(country, _)| {
            let home = |b: &Bin| b.country == *country;
            // Normalise by the number of BINs per (brand, funding) so that brand shares follow the weights,
            // not how many BINs the table happens to list.
            let peers = |b: &Bin| {
                bins.iter()
                    .filter(|o| home(o) && o.brand == b.brand && o.funding == b.funding)
                    .count() as f64
            };
            let ids: Vec<u16> = (0..bins.len())
                .filter(|&i| home(&bins[i]))
                .map(|i| i as u16)
                .collect();
            let weights = ids
                .iter()
                .map(|&i| {
                    let b = &bins[i as usize];
                    brand_weight(b.brand, country) * funding_weight(b.funding) / peers(b)
                })
                .collect();
            (ids, weights)
        })
        .collect();
    CardTable { bins, by_country }
}

impl CardTable {
    /// A BIN for a new card of a buyer from `country` (an index into [`COUNTRIES`]); a few buyers carry a
    /// card issued abroad (expats, travellers), which makes the charge cross-border.
    pub(crate) fn pick(&self, rng: &mut Rng, country: usize) -> u16 {
        let issuing = if rng.chance(0.04) {
            rng.below(COUNTRIES.len() as u64) as usize
        } else {
            country
        };
        let (ids, weights) = &self.by_country[issuing];
        ids[rng.weighted(weights)]
    }
}

/// Digital wallets a card may be tokenized into.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Wallet {
    None,
    ApplePay,
    GooglePay,
    Link,
}

impl Wallet {
    pub(crate) fn pick(rng: &mut Rng) -> Wallet {
        match rng.weighted(&[77.0, 12.0, 6.0, 5.0]) {
            1 => Wallet::ApplePay,
            2 => Wallet::GooglePay,
            3 => Wallet::Link,
            _ => Wallet::None,
        }
    }

    pub(crate) fn name(self) -> Option<&'static str> {
        match self {
            Wallet::None => None,
            Wallet::ApplePay => Some("apple_pay"),
            Wallet::GooglePay => Some("google_pay"),
            Wallet::Link => Some("link"),
        }
    }
}

/// Outcome of 3-D Secure on a charge.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ThreeDs {
    None,
    Authenticated,
    AttemptAcknowledged,
    Exempted,
    Failed,
}

impl ThreeDs {
    pub(crate) fn result(self) -> Option<&'static str> {
        match self {
            ThreeDs::None => None,
            ThreeDs::Authenticated => Some("authenticated"),
            ThreeDs::AttemptAcknowledged => Some("attempt_acknowledged"),
            ThreeDs::Exempted => Some("exempted"),
            ThreeDs::Failed => Some("failed"),
        }
    }

    /// How 3DS changes the issuer's willingness: authenticated payments carry a liability shift.
    pub(crate) fn approval_factor(self) -> f64 {
        match self {
            ThreeDs::Authenticated => 1.06,
            ThreeDs::AttemptAcknowledged => 1.02,
            ThreeDs::Exempted => 1.0,
            ThreeDs::None | ThreeDs::Failed => 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{COUNTRIES, card_table};

    #[test]
    fn the_card_table_has_many_bins_each_tied_to_one_bank_and_country() {
        let table = card_table();
        assert!(table.bins.len() >= 120, "{}", table.bins.len());
        let mut seen = std::collections::HashMap::new();
        for bin in &table.bins {
            assert_eq!(bin.iin.len(), 6, "{}", bin.iin);
            if let Some(prev) = seen.insert(bin.iin.clone(), (bin.bank, bin.country)) {
                assert_eq!(prev, (bin.bank, bin.country), "BIN {} is shared", bin.iin);
            }
        }
        let countries: std::collections::HashSet<_> =
            table.bins.iter().map(|b| b.country).collect();
        assert_eq!(countries.len(), COUNTRIES.len());
    }
}
