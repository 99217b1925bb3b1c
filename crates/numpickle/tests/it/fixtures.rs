//! Every fixture decodes to exactly the values Python pickled.

use crate::support::{case, check, expected, fixtures};

#[test]
fn every_fixture_decodes_to_the_pickled_values() {
    for f in fixtures() {
        let v = numpickle::decode(&f.bytes).unwrap_or_else(|e| panic!("{}: {e}", f.file));
        check(&v, &expected(&f.case), &f.file);
    }
}

#[test]
fn selecting_the_empty_path_is_a_full_decode() {
    for f in fixtures() {
        let v = numpickle::decode_paths(&f.bytes, &[""]).unwrap();
        check(&v, &expected(&f.case), &f.file);
    }
}

#[test]
fn arrays_borrow_their_payload_from_the_input() {
    for f in case("arrays")
        .into_iter()
        .filter(|f| !f.file.ends_with(".p2.pkl"))
    {
        let v = numpickle::decode(&f.bytes).unwrap();
        let a = v.get("big").unwrap().as_array().unwrap();
        let numpickle::ArrayData::Raw(std::borrow::Cow::Borrowed(raw)) = a.data() else {
            panic!("{}: payload was copied", f.file)
        };
        let inside = f.bytes.as_ptr_range();
        assert!(inside.contains(&raw.as_ptr()), "{}", f.file);
    }
}

#[test]
fn numpy_module_spellings_both_decode() {
    for f in case("scalars") {
        let numpy2 = f.file.contains(".np2.");
        let text = String::from_utf8_lossy(&f.bytes);
        assert_eq!(text.contains("numpy._core"), numpy2, "{}", f.file);
        assert_eq!(text.contains("numpy.core"), !numpy2, "{}", f.file);
        numpickle::decode(&f.bytes).unwrap();
    }
}

#[test]
fn describe_names_types_for_messages() {
    let f = &case("metrics")[0];
    let v = numpickle::decode(&f.bytes).unwrap();
    let test = v.at("subjectwise_stats.test").unwrap();
    assert_eq!(test.describe(), "dict with 4 keys");
    assert_eq!(test.get("labels").unwrap().describe(), "int64[6]");
    assert_eq!(test.get("subject_code").unwrap().describe(), "object[6]");
    assert_eq!(
        v.at("metrics_iter.test.preds.arrays.predictions.y_pred_proba")
            .unwrap()
            .describe(),
        "float64[6, 5]"
    );
    assert_eq!(
        v.at("metrics_iter.test.metrics.scalars.AUROC")
            .unwrap()
            .describe(),
        "list of 6"
    );
    assert_eq!(
        v.at("metrics_stats.test.metrics.scalars.AUROC.mean")
            .unwrap()
            .describe(),
        "float64 scalar"
    );
    assert_eq!(
        v.at("subjectwise_stats.test.subject_code")
            .unwrap()
            .as_array()
            .unwrap()
            .to_string_vec()
            .unwrap()[0],
        "PLR1000"
    );
    let err = v
        .at("subjectwise_stats.test.preds.y_pred_proba.median")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "key `median` not found in `subjectwise_stats.test.preds.y_pred_proba`: the dict has 2 \
         keys, none is `median`"
    );
}

#[test]
fn numpy_int_keys_are_addressable_by_decimal_text() {
    for f in case("nested") {
        let v = numpickle::decode(&f.bytes).unwrap();
        let one = v.at("subject_global_stats.test.y_pred.std.1.mean").unwrap();
        assert_eq!(one.as_f64(), Some(0.5), "{}", f.file);
        assert_eq!(
            v.at("subject_global_stats.test.y_pred.std.0.n")
                .unwrap()
                .as_i64(),
            Some(3)
        );
    }
}
