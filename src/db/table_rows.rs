//! The rows of the public tables, held column by column in Arrow arrays as the schema types
//! them, so they go into DuckDB a chunk at a time and are hashed without reading them back.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use duckdb::arrow::array::{
    Array, ArrayRef, Float64Array, Float64Builder, Int32Array, Int32Builder, StringArray,
    StringBuilder,
};
use duckdb::arrow::datatypes::{DataType, Field, Schema};
use duckdb::arrow::record_batch::RecordBatch;

use super::digest::{
    canonical_double, canonical_integer, canonical_null, canonical_text, dump_header,
};
use super::schema::{self, SqlType, Table};

/// One value of a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// SQL NULL (nullable columns only).
    Null,
    /// A value of an `INTEGER` column.
    Integer(i32),
    /// A value of a `DOUBLE` column.
    Double(f64),
    /// A value of a `VARCHAR` column.
    Text(&'a str),
}

impl Cell<'_> {
    /// An `INTEGER` cell from a count or index; an error beyond `i32::MAX`.
    pub fn count(v: usize) -> Result<Self> {
        i32::try_from(v)
            .map(Cell::Integer)
            .map_err(|_| anyhow!("{v} does not fit an INTEGER column"))
    }

    /// A `DOUBLE` cell, NULL for `None`.
    pub fn opt_double(v: Option<f64>) -> Self {
        v.map_or(Cell::Null, Cell::Double)
    }
}

/// Rows of every table of the schema, being added.
#[derive(Debug, Default)]
pub struct TableRows {
    tables: BTreeMap<&'static str, ColumnsBuilder>,
}

