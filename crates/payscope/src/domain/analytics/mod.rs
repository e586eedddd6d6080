//! The rules of payment analytics, free of IO: periods and their previous period, filters, approval-rate
//! definitions (retry deduplication, pending), breakdown dimensions, measures and rates.

pub mod filter;
pub mod measures;
pub mod money;
pub mod period;

pub use filter::{ApprovalRules, Dimension, Filter};
pub use measures::{Measures, change, ratio};
pub use period::{DAY, Period, PeriodError};
