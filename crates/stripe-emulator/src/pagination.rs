//! Stripe list pagination over any newest-first sequence: `limit`, `starting_after` / `ending_before` cursors and
//! the `created` range, found by binary search so pages cost O(log n + page) even over a million objects.

use crate::api_error::ApiError;
use crate::params::{CreatedRange, Params};

/// Which way a page is taken from its cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor {
    /// From the newest object.
    Start,
    /// Older than this id (next page).
    StartingAfter(String),
    /// Newer than this id (previous page).
    EndingBefore(String),
}

/// The validated list parameters common to every Stripe list endpoint.
#[derive(Clone, Debug)]
pub struct ListRequest {
    /// 1..=100, default 10.
    pub limit: usize,
    /// Where the page starts.
    pub cursor: Cursor,
    /// Inclusive `created` bounds (unbounded if the endpoint has no `created` filter).
    pub created: CreatedRange,
}

/// The parameter names every list endpoint accepts, before the endpoint's own filters.
pub const LIST_PARAMS: &[&str] = &["limit", "starting_after", "ending_before", "expand"];

impl ListRequest {
    /// Validates `limit`, the cursors and (when `with_created`) the `created` filter.
    pub fn from_params(params: &Params, with_created: bool) -> Result<ListRequest, ApiError> {
        let limit = match params.integer("limit")? {
            None => 10,
            Some(n) if n < 1 => {
                return Err(ApiError::IntegerOutOfRange {
                    param: "limit".into(),
                    message: "This value must be greater than or equal to 1.".into(),
                });
            }
            Some(n) if n > 100 => {
                return Err(ApiError::IntegerOutOfRange {
                    param: "limit".into(),
                    message: "This value must be less than or equal to 100.".into(),
                });
            }
            Some(n) => n as usize,
        };
        let after = params.get("starting_after").filter(|s| !s.is_empty());
        let before = params.get("ending_before").filter(|s| !s.is_empty());
        let cursor = match (after, before) {
            (Some(_), Some(_)) => {
                return Err(ApiError::InvalidRequest {
                    message: "You may only specify one of these parameters: ending_before, starting_after."
                        .into(),
                    param: None,
                    code: None,
                });
            }
            (Some(id), None) => Cursor::StartingAfter(id.to_string()),
            (None, Some(id)) => Cursor::EndingBefore(id.to_string()),
            (None, None) => Cursor::Start,
        };
        let created = if with_created {
            params.created_range()?
        } else {
            CreatedRange::default()
        };
        Ok(ListRequest {
            limit,
            cursor,
            created,
        })
    }
}

/// A newest-first sequence that can be paged.
pub trait Listing {
    /// Number of objects.
    fn len(&self) -> usize;
    /// `created` of the object at newest-first position `pos` (non-increasing in `pos`).
    fn created_at(&self, pos: usize) -> i64;
    /// Newest-first position of the object with this id.
    fn position_of(&self, id: &str) -> Option<usize>;
    /// Whether the object at `pos` passes the endpoint's other filters.
    fn matches(&self, _pos: usize) -> bool {
        true
    }
}

/// One page: newest-first positions and whether more objects lie beyond it in the paging direction.
#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    /// Positions of the page's objects, newest first.
    pub positions: Vec<usize>,
    /// Stripe's `has_more`.
    pub has_more: bool,
}

