//! One estimator per number: every number that appears in two outputs of the analysis (the
//! macros of `numbers.tex`, the LaTeX tables, `paired_comparisons.json`, `anova.json` and
//! the figures' sidecars) is the same number, read back from the files a reader gets.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value as Json;

use crate::print::project;
use crate::support::run_ok;

/// The outputs of one analysis of the demo checkpoint.
struct Outputs {
    dir: tempfile::TempDir,
    macros: BTreeMap<String, String>,
}

impl Outputs {
    fn analyzed() -> Self {
        let dir = project("");
        run_ok(dir.path(), &["-c", "config.yaml", "analyze"]);
        let text = std::fs::read_to_string(dir.path().join("outputs/numbers.tex")).unwrap();
        let macros = text
            .lines()
            .filter_map(|l| l.strip_prefix("\\providecommand{\\"))
            .map(|l| {
                let (name, rest) = l.split_once("}{").unwrap();
                (
                    name.to_string(),
                    rest.strip_suffix('}').unwrap().to_string(),
                )
            })
            .collect();
        Self { dir, macros }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn macro_(&self, name: &str) -> &str {
        self.macros
            .get(name)
            .unwrap_or_else(|| panic!("numbers.tex has no \\{name}"))
    }

    fn table(&self, name: &str) -> Vec<Vec<String>> {
        rows(&std::fs::read_to_string(self.path().join("outputs").join(name)).unwrap())
    }

    fn caption(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.path().join("outputs").join(name)).unwrap();
        let line = text.lines().find(|l| l.starts_with("\\caption{")).unwrap();
        line.to_string()
    }

    fn sidecar(&self, figure: &str) -> Json {
        let path = self.path().join(format!("figures/data/{figure}.json"));
        serde_json::from_str::<Json>(&std::fs::read_to_string(path).unwrap()).unwrap()["data"]
            .clone()
    }

    fn json(&self, name: &str) -> Json {
        serde_json::from_str(
            &std::fs::read_to_string(self.path().join("outputs").join(name)).unwrap(),
        )
        .unwrap()
    }
}

/// The body rows of a table, cells as printed with the break hints and siunitx braces of
/// text cells removed.
fn rows(tex: &str) -> Vec<Vec<String>> {
    let body = tex.split("\\midrule\n").nth(1).unwrap();
    let body = body.split("\\bottomrule").next().unwrap();
    body.lines()
        .map(|l| {
            l.trim_end_matches(" \\\\")
                .split(" & ")
                .map(plain)
                .collect()
        })
        .collect()
}

/// A cell as a reader sees its text: no `\allowbreak{}`, no braces around a text cell of a
/// number column, a LaTeX minus as `-`.
fn plain(cell: &str) -> String {
    let mut cell = cell.replace("\\allowbreak{}", "").replace("$-$", "-");
    while let Some(inner) = cell.strip_prefix('{').and_then(|c| c.strip_suffix('}')) {
        cell = inner
            .strip_prefix("\\scriptsize ")
            .unwrap_or(inner)
            .to_string();
    }
    cell
}

/// `v` as the outputs print it: three decimals.
fn three(v: &Json) -> String {
    format!(
        "{:.3}",
        v.as_f64().unwrap_or_else(|| panic!("{v} is no number"))
    )
}

/// `lo--hi` as the tables print an interval.
fn interval(lo: &Json, hi: &Json) -> String {
    format!("{}--{}", three(lo), three(hi))
}

