//! Stripe-style request parameters: form/query pairs with bracket syntax (`created[gte]`, `expand[0]`,
//! `expand[]`, `metadata[key]`), and their validation into Stripe's 400 errors.

use crate::api_error::ApiError;

/// The decoded `key=value` pairs of a query string and/or form body, in order.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses a URL query string (or nothing).
    pub fn from_query(query: Option<&str>) -> Params {
        let mut params = Params::default();
        if let Some(query) = query {
            params.extend_from(query.as_bytes());
        }
        params
    }

    /// Adds the pairs of an `application/x-www-form-urlencoded` body (Stripe accepts POST parameters in either).
    pub fn extend_from(&mut self, encoded: &[u8]) {
        self.pairs.extend(
            form_urlencoded::parse(encoded)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .filter(|(k, _)| !k.is_empty()),
        );
    }

    /// Fails with `parameter_unknown` on the first parameter whose base name (before `[`) is not in `allowed`.
    pub fn reject_unknown(&self, allowed: &[&str]) -> Result<(), ApiError> {
        for (key, _) in &self.pairs {
            if !allowed.contains(&base_name(key)) {
                return Err(ApiError::UnknownParameter(base_name(key).to_string()));
            }
        }
        Ok(())
    }

    /// The last value sent for exactly `name` (no brackets).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether any parameter with base name `name` was sent (`name`, `name[…]`).
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| base_name(k) == name)
    }

    /// The values of an array parameter: `name[]=a`, `name[0]=b`, and a bare `name=c`, in order.
    pub fn array(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| {
                k == name
                    || (base_name(k) == name && {
                        let index = &k[name.len()..];
                        index == "[]"
                            || (index.len() > 2
                                && index.ends_with(']')
                                && index[1..index.len() - 1]
                                    .bytes()
                                    .all(|b| b.is_ascii_digit()))
                    })
            })
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The entries of a hash parameter (`metadata[key]=value`) as `(key, value)`.
    pub fn hash(&self, name: &str) -> Vec<(&str, &str)> {
        self.pairs
            .iter()
            .filter(|(k, _)| base_name(k) == name && k.len() > name.len() + 2 && k.ends_with(']'))
            .map(|(k, v)| (&k[name.len() + 1..k.len() - 1], v.as_str()))
            .collect()
    }

    /// An optional integer parameter, or `parameter_invalid_integer`.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(value) => value
                .parse()
                .map(Some)
                .map_err(|_| ApiError::InvalidInteger {
                    param: name.to_string(),
                    value: value.to_string(),
                }),
        }
    }

    /// An optional boolean parameter (`true`/`false`), or an invalid-boolean error as Stripe words it.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(value) => Err(ApiError::InvalidRequest {
                message: format!("Invalid boolean: {value}"),
                param: Some(name.to_string()),
                code: Some("parameter_invalid_boolean"),
            }),
        }
    }

    /// The `created` filter: an integer (exact second) or any of `created[gt|gte|lt|lte]`, as an inclusive range.
    pub fn created_range(&self) -> Result<CreatedRange, ApiError> {
        let mut range = CreatedRange::default();
        for (key, value) in &self.pairs {
            if base_name(key) != "created" {
                continue;
            }
            let parse = |param: &str| -> Result<i64, ApiError> {
                value.parse().map_err(|_| ApiError::InvalidInteger {
                    param: param.to_string(),
                    value: value.clone(),
                })
            };
            match key.as_str() {
                "created" => {
                    let at = parse("created")?;
                    range.lo = range.lo.max(at);
                    range.hi = range.hi.min(at);
                }
                "created[gt]" => range.lo = range.lo.max(parse(key)?.saturating_add(1)),
                "created[gte]" => range.lo = range.lo.max(parse(key)?),
                "created[lt]" => range.hi = range.hi.min(parse(key)?.saturating_sub(1)),
                "created[lte]" => range.hi = range.hi.min(parse(key)?),
                other => return Err(ApiError::UnknownParameter(other.to_string())),
            }
        }
        Ok(range)
    }
}

/// An inclusive range of `created` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreatedRange {
    /// Smallest `created` included.
    pub lo: i64,
    /// Largest `created` included.
    pub hi: i64,
}

impl Default for CreatedRange {
    fn default() -> Self {
        CreatedRange {
            lo: i64::MIN,
            hi: i64::MAX,
        }
    }
}

/// The name before the first `[`: `created[gte]` → `created`.
pub fn base_name(key: &str) -> &str {
    key.split('[').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_array(query: &str, expected: &[&str]) {
        assert_eq!(
            Params::from_query(Some(query)).array("expand"),
            expected,
            "{query}"
        );
    }

    #[test]
    fn array_parameters_accept_empty_and_indexed_brackets() {
        check_array("expand[]=a&expand[]=b", &["a", "b"]);
        check_array("expand%5B0%5D=a&expand%5B1%5D=b", &["a", "b"]);
        check_array("expand=a", &["a"]);
        check_array("expand[x]=a", &[]);
    }

    #[test]
    fn created_bounds_combine_into_an_inclusive_range() {
        let params = Params::from_query(Some("created[gt]=10&created[lte]=20"));
        assert_eq!(
            params.created_range().unwrap(),
            CreatedRange { lo: 11, hi: 20 }
        );
        let params = Params::from_query(Some("created=15"));
        assert_eq!(
            params.created_range().unwrap(),
            CreatedRange { lo: 15, hi: 15 }
        );
        let params = Params::from_query(Some("created[gt]=x"));
        assert!(matches!(
            params.created_range(),
            Err(ApiError::InvalidInteger { .. })
        ));
        let params = Params::from_query(Some("created[after]=1"));
        assert!(matches!(
            params.created_range(),
            Err(ApiError::UnknownParameter(_))
        ));
    }

    #[test]
    fn hash_parameters_give_their_keys() {
        let params = Params::from_query(Some("metadata[a]=1&metadata[b]=2&metadatax=3"));
        assert_eq!(params.hash("metadata"), vec![("a", "1"), ("b", "2")]);
    }
}
