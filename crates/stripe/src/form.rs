//! Request parameters in Stripe's form encoding: `a=1`, `list[]=x`, `map[key]=v`, `objects[0][field]=v`.

/// One parameter value: a scalar, a list or a map, nested as deep as Stripe allows.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (numbers and booleans are sent as text, as Stripe expects).
    Text(String),
    /// A list; scalars are written `name[]=v`, maps inside lists `name[0][k]=v` (Stripe needs the index there).
    List(Vec<Value>),
    /// A map, written `name[key]=v` (e.g. `metadata`, `created[gte]`).
    Map(Vec<(String, Value)>),
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Text(v.to_string())
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Text(v.to_string())
    }
}

/// Ordered parameters for a query string or a POST body; order is kept so requests are reproducible in logs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    entries: Vec<(String, Value)>,
}

impl Params {
    /// No parameters.
    pub fn new() -> Params {
        Params::default()
    }

    /// Adds `name=value`.
    pub fn text(mut self, name: &str, value: impl Into<Value>) -> Params {
        self.entries.push((name.to_owned(), value.into()));
        self
    }

    /// Adds `name[]=v` for each item.
    pub fn list<I, S>(mut self, name: &str, items: I) -> Params
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let items = items.into_iter().map(|s| Value::Text(s.into())).collect();
        self.entries.push((name.to_owned(), Value::List(items)));
        self
    }

    /// Adds `name[key]=value` for each pair.
    pub fn map<I, K, V>(mut self, name: &str, pairs: I) -> Params
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let pairs = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), Value::Text(v.into())))
            .collect();
        self.entries.push((name.to_owned(), Value::Map(pairs)));
        self
    }

    /// Adds any value, for shapes the shortcuts above do not cover.
    pub fn value(mut self, name: &str, value: Value) -> Params {
        self.entries.push((name.to_owned(), value));
        self
    }

    /// Appends all parameters of `other`.
    pub fn extend(mut self, other: Params) -> Params {
        self.entries.extend(other.entries);
        self
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The flattened `(name, value)` pairs, e.g. `("metadata[order]", "6735")`.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, value) in &self.entries {
            flatten(name.clone(), value, &mut out);
        }
        out
    }

    /// The `application/x-www-form-urlencoded` text, also used as the query string.
    pub fn encode(&self) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.pairs() {
            serializer.append_pair(&name, &value);
        }
        serializer.finish()
    }
}

fn flatten(name: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Text(text) => out.push((name, text.clone())),
        Value::Map(pairs) => {
            for (key, inner) in pairs {
                flatten(format!("{name}[{key}]"), inner, out);
            }
        }
        Value::List(items) => {
            for (index, item) in items.iter().enumerate() {
                match item {
                    Value::Text(text) => out.push((format!("{name}[]"), text.clone())),
                    nested => flatten(format!("{name}[{index}]"), nested, out),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(params: Params, expected: &[(&str, &str)]) {
        let got = params.pairs();
        let got: Vec<(&str, &str)> = got.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn scalars_lists_and_maps_use_stripes_bracket_syntax() {
        check(
            Params::new()
                .text("url", "https://example.com/hook")
                .list("enabled_events", ["charge.succeeded", "charge.failed"])
                .map("metadata", [("tenant", "7")])
                .value(
                    "created",
                    Value::Map(vec![("gte".into(), 1_700_000_000.into())]),
                )
                .text("connect", false),
            &[
                ("url", "https://example.com/hook"),
                ("enabled_events[]", "charge.succeeded"),
                ("enabled_events[]", "charge.failed"),
                ("metadata[tenant]", "7"),
                ("created[gte]", "1700000000"),
                ("connect", "false"),
            ],
        );
    }

    #[test]
    fn maps_inside_lists_carry_their_index() {
        check(
            Params::new().value(
                "items",
                Value::List(vec![
                    Value::Map(vec![("price".into(), "price_1".into())]),
                    Value::Map(vec![("price".into(), "price_2".into())]),
                ]),
            ),
            &[
                ("items[0][price]", "price_1"),
                ("items[1][price]", "price_2"),
            ],
        );
    }

    #[test]
    fn encoding_percent_escapes_brackets_and_reserved_characters() {
        let encoded = Params::new()
            .list("expand", ["data.source"])
            .text("description", "a&b=c ü")
            .encode();
        assert_eq!(
            encoded,
            "expand%5B%5D=data.source&description=a%26b%3Dc+%C3%BC"
        );
    }
}
