//! The step graphs the commands run: Block 1, and Block 2 with the user's custom steps.

use std::sync::Arc;

use crate::config::Settings;
use crate::db::step::VerifyStep;
use crate::runner::command::custom_steps;
use crate::runner::Step;

/// The steps of Block 1.
pub fn extract_steps() -> Vec<Arc<dyn Step>> {
    crate::extract::step::steps()
}

/// The steps of Block 2: verify, the figures and tables, then the user's custom steps.
pub fn analyze_steps(settings: &Settings) -> Vec<Arc<dyn Step>> {
    let mut steps: Vec<Arc<dyn Step>> = vec![Arc::new(VerifyStep)];
    steps.extend(crate::analyze::step::analysis_steps());
    steps.extend(custom_steps(settings));
    steps
}
