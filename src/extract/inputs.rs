//! A run's *input digest*: a keyed digest of what extraction reads from its pickle.
//!
//! The per-run cache ([`super::run_cache`]) and the `extract` step's key use this digest
//! instead of the SHA-256 of every pickle byte: the selective decode already reads (and
//! validates) the whole pickle, and hashing the decoded record is cheaper than hashing 40 MB.
//! It is also more exact: an edit in a part of the pickle that no metric reads (the train and
//! val splits, the curves) leaves the digest, and so every row, unchanged.
//!
//! The digest is HMAC-SHA256, keyed with the anonymization secret, over a canonical
//! encoding of [`RunData`] ([`encode`]): a format tag, the extractor's identity
//! ([`super::identity`]), then each field
//! in a fixed order as its pickle key path, a type tag, its shape and its values
//! (strings length-prefixed, integers as i64 and floats as the bits of f64, little-endian).
//! The record holds the values as the metrics read them (labels as integers, probabilities as
//! f64), so a pickle re-saved with another dtype but the same values keeps its digest. The
//! encoding is fed to the MAC as it is produced and never stored: it holds the original
//! subject codes. The key makes the digest safe in caches and the ledger (an unkeyed hash of
//! codes and values could be confirmed by whoever can guess them), and a new secret, which
//! renumbers every subject, changes every digest.

use super::identity;
use super::parse::RunData;
use super::secret::Secret;

/// Tag at the start of the encoding; bump its number when the encoding changes.
const FORMAT: &[u8] = b"mlrepro run inputs v2\0";

/// The context the stat cache stores a run's key value under: the value is reused only with
/// the same extractor and the same secret.
pub fn context(secret_fingerprint: &str) -> String {
    format!(
        "inputs v2, extractor {}, secret {secret_fingerprint}",
        identity::version()
    )
}

/// The input digest of a decoded run, hex-encoded.
pub fn digest(data: &RunData, secret: &Secret) -> String {
    secret.keyed_digest(|feed| encode(data, feed))
}

/// The value the `extract` step's key and the stat cache hold for a run whose pickle decoded.
pub fn decoded_value(digest: &str) -> String {
    format!("inputs {digest}")
}

/// The input digest in a key value made by [`decoded_value`].
pub fn digest_of_value(value: &str) -> Option<&str> {
    value.strip_prefix("inputs ")
}

/// The key value of a pickle that was refused: changes with the (public) reason.
pub fn refused_value(problem: &str, secret: &Secret) -> String {
    let digest = secret.keyed_digest(|feed| {
        feed(FORMAT);
        feed(b"refused\0");
        feed(problem.as_bytes());
    });
    format!("refused {digest}")
}

/// Writes the canonical encoding of `data` to `feed`, field by field.
pub fn encode(data: &RunData, feed: &mut dyn FnMut(&[u8])) {
    feed(FORMAT);
    feed(identity::version().as_bytes());
    let n = data.subject_codes.len();
    field(feed, "subjectwise_stats.test.subject_code", b's', &[n]);
    for code in &data.subject_codes {
        feed(&(code.len() as u64).to_le_bytes());
        feed(code.as_bytes());
    }
    field(
        feed,
        "subjectwise_stats.test.labels",
        b'i',
        &[data.labels.len()],
    );
    ints(feed, &data.labels);
    field(
        feed,
        "subjectwise_stats.test.preds.y_pred_proba.mean",
        b'f',
        &[data.prob_mean.len()],
    );
    floats(feed, &data.prob_mean);
    field(
        feed,
        "subjectwise_stats.test.preds.y_pred_proba.std",
        b'f',
        &[data.prob_std.len()],
    );
    floats(feed, &data.prob_std);
    let rows = data.prob_matrix.len() / data.n_bootstrap.max(1);
    field(
        feed,
        "metrics_iter.test.preds.arrays.predictions.y_pred_proba",
        b'f',
        &[rows, data.n_bootstrap],
    );
    floats(feed, &data.prob_matrix);
    field(
        feed,
        "metrics_iter.test.metrics.scalars",
        b'd',
        &[data.iteration_scalars.len()],
    );
    for (name, values) in &data.iteration_scalars {
        feed(&(name.len() as u64).to_le_bytes());
        feed(name.as_bytes());
        feed(b"f");
        feed(&(values.len() as u64).to_le_bytes());
        floats(feed, values);
    }
}

