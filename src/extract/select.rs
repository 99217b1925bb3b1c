//! Which runs are extracted: the selection rules, applied before any pickle is opened.
//!
//! Included: active, FINISHED, a name that fits the grammar, within the registry and
//! featurization filter, and the latest-finished run of its configuration. Everything else is
//! excluded with a reason that ends up in `extraction_runs`.

use std::collections::BTreeMap;

use crate::config::SelectionConfig;
use crate::mlflow::{Factors, LifecycleStage, NameClass, Run, RunNameRules, RunStatus};

/// A run that passed selection and will be parsed.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The run.
    pub run: Run,
    /// Its factors from the run name.
    pub factors: Factors,
}

/// A run that selection turned away, with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Excluded {
    /// The run.
    pub run: Run,
    /// Why it is not extracted.
    pub reason: String,
}

/// The outcome of selection over all runs of an experiment.
#[derive(Debug, Default)]
pub struct Selection {
    /// Runs to parse, in run-id order.
    pub candidates: Vec<Candidate>,
    /// Runs turned away, in run-id order.
    pub excluded: Vec<Excluded>,
}

/// Applies the selection rules to `runs`.
pub fn select(runs: Vec<Run>, names: &RunNameRules, config: &SelectionConfig) -> Selection {
    let mut selection = Selection::default();
    let mut by_config: BTreeMap<Factors, Vec<Run>> = BTreeMap::new();
    for run in runs {
        match first_check(&run, names, config) {
            Ok(factors) => by_config.entry(factors).or_default().push(run),
            Err(reason) => selection.excluded.push(Excluded { run, reason }),
        }
    }
    for (factors, mut runs) in by_config {
        // The latest-finished run of a configuration wins; ties go to the larger run id.
        runs.sort_by(|a, b| (b.end_time, &b.run_id).cmp(&(a.end_time, &a.run_id)));
        let mut runs = runs.into_iter();
        let winner = runs.next().expect("a group has at least one run");
        for run in runs {
            let reason = format!(
                "duplicate of {} (same configuration, finished later)",
                winner.run_id
            );
            selection.excluded.push(Excluded { run, reason });
        }
        selection.candidates.push(Candidate {
            run: winner,
            factors,
        });
    }
    selection
        .candidates
        .sort_by(|a, b| a.run.run_id.cmp(&b.run.run_id));
    selection
        .excluded
        .sort_by(|a, b| a.run.run_id.cmp(&b.run.run_id));
    selection
}

fn first_check(
    run: &Run,
    names: &RunNameRules,
    config: &SelectionConfig,
) -> Result<Factors, String> {
    if let Some(reason) = &run.unreadable {
        return Err(format!("unreadable run: {reason}"));
    }
    if run.lifecycle_stage != LifecycleStage::Active {
        return Err(format!("{} run", run.lifecycle_stage));
    }
    if run.status != RunStatus::Finished {
        return Err(format!("run status is {}, not FINISHED", run.status));
    }
    let factors = match names.classify(&run.run_name) {
        NameClass::Factors(f) => f,
        NameClass::Synthetic => return Err("synthetic run".into()),
        NameClass::Legacy { pattern } => {
            return Err(format!("legacy run name (`{pattern}`) lacks factors"))
        }
        NameClass::Malformed { reason } => return Err(format!("run name {reason}")),
    };
    if let Some(registry) = &config.registry {
        for (factor, value, allowed) in [
            ("classifier", &factors.classifier, &registry.classifier),
            (
                "imputation method",
                &factors.imputation,
                &registry.imputation,
            ),
            ("outlier method", &factors.outlier, &registry.outlier),
        ] {
            if !allowed.contains(value) {
                return Err(format!("{factor} `{value}` is not in the registry"));
            }
        }
    }
    if let Some(featurizations) = &config.featurizations {
        if !featurizations.contains(&factors.featurization) {
            return Err(format!(
                "featurization `{}` is not selected",
                factors.featurization
            ));
        }
    }
    Ok(factors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Registry, RunNameConfig};

    fn run(id: &str, name: &str, end: Option<i64>) -> Run {
        Run {
            run_id: id.into(),
            run_name: name.into(),
            status: RunStatus::Finished,
            lifecycle_stage: LifecycleStage::Active,
            start_time: None,
            end_time: end,
            artifact_dir: None,
            unreadable: None,
        }
    }

    fn rules() -> RunNameRules {
        RunNameRules::from_config(&RunNameConfig::default()).unwrap()
    }

    #[test]
    fn latest_finished_duplicate_wins_ties_to_larger_id() {
        let name = "CATBOOST_eval-auc__simple1.0__SAITS__LOF";
        let runs = vec![
            run("a", name, Some(10)),
            run("b", name, Some(30)),
            run("c", name, Some(30)),
        ];
        let s = select(runs, &rules(), &SelectionConfig::default());
        assert_eq!(s.candidates.len(), 1);
        assert_eq!(s.candidates[0].run.run_id, "c");
        assert!(s
            .excluded
            .iter()
            .all(|e| e.reason.starts_with("duplicate of c")));
    }

    #[test]
    fn status_lifecycle_and_names_are_excluded_with_reasons() {
        let mut deleted = run("d", "CATBOOST_eval-auc__f__i__o", None);
        deleted.lifecycle_stage = LifecycleStage::Deleted;
        let mut failed = run("f", "CATBOOST_eval-auc__f__i__o2", None);
        failed.status = RunStatus::Failed;
        let runs = vec![
            deleted,
            failed,
            run("s", "__SYNTHETIC_X", None),
            run("l", "CATBOOST__SAITS", None),
        ];
        let s = select(runs, &rules(), &SelectionConfig::default());
        assert!(s.candidates.is_empty());
        let reasons: Vec<_> = s.excluded.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(reasons[0], "deleted run");
        assert_eq!(reasons[1], "run status is FAILED, not FINISHED");
        assert!(reasons[2].starts_with("legacy run name"));
        assert_eq!(reasons[3], "synthetic run");
    }

    #[test]
    fn registry_and_featurization_filters() {
        let config = SelectionConfig {
            registry: Some(Registry {
                outlier: vec!["LOF".into()],
                imputation: vec!["SAITS".into()],
                classifier: vec!["CatBoost".into()],
            }),
            featurizations: Some(vec!["simple1.0".into()]),
            max_failed_runs: 0,
        };
        let runs = vec![
            run("1", "CATBOOST_eval-auc__simple1.0__SAITS__LOF", None),
            run("2", "CATBOOST_eval-auc__simple1.0__SAITS__anomaly", None),
            run("3", "CATBOOST_eval-auc__embeddings__SAITS__LOF", None),
        ];
        let s = select(runs, &rules(), &config);
        assert_eq!(s.candidates.len(), 1);
        assert_eq!(
            s.excluded[0].reason,
            "outlier method `anomaly` is not in the registry"
        );
        assert_eq!(
            s.excluded[1].reason,
            "featurization `embeddings` is not selected"
        );
    }
}