/// Selects the page `request` asks for; `noun` names the object type in a "No such …" cursor error.
pub fn select(
    listing: &impl Listing,
    request: &ListRequest,
    noun: &'static str,
) -> Result<Page, ApiError> {
    let len = listing.len();
    let range = request.created;
    // Positions [first, end) hold the objects inside the created range, because `created` is non-increasing.
    let first = partition_point(len, |pos| listing.created_at(pos) > range.hi);
    let end = partition_point(len, |pos| listing.created_at(pos) >= range.lo);
    let cursor_position = |id: &str, param: &str| {
        listing
            .position_of(id)
            .ok_or_else(|| ApiError::NoSuchObject {
                noun,
                id: id.to_string(),
                param: param.to_string(),
            })
    };
    let mut positions = Vec::with_capacity(request.limit + 1);
    match &request.cursor {
        Cursor::Start | Cursor::StartingAfter(_) => {
            let start = match &request.cursor {
                Cursor::StartingAfter(id) => first.max(cursor_position(id, "starting_after")? + 1),
                _ => first,
            };
            for pos in start..end {
                if listing.matches(pos) {
                    positions.push(pos);
                    if positions.len() > request.limit {
                        break;
                    }
                }
            }
            let has_more = positions.len() > request.limit;
            positions.truncate(request.limit);
            Ok(Page {
                positions,
                has_more,
            })
        }
        Cursor::EndingBefore(id) => {
            let stop = end.min(cursor_position(id, "ending_before")?);
            for pos in (first..stop).rev() {
                if listing.matches(pos) {
                    positions.push(pos);
                    if positions.len() > request.limit {
                        break;
                    }
                }
            }
            let has_more = positions.len() > request.limit;
            positions.truncate(request.limit);
            positions.reverse();
            Ok(Page {
                positions,
                has_more,
            })
        }
    }
}

/// The first position in `0..len` for which `pred` is false, given `pred` is true then false.
fn partition_point(len: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Objects `o0..o9` created at 100, 90, …, 10 (newest first); odd ones fail the filter when `even_only`.
    struct Ten {
        even_only: bool,
    }

    impl Listing for Ten {
        fn len(&self) -> usize {
            10
        }
        fn created_at(&self, pos: usize) -> i64 {
            100 - 10 * pos as i64
        }
        fn position_of(&self, id: &str) -> Option<usize> {
            id.strip_prefix('o')?.parse().ok().filter(|p| *p < 10)
        }
        fn matches(&self, pos: usize) -> bool {
            !self.even_only || pos.is_multiple_of(2)
        }
    }

    fn check(query: &str, even_only: bool, expected: &[usize], has_more: bool) {
        let request = ListRequest::from_params(&Params::from_query(Some(query)), true).unwrap();
        let page = select(&Ten { even_only }, &request, "thing").unwrap();
        assert_eq!(
            page,
            Page {
                positions: expected.to_vec(),
                has_more
            },
            "{query}"
        );
    }

    #[test]
    fn pages_follow_cursors_created_bounds_and_filters() {
        check("limit=3", false, &[0, 1, 2], true);
        check("limit=3&starting_after=o2", false, &[3, 4, 5], true);
        check("limit=3&starting_after=o6", false, &[7, 8, 9], false);
        check("limit=3&ending_before=o7", false, &[4, 5, 6], true);
        check("limit=3&ending_before=o2", false, &[0, 1], false);
        check(
            "created[lte]=80&created[gt]=40",
            false,
            &[2, 3, 4, 5],
            false,
        );
        check("created=50", false, &[5], false);
        check("limit=2", true, &[0, 2], true);
        check("limit=2&starting_after=o2", true, &[4, 6], true);
        check("limit=10&ending_before=o5", true, &[0, 2, 4], false);
    }

    #[test]
    fn bad_limits_and_unknown_cursors_are_rejected_like_stripe() {
        for query in ["limit=0", "limit=101", "limit=ten"] {
            let err = ListRequest::from_params(&Params::from_query(Some(query)), true).unwrap_err();
            assert_eq!(err.code(), Some("parameter_invalid_integer"), "{query}");
        }
        let request =
            ListRequest::from_params(&Params::from_query(Some("starting_after=x1")), true).unwrap();
        let err = select(&Ten { even_only: false }, &request, "thing").unwrap_err();
        assert_eq!(err.to_string(), "No such thing: 'x1'");
        assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST);
    }
}