/// A field's header: key path, type tag and shape.
fn field(feed: &mut dyn FnMut(&[u8]), path: &str, tag: u8, shape: &[usize]) {
    feed(path.as_bytes());
    feed(&[0, tag, shape.len() as u8]);
    for d in shape {
        feed(&(*d as u64).to_le_bytes());
    }
}

/// Values go to the MAC in blocks, not one call per number.
const BLOCK: usize = 1024;

fn floats(feed: &mut dyn FnMut(&[u8]), values: &[f64]) {
    let mut buf = [0u8; BLOCK * 8];
    for chunk in values.chunks(BLOCK) {
        for (out, v) in buf.chunks_exact_mut(8).zip(chunk) {
            out.copy_from_slice(&v.to_bits().to_le_bytes());
        }
        feed(&buf[..chunk.len() * 8]);
    }
}

fn ints(feed: &mut dyn FnMut(&[u8]), values: &[i64]) {
    let mut buf = [0u8; BLOCK * 8];
    for chunk in values.chunks(BLOCK) {
        for (out, v) in buf.chunks_exact_mut(8).zip(chunk) {
            out.copy_from_slice(&v.to_le_bytes());
        }
        feed(&buf[..chunk.len() * 8]);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn run() -> RunData {
        RunData {
            subject_codes: vec!["PLR1".into(), "PLR2".into(), "PLR3".into()],
            labels: vec![0, 1, 1],
            prob_mean: vec![0.2, 0.7, 0.6],
            prob_std: vec![0.01, 0.02, 0.03],
            prob_matrix: vec![0.2, 0.2, 0.7, 0.7, 0.6, 0.6],
            n_bootstrap: 2,
            iteration_scalars: BTreeMap::from([("AUROC".into(), vec![0.9, f64::NAN])]),
        }
    }

    #[test]
    fn the_digest_follows_every_value_and_the_secret() {
        let secret = Secret::from_key("one");
        let base = digest(&run(), &secret);
        assert_eq!(base, digest(&run(), &secret), "deterministic");
        assert_ne!(base, digest(&run(), &Secret::from_key("two")));
        let edits: [fn(&mut RunData); 7] = [
            |r| r.subject_codes[0] = "PLR9".into(),
            |r| r.labels[0] = 1,
            |r| r.prob_mean[2] = 0.61,
            |r| r.prob_std[1] = 0.0,
            |r| r.prob_matrix[5] = 0.5,
            |r| {
                r.n_bootstrap = 3;
                r.prob_matrix.truncate(3);
            },
            |r| {
                r.iteration_scalars.insert("Brier".into(), vec![0.1, 0.2]);
            },
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut r = run();
            edit(&mut r);
            assert_ne!(digest(&r, &secret), base, "edit {i}");
        }
    }

    #[test]
    fn moving_a_boundary_between_strings_changes_the_digest() {
        let secret = Secret::from_key("one");
        let mut a = run();
        let mut b = run();
        a.subject_codes[0] = "PLR1P".into();
        a.subject_codes[1] = "LR2".into();
        b.subject_codes[0] = "PLR1".into();
        b.subject_codes[1] = "PLR2".into();
        assert_ne!(digest(&a, &secret), digest(&b, &secret));
    }

    #[test]
    fn key_values_round_trip() {
        let secret = Secret::from_key("one");
        let d = digest(&run(), &secret);
        assert_eq!(digest_of_value(&decoded_value(&d)), Some(d.as_str()));
        let refused = refused_value("truncated", &secret);
        assert_eq!(digest_of_value(&refused), None);
        assert_ne!(refused, refused_value("other", &secret));
    }
}