impl TableRows {
    /// Adds one row to `table`: every column of the schema exactly once, in the schema's
    /// order, each cell of the column's type (NULL only where the column allows it).
    pub fn push(&mut self, table: &'static str, cells: &[(&str, Cell)]) -> Result<()> {
        let builder = match self.tables.entry(table) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let schema = schema::table(table)
                    .ok_or_else(|| anyhow!("no table `{table}` in the schema"))?;
                e.insert(ColumnsBuilder::new(schema))
            }
        };
        builder.push(cells)
    }

    /// Every table of the schema, in schema order, with the rows added (none where none
    /// were).
    pub fn finish(self) -> Result<Tables> {
        let mut tables = self.tables;
        let batches = schema::tables()
            .iter()
            .map(|table| {
                let builder = tables
                    .remove(table.name)
                    .unwrap_or_else(|| ColumnsBuilder::new(table));
                Ok((table, builder.finish()?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Tables { batches })
    }
}

/// Every table's rows as one Arrow record batch, in schema order.
#[derive(Debug, Clone)]
pub struct Tables {
    batches: Vec<(&'static Table, RecordBatch)>,
}

impl Tables {
    /// The tables with their rows, in schema order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static Table, &RecordBatch)> {
        self.batches.iter().map(|(t, b)| (*t, b))
    }
}

/// One table's canonical dump (the form of [`super::digest::table_dump`]) made from its
/// rows in memory: a header, then the rows in primary-key order.
pub fn batch_dump(table: &Table, batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut out = dump_header(table);
    let arrays: Vec<Column> = batch
        .columns()
        .iter()
        .map(Column::of)
        .collect::<Result<_>>()?;
    let keys: Vec<&Column> = table
        .primary_key
        .iter()
        .map(|k| {
            table
                .columns
                .iter()
                .position(|c| c.name == *k)
                .map(|i| &arrays[i])
                .ok_or_else(|| anyhow!("`{}` has no key column `{k}`", table.name))
        })
        .collect::<Result<_>>()?;
    let mut order: Vec<usize> = (0..batch.num_rows()).collect();
    order.sort_by(|&a, &b| {
        keys.iter()
            .map(|k| k.compare(a, b))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    for row in order {
        for (i, column) in arrays.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            column.canonical(row, &mut out);
        }
        out.push(b'\n');
    }
    Ok(out)
}

/// A column of a finished batch, by type.
enum Column<'a> {
    Integer(&'a Int32Array),
    Double(&'a Float64Array),
    Varchar(&'a StringArray),
}

impl<'a> Column<'a> {
    fn of(array: &'a ArrayRef) -> Result<Self> {
        let any = array.as_any();
        if let Some(a) = any.downcast_ref::<Int32Array>() {
            Ok(Column::Integer(a))
        } else if let Some(a) = any.downcast_ref::<Float64Array>() {
            Ok(Column::Double(a))
        } else if let Some(a) = any.downcast_ref::<StringArray>() {
            Ok(Column::Varchar(a))
        } else {
            bail!(
                "a column of type {} is not in the schema",
                array.data_type()
            )
        }
    }

    /// Key order as DuckDB sorts: integers by value, text by bytes, doubles by total
    /// order; key columns hold no NULL.
    fn compare(&self, a: usize, b: usize) -> Ordering {
        match self {
            Column::Integer(c) => c.value(a).cmp(&c.value(b)),
            Column::Double(c) => c.value(a).total_cmp(&c.value(b)),
            Column::Varchar(c) => c.value(a).cmp(c.value(b)),
        }
    }

    fn canonical(&self, row: usize, out: &mut Vec<u8>) {
        match self {
            Column::Integer(c) if c.is_valid(row) => {
                canonical_integer(i64::from(c.value(row)), out)
            }
            Column::Double(c) if c.is_valid(row) => canonical_double(c.value(row), out),
            Column::Varchar(c) if c.is_valid(row) => canonical_text(c.value(row), out),
            _ => canonical_null(out),
        }
    }
}

/// The columns of one table being built.
#[derive(Debug)]
struct ColumnsBuilder {
    table: &'static Table,
    columns: Vec<ColumnBuilder>,
}

#[derive(Debug)]
enum ColumnBuilder {
    Integer(Int32Builder),
    Double(Float64Builder),
    Varchar(StringBuilder),
}

impl ColumnsBuilder {
    fn new(table: &'static Table) -> Self {
        let columns = table
            .columns
            .iter()
            .map(|c| match c.ty {
                SqlType::Integer => ColumnBuilder::Integer(Int32Builder::new()),
                SqlType::Double => ColumnBuilder::Double(Float64Builder::new()),
                SqlType::Varchar => ColumnBuilder::Varchar(StringBuilder::new()),
            })
            .collect();
        Self { table, columns }
    }

    fn push(&mut self, cells: &[(&str, Cell)]) -> Result<()> {
        let table = self.table;
        if cells.len() != table.columns.len() {
            bail!(
                "a row of `{}` has {} values for {} columns",
                table.name,
                cells.len(),
                table.columns.len()
            );
        }
        // Checked in full before anything is added, so a bad row leaves the table as it was.
        for ((name, cell), column) in cells.iter().zip(&table.columns) {
            if *name != column.name {
                bail!(
                    "a row of `{}` gives `{name}` where the schema has `{}`",
                    table.name,
                    column.name
                );
            }
            let fits = match (cell, column.ty) {
                (Cell::Null, _) => column.nullable,
                (Cell::Integer(_), SqlType::Integer)
                | (Cell::Double(_), SqlType::Double)
                | (Cell::Text(_), SqlType::Varchar) => true,
                _ => false,
            };
            if !fits {
                bail!(
                    "`{}.{}` ({}{}) cannot hold {cell:?}",
                    table.name,
                    column.name,
                    column.ty.sql(),
                    if column.nullable { "" } else { " NOT NULL" }
                );
            }
        }
        for ((_, cell), builder) in cells.iter().zip(&mut self.columns) {
            match (builder, cell) {
                (ColumnBuilder::Integer(b), Cell::Integer(v)) => b.append_value(*v),
                (ColumnBuilder::Double(b), Cell::Double(v)) => b.append_value(*v),
                (ColumnBuilder::Varchar(b), Cell::Text(v)) => b.append_value(v),
                (ColumnBuilder::Integer(b), _) => b.append_null(),
                (ColumnBuilder::Double(b), _) => b.append_null(),
                (ColumnBuilder::Varchar(b), _) => b.append_null(),
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<RecordBatch> {
        let table = self.table;
        let fields: Vec<Field> = table
            .columns
            .iter()
            .map(|c| {
                let ty = match c.ty {
                    SqlType::Integer => DataType::Int32,
                    SqlType::Double => DataType::Float64,
                    SqlType::Varchar => DataType::Utf8,
                };
                Field::new(c.name.as_str(), ty, c.nullable)
            })
            .collect();
        let arrays: Vec<ArrayRef> = self
            .columns
            .into_iter()
            .map(|c| -> ArrayRef {
                match c {
                    ColumnBuilder::Integer(mut b) => Arc::new(b.finish()),
                    ColumnBuilder::Double(mut b) => Arc::new(b.finish()),
                    ColumnBuilder::Varchar(mut b) => Arc::new(b.finish()),
                }
            })
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .with_context(|| format!("cannot assemble the rows of `{}`", table.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(config_id: i32, metric: &str) -> Vec<(&'static str, Cell<'_>)> {
        vec![
            ("config_id", Cell::Integer(config_id)),
            ("metric", Cell::Text(metric)),
            ("reason", Cell::Text("why")),
        ]
    }

    #[test]
    fn a_row_must_follow_the_schema() {
        let mut rows = TableRows::default();
        rows.push("metric_notes", &note(1, "auroc")).unwrap();
        let swapped = [
            ("metric", Cell::Text("auroc")),
            ("config_id", Cell::Integer(1)),
            ("reason", Cell::Text("why")),
        ];
        let err = rows.push("metric_notes", &swapped).unwrap_err();
        assert!(err
            .to_string()
            .contains("gives `metric` where the schema has `config_id`"));
        let null_key = [
            ("config_id", Cell::Null),
            ("metric", Cell::Text("auroc")),
            ("reason", Cell::Text("why")),
        ];
        let err = rows.push("metric_notes", &null_key).unwrap_err();
        assert!(err
            .to_string()
            .contains("`metric_notes.config_id` (INTEGER NOT NULL)"));
        let wrong_type = [
            ("config_id", Cell::Double(1.0)),
            ("metric", Cell::Text("auroc")),
            ("reason", Cell::Text("why")),
        ];
        assert!(rows.push("metric_notes", &wrong_type).is_err());
        assert!(rows.push("metric_notes", &note(1, "x")[..2]).is_err());
        assert!(rows.push("no_such_table", &[]).is_err());
        let tables = rows.finish().unwrap();
        let (_, notes) = tables
            .iter()
            .find(|(t, _)| t.name == "metric_notes")
            .unwrap();
        assert_eq!(notes.num_rows(), 1, "rejected rows add nothing");
    }

    #[test]
    fn a_count_beyond_an_integer_is_an_error_not_a_clamp() {
        assert_eq!(Cell::count(7).unwrap(), Cell::Integer(7));
        let max = usize::try_from(i32::MAX).unwrap();
        assert_eq!(Cell::count(max).unwrap(), Cell::Integer(i32::MAX));
        assert!(Cell::count(max + 1).is_err());
    }

    #[test]
    fn the_dump_sorts_rows_by_primary_key() {
        let mut rows = TableRows::default();
        rows.push("metric_notes", &note(2, "brier")).unwrap();
        rows.push("metric_notes", &note(1, "zeta")).unwrap();
        rows.push("metric_notes", &note(1, "auroc")).unwrap();
        let tables = rows.finish().unwrap();
        let (table, batch) = tables
            .iter()
            .find(|(t, _)| t.name == "metric_notes")
            .unwrap();
        let dump = String::from_utf8(batch_dump(table, batch).unwrap()).unwrap();
        assert_eq!(
            dump,
            "table metric_notes\nconfig_id\tmetric\treason\n\
             1\t\"auroc\"\t\"why\"\n1\t\"zeta\"\t\"why\"\n2\t\"brier\"\t\"why\"\n"
        );
    }
}