#[test]
fn the_best_configuration_reads_the_same_everywhere() {
    let out = Outputs::analyzed();
    let top = out.table("top_pipelines.tex");
    let best = top.iter().find(|r| r[0] == "1").expect("a ranked row");
    let ranks: Vec<String> = top
        .iter()
        .map(|r| r[0].clone())
        .filter(|r| r != "ref.")
        .collect();
    let expected: Vec<String> = (1..=ranks.len()).map(|i| i.to_string()).collect();
    assert_eq!(ranks, expected, "only non-oracle pipelines are ranked");
    let references: Vec<&Vec<String>> = top.iter().filter(|r| r[0] == "ref.").collect();
    assert!(
        !references.is_empty() && references.iter().all(|r| r[1].contains("GT")),
        "the demo's ground-truth pipelines are shown as references: {top:?}"
    );
    let stratos = out.table("stratos.tex");
    let paired = out.json("paired_comparisons.json");
    let reference = &paired["reference"];

    // The pipeline.
    let pipeline = out.macro_("bestPipeline");
    assert_eq!(best[1], pipeline);
    assert_eq!(out.macro_("pairedReferencePipeline"), pipeline);
    assert!(
        stratos[0][0].ends_with(&format!("{{1. {pipeline}}}")),
        "{:?}",
        stratos[0]
    );

    // Its AUROC of p̄ and DeLong interval.
    let auroc = out.macro_("bestAUROC");
    let ci = format!(
        "{}--{}",
        out.macro_("bestAUROCLower"),
        out.macro_("bestAUROCUpper")
    );
    assert_eq!(best[2], auroc);
    assert_eq!(best[3], ci);
    assert_eq!(stratos[1][0], auroc);
    assert_eq!(stratos[2][0], ci);
    assert_eq!(three(&reference["auroc_pbar"]), auroc);
    assert_eq!(interval(&reference["ci_lower"], &reference["ci_upper"]), ci);
    assert_eq!(out.macro_("pairedReferenceAUROC"), auroc);

    // The figures plot the same configuration with the same value.
    let id = &reference["config_id"];
    let spec = out.sidecar("specification_curve");
    let row = spec["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["config_id"] == *id)
        .unwrap();
    assert_eq!(three(&row["auroc_pbar"]), auroc);
    assert_eq!(
        interval(
            &row["auroc_pbar_test_ci_lower"],
            &row["auroc_pbar_test_ci_upper"]
        ),
        ci
    );
    for figure in ["calibration_curves", "decision_curves"] {
        let data = out.sidecar(figure);
        let key = if figure == "calibration_curves" {
            "panels"
        } else {
            "curves"
        };
        assert_eq!(data[key][0]["config_id"], *id, "{figure} starts elsewhere");
    }
    let dca = out.sidecar("decision_curves");
    assert_eq!(three(&dca["curves"][0]["auroc_pbar"]), auroc);
    let retention = out.sidecar("retention_curves");
    let at_full = retention["curves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["config_id"] == *id && c["metric"] == "auroc")
        .unwrap();
    let rates = at_full["retention_rate"].as_array().unwrap();
    let last = rates.len() - 1;
    assert_eq!(rates[last].as_f64(), Some(1.0));
    assert_eq!(three(&at_full["metric_value"][last]), auroc);
}

#[test]
fn each_top_configuration_reads_the_same_in_the_stratos_table_and_the_curves() {
    let out = Outputs::analyzed();
    let stratos = out.table("stratos.tex");
    let dca = out.sidecar("decision_curves");
    let retention = out.sidecar("retention_curves");
    let calibration = out.sidecar("calibration_curves");
    let prevalence: f64 = out.macro_("prevalence").parse().unwrap();
    let configs = dca["curves"].as_array().unwrap();
    assert_eq!(
        configs.len() * 3,
        stratos.len(),
        "one STRATOS block per curve"
    );
    for (i, curve) in configs.iter().enumerate() {
        let values = &stratos[3 * i + 1];
        let (auroc, brier, scaled, nb15) = (&values[0], &values[1], &values[2], &values[6]);
        assert_eq!(three(&curve["auroc_pbar"]), *auroc, "configuration {i}");
        // Net benefit at 15 %: the decision curve at that threshold.
        let at = curve["threshold"]
            .as_array()
            .unwrap()
            .iter()
            .position(|t| (t.as_f64().unwrap() - 0.15).abs() < 1e-12)
            .unwrap();
        assert_eq!(
            three(&curve["net_benefit_model"][at]),
            *nb15,
            "configuration {i}"
        );
        // The retention curves at 100 % are the same metrics of p̄ on every subject.
        let id = &curve["config_id"];
        let full = |metric: &str| {
            let c = retention["curves"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["config_id"] == *id && c["metric"] == metric)
                .unwrap();
            three(c["metric_value"].as_array().unwrap().last().unwrap())
        };
        assert_eq!(full("auroc"), *auroc, "configuration {i}");
        assert_eq!(full("brier"), *brier, "configuration {i}");
        assert_eq!(full("scaled_brier"), *scaled, "configuration {i}");
        // Brier and scaled Brier are of one estimator: sBrier = 1 − Brier/(π(1 − π)), up to
        // the rounding of the printed Brier and prevalence.
        let (b, sb): (f64, f64) = (brier.parse().unwrap(), scaled.parse().unwrap());
        let implied = 1.0 - b / (prevalence * (1.0 - prevalence));
        assert!(
            (implied - sb).abs() < 0.004,
            "configuration {i}: sBrier {sb} but 1 - Brier/(π(1-π)) = {implied:.4}"
        );
        assert_eq!(calibration["panels"][i]["config_id"], *id);
        assert_eq!(
            calibration["panels"][i]["n"].to_string(),
            out.macro_("nSubjects")
        );
        assert_eq!(
            calibration["panels"][i]["events"].to_string(),
            out.macro_("nEvents")
        );
    }
}

#[test]
fn method_comparisons_read_the_same_in_tables_figures_and_macros() {
    let out = Outputs::analyzed();
    let dashboard = out.sidecar("dashboard");
    for (factor, short) in [
        ("outlier_method", "outlier"),
        ("imputation_method", "imputation"),
        ("classifier", "classifier"),
        ("featurization", "featurization"),
    ] {
        let table = out.table(&format!("comparison_{short}.tex"));
        let forest = out.sidecar(&format!("forest_{short}"));
        let methods = forest["methods"].as_array().unwrap();
        let ranked: Vec<&Json> = methods.iter().filter(|m| m["oracle"] == false).collect();
        let table_ranked: Vec<&Vec<String>> = table.iter().filter(|r| r[0] != "--").collect();
        assert_eq!(ranked.len(), table_ranked.len(), "{factor}");
        for (m, row) in ranked.iter().zip(&table_ranked) {
            assert_eq!(row[2], m["n"].to_string(), "{factor}");
            assert_eq!(row[3], three(&m["estimate"]), "{factor}");
            assert_eq!(row[4], interval(&m["ci_lower"], &m["ci_upper"]), "{factor}");
            assert_eq!(row[5], three(&m["mean_auroc"]), "{factor}");
        }
        if let Some(panel) = dashboard["panels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["factor"] == factor)
        {
            assert_eq!(panel["methods"], forest["methods"], "{factor}");
        }
        let camel: String = factor
            .split('_')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        let best = out.macro_(&format!("best{camel}"));
        if best != "no method stood out" {
            assert_eq!(
                out.macro_(&format!("best{camel}MeanAUROC")),
                table_ranked[0][3],
                "{factor}"
            );
        }
        let lower = camel[..1].to_lowercase() + &camel[1..];
        assert_eq!(
            out.macro_(&format!("{lower}EffectP")),
            out.macro_(&format!("anovaP{camel}")),
            "{factor}"
        );
    }
}

#[test]
fn the_anova_and_the_study_read_the_same_in_tables_and_macros() {
    let out = Outputs::analyzed();
    let anova = out.table("anova.tex");
    let json = out.json("anova.json");
    for (term, row) in json["terms"].as_array().unwrap().iter().zip(&anova) {
        let name = term["term"].as_str().unwrap();
        let camel: String = name
            .split('_')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        assert_eq!(out.macro_(&format!("anovaDf{camel}")), row[2], "{name}");
        if !term["f"].is_null() {
            assert_eq!(
                out.macro_(&format!("anovaF{camel}")),
                format!("{:.2}", term["f"].as_f64().unwrap()),
                "{name}"
            );
            assert_eq!(out.macro_(&format!("anovaF{camel}")), row[3], "{name}");
        }
    }
    let sizes = format!(
        "Test set of {} subjects, {} with the event; $B = {}$ bootstrap models",
        out.macro_("nSubjects"),
        out.macro_("nEvents"),
        out.macro_("nBootstrap")
    );
    for table in [
        "top_pipelines.tex",
        "stratos.tex",
        "anova.tex",
        "paired_comparisons.tex",
        "comparison_outlier.tex",
    ] {
        assert!(
            out.caption(table).contains(&sizes),
            "{table} gives other sizes than numbers.tex"
        );
    }
    assert_eq!(
        out.macro_("nPresentConfigs"),
        out.macro_("nConfigs"),
        "one configuration per run on the demo"
    );
    let design = out.sidecar("factorial_design");
    assert_eq!(design["present"].to_string(), out.macro_("nPresentConfigs"));
    assert_eq!(
        design["possible"].to_string(),
        out.macro_("nPossibleConfigs")
    );
}
