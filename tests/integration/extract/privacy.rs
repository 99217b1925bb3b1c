//! Privacy of an extraction: no original subject code reaches a public file, and the
//! private outputs are owner-only.

use super::{as_text, extract_fixture, original_codes, query, walk};

#[test]
fn no_original_code_reaches_a_public_file() {
    let x = extract_fixture("filestore", 2);
    let codes = original_codes();
    let public = x.dir.path().join("public");
    let files = walk(&public);
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "parquet")),
        "no Parquet files written"
    );
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for code in &codes {
            assert!(
                !bytes.windows(code.len()).any(|w| w == code.as_bytes()),
                "`{code}` appears in {}",
                file.display()
            );
        }
    }
    let text_columns = query(&x.db(), "SELECT table_name, column_name FROM duckdb_columns() WHERE data_type = 'VARCHAR' AND NOT internal");
    assert!(text_columns.len() > 5);
    for col in text_columns {
        let (table, column) = (as_text(&col[0]), as_text(&col[1]));
        for row in query(
            &x.db(),
            &format!("SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL"),
        ) {
            let value = as_text(&row[0]);
            for code in &codes {
                assert!(
                    !value.contains(code.as_str()),
                    "`{code}` appears in {table}.{column}: {value}"
                );
            }
        }
    }
    let lookup = std::fs::read_to_string(x.dir.path().join("private/subject_lookup.yaml")).unwrap();
    assert!(
        codes.iter().any(|c| lookup.contains(c.as_str())),
        "the private lookup holds the originals"
    );
}

#[test]
fn private_outputs_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let x = extract_fixture("filestore", 2);
    let private = x.dir.path().join("private");
    assert_eq!(
        std::fs::metadata(&private).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let lookup = private.join("subject_lookup.yaml");
    assert_eq!(
        std::fs::metadata(&lookup).unwrap().permissions().mode() & 0o777,
        0o600
    );
}
