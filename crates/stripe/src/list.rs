//! Paging through list endpoints: a stream of pages of raw JSON objects, with cursors, `created` ranges and
//! `expand[]`.

use futures::StreamExt;
use futures::stream::BoxStream;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::client::Client;
use crate::error::Error;
use crate::form::{Params, Value};

/// The largest page Stripe serves; always used by the import because it divides the request count by ten.
pub const MAX_PAGE_SIZE: u8 = 100;

/// A `created` range in unix seconds; every bound is optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreatedRange {
    /// `created[gt]`
    pub gt: Option<i64>,
    /// `created[gte]`
    pub gte: Option<i64>,
    /// `created[lt]`
    pub lt: Option<i64>,
    /// `created[lte]`
    pub lte: Option<i64>,
}

impl CreatedRange {
    fn to_value(self) -> Option<Value> {
        let bounds: Vec<(String, Value)> = [
            ("gt", self.gt),
            ("gte", self.gte),
            ("lt", self.lt),
            ("lte", self.lte),
        ]
        .into_iter()
        .filter_map(|(name, bound)| bound.map(|b| (name.to_owned(), Value::from(b))))
        .collect();
        (!bounds.is_empty()).then_some(Value::Map(bounds))
    }
}

/// What to list. `starting_after` pages towards older objects (Stripe's default order); `ending_before` pages towards
/// newer ones, and then each next page starts before the first (newest) object of the previous page.
#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    /// Objects per page, 1–100; default 100.
    pub limit: u8,
    /// Only objects created in this range.
    pub created: CreatedRange,
    /// Resume after this object id (towards older objects).
    pub starting_after: Option<String>,
    /// Resume before this object id (towards newer objects); takes precedence over `starting_after`.
    pub ending_before: Option<String>,
    /// `expand[]` paths, e.g. `data.balance_transaction`.
    pub expand: Vec<String>,
    /// Endpoint-specific filters, e.g. `status=all` for subscriptions.
    pub extra: Params,
}

impl Default for ListParams {
    fn default() -> Self {
        ListParams {
            limit: MAX_PAGE_SIZE,
            created: CreatedRange::default(),
            starting_after: None,
            ending_before: None,
            expand: Vec::new(),
            extra: Params::new(),
        }
    }
}

impl ListParams {
    fn to_params(&self, cursor: &Cursor) -> Params {
        let mut params = Params::new().text("limit", i64::from(self.limit.clamp(1, MAX_PAGE_SIZE)));
        if let Some(created) = self.created.to_value() {
            params = params.value("created", created);
        }
        match cursor {
            Cursor::Start | Cursor::Done => {}
            Cursor::After(id) => params = params.text("starting_after", id.as_str()),
            Cursor::Before(id) => params = params.text("ending_before", id.as_str()),
        }
        if !self.expand.is_empty() {
            params = params.list("expand", self.expand.iter().cloned());
        }
        params.extend(self.extra.clone())
    }

    fn first_cursor(&self) -> Cursor {
        match (&self.ending_before, &self.starting_after) {
            (Some(id), _) => Cursor::Before(id.clone()),
            (None, Some(id)) => Cursor::After(id.clone()),
            (None, None) => Cursor::Start,
        }
    }
}

#[derive(Debug, Clone)]
enum Cursor {
    Start,
    After(String),
    Before(String),
    Done,
}

/// One page of a list, objects as Stripe sent them.
#[derive(Debug, Clone)]
pub struct Page {
    /// The objects, newest first as Stripe orders them, each as its raw JSON text.
    pub objects: Vec<Box<RawValue>>,
    /// Stripe's `has_more`.
    pub has_more: bool,
    /// The cursor to persist for resuming after this page: pass it as `starting_after` (or `ending_before` when
    /// paging backwards) to continue. `None` when the list is exhausted.
    pub next_cursor: Option<String>,
    /// Stripe's `Request-Id` of this page.
    pub request_id: Option<String>,
}

impl Page {
    /// Parses every object into a typed view, e.g. `page.parse::<Charge>()`.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<Vec<T>, Error> {
        self.objects
            .iter()
            .map(|raw| {
                serde_json::from_str(raw.get()).map_err(|source| Error::Decode {
                    what: "a typed stripe object",
                    source,
                    request_id: self.request_id.clone(),
                })
            })
            .collect()
    }
}

#[derive(Deserialize)]
struct ListBody {
    data: Vec<Box<RawValue>>,
    has_more: bool,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

impl Client {
    /// Streams the pages of a list endpoint (e.g. `/v1/charges`) until `has_more` is false or an error occurs (the
    /// error is the last item). Each stream issues one request at a time; run several streams (e.g. over disjoint
    /// `created` ranges) for parallelism — they share the account's limiter. Boxed, so it is `Unpin` and `Send` and
    /// can be stored or moved into a task.
    pub fn list_pages(
        &self,
        path: impl Into<String>,
        params: ListParams,
    ) -> BoxStream<'static, Result<Page, Error>> {
        let client = self.clone();
        let path = path.into();
        let first = params.first_cursor();
        futures::stream::try_unfold(first, move |cursor| {
            let client = client.clone();
            let path = path.clone();
            let params = params.clone();
            async move {
                if matches!(cursor, Cursor::Done) {
                    return Ok(None);
                }
                let backwards = matches!(cursor, Cursor::Before(_));
                let response = client.get(&path, &params.to_params(&cursor)).await?;
                let body: ListBody = response.json("a list page")?;
                let edge = if backwards {
                    body.data.first()
                } else {
                    body.data.last()
                };
                let edge_id = match edge {
                    Some(raw) => Some(
                        serde_json::from_str::<IdOnly>(raw.get())
                            .map_err(|source| Error::Decode {
                                what: "a list object with an id",
                                source,
                                request_id: response.request_id.clone(),
                            })?
                            .id,
                    ),
                    None => None,
                };
                let next_cursor = edge_id.filter(|_| body.has_more);
                let next = match &next_cursor {
                    Some(id) if backwards => Cursor::Before(id.clone()),
                    Some(id) => Cursor::After(id.clone()),
                    None => Cursor::Done,
                };
                let page = Page {
                    objects: body.data,
                    has_more: body.has_more,
                    next_cursor,
                    request_id: response.request_id,
                };
                Ok(Some((page, next)))
            }
        })
        .boxed()
    }
}
