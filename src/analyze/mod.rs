//! Block 2: figures, LaTeX tables, `numbers.tex` and `analysis_report.json` from the public
//! checkpoint alone; no metric is recomputed.
//!
//! Data flows checkpoint → [`frames`] (polars frames) → [`stats`] / [`anova`] → [`figures`]
//! (rendered by [`render`] with [`style`], data in [`sidecar`]s) and [`tables`] ([`latex`]
//! with [`captions`], [`numbers`]) → [`report`]. Both name and colour methods through
//! [`methods`]. [`step::analysis_steps`] runs it as pipeline steps: one per figure and one
//! for the tables.

pub mod anova;
pub mod bands;
pub mod captions;
pub mod emm;
pub mod figures;
pub mod frames;
pub mod latex;
pub mod methods;
pub mod numbers;
pub mod paired;
pub mod pbar;
pub mod render;
pub mod report;
pub mod sidecar;
pub mod stats;
pub mod step;
pub mod style;
pub mod tables;
pub mod tabular;
