//! The report of a benchmark run (`cargo xtask bench`): what is measured, the Markdown table and
//! the PNG chart, from the JSON results of the runners (`{stack: {metric key: number}}`).
//!
//! # Structure
//! - `metric`: [`Metric`] (one row), [`metrics`] (every row), [`STACKS`] (the columns),
//!   [`advantage`] and [`ratio`] (ours against libdatachannel's).
//! - `table`: [`markdown`], the table of a run.
//! - `chart`: [`chart::draw`], the chart of a run (plotters).
//! - `rounds`: [`rounds::fold`], repeated throughput runs folded into their median.

pub mod chart;
pub mod rounds;
mod metric;
mod table;

pub use metric::{Metric, STACKS, advantage, metrics, ratio, value};
pub use table::markdown;
