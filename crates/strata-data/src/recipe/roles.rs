//! The columns' roles (id, target, dropped, metadata, encoded, numeric
//! inputs), resolved against a table's header with a message for every
//! column a descriptor names that the table lacks.

use super::*;

/// The columns' roles, resolved against a table's header.
#[derive(Debug, Clone)]
pub struct Roles {
    pub numeric_inputs: Vec<String>,
    pub encoded: Vec<String>,
}

impl Roles {
    /// Checks every column the descriptor names against the table and works out
    /// which columns are model inputs.
    pub fn resolve(d: &Descriptor, t: &RawTable) -> Result<Roles> {
        let present = t.column_names();
        let has = |c: &str| present.iter().any(|p| p == c);
        let check = |key: String, column: &str| -> Result<()> {
            if has(column) {
                Ok(())
            } else {
                Err(DataError::UnknownColumn(Box::new(
                    crate::error::UnknownColumn {
                        descriptor: d.path.clone(),
                        data: t.path.clone(),
                        key,
                        column: column.to_string(),
                        hint: strata_core::text::did_you_mean(column, present.iter()),
                        present: present.clone(),
                    },
                )))
            }
        };
        let c = &d.columns;
        let single = [
            ("columns.id", &c.id),
            ("columns.dedup_key", &c.dedup_key),
            ("columns.target", &c.target),
        ];
        for (key, col) in single {
            if let Some(col) = col {
                check(key.into(), col)?;
            }
        }
        for (key, list) in [("columns.drop", &c.drop), ("columns.metadata", &c.metadata)] {
            for col in list {
                check(key.into(), col)?;
            }
        }
        if let Some(f) = &c.features {
            for col in f {
                check("columns.features".into(), col)?;
            }
        }
        let mut consumed = Vec::new();
        for (i, dv) in d.derive.iter().enumerate() {
            let sources: Vec<&String> = dv.from.iter().chain(dv.columns.iter()).collect();
            for s in sources {
                check(format!("derive[{i}]"), s)?;
                if !dv.keep_source {
                    consumed.push(s.clone());
                }
            }
        }
        for (i, e) in d.encode.iter().enumerate() {
            check(format!("encode[{i}].column"), &e.column)?;
        }
        if let Some(cl) = &d.clip {
            for col in &cl.columns {
                let derived = d.derive.iter().any(|dv| &dv.name == col);
                if !derived {
                    check("clip.columns".into(), col)?;
                }
            }
        }
        for col in d.impute.keys() {
            let derived = d.derive.iter().any(|dv| &dv.name == col);
            if !derived {
                check(format!("impute.{col}"), col)?;
            }
        }
        let mut economics = Vec::new();
        if let Some(e) = &d.economics {
            for (key, amount) in [
                ("economics.cost_per_contact", &e.cost_per_contact),
                ("economics.revenue_per_response", &e.revenue_per_response),
            ] {
                if let crate::descriptor::Amount::Column(col) = amount {
                    check(key.into(), col)?;
                    economics.push(col.clone());
                }
            }
        }

        let excluded = |col: &String| {
            c.id.as_ref() == Some(col)
                || c.dedup_key.as_ref() == Some(col)
                || c.target.as_ref() == Some(col)
                || c.drop.contains(col)
                || c.metadata.contains(col)
                || economics.contains(col)
        };
        let inputs: Vec<String> = match &c.features {
            Some(f) => present.iter().filter(|p| f.contains(p)).cloned().collect(),
            None => present
                .iter()
                .filter(|p| !excluded(p) && !consumed.contains(p))
                .cloned()
                .collect(),
        };
        let mut encoded = Vec::new();
        for (i, e) in d.encode.iter().enumerate() {
            if !inputs.contains(&e.column) {
                return Err(DataError::DescriptorValue {
                    path: d.path.clone(),
                    key: format!("encode[{i}].column"),
                    message: format!(
                        "`{}` is not a model input (it has another role: id, target, drop, metadata, economics or a consumed derive source)",
                        e.column
                    ),
                });
            }
            encoded.push(e.column.clone());
        }
        let numeric_inputs: Vec<String> = inputs
            .into_iter()
            .filter(|c| !encoded.contains(c))
            .collect();
        for (i, name) in c.nominal.iter().enumerate() {
            if !numeric_inputs.contains(name) {
                return Err(DataError::DescriptorValue {
                    path: d.path.clone(),
                    key: format!("columns.nominal[{i}]"),
                    message: format!(
                        "`{name}` is not a numeric model input{}; they are: {}",
                        strata_core::text::did_you_mean(name, &numeric_inputs),
                        numeric_inputs.join(", ")
                    ),
                });
            }
        }
        let derived_names: Vec<&String> = d.derive.iter().map(|dv| &dv.name).collect();
        for (i, dv) in d.derive.iter().enumerate() {
            if present.contains(&dv.name)
                && (numeric_inputs.contains(&dv.name) || !consumed.contains(&dv.name))
            {
                return Err(DataError::DescriptorValue {
                    path: d.path.clone(),
                    key: format!("derive[{i}].name"),
                    message: format!(
                        "`{}` is already a column of the data; choose another name",
                        dv.name
                    ),
                });
            }
        }
        let numeric_or_derived =
            |col: &String| numeric_inputs.contains(col) || derived_names.contains(&col);
        for col in d.impute.keys() {
            if !numeric_or_derived(col) {
                return Err(DataError::DescriptorValue {
                    path: d.path.clone(),
                    key: format!("impute.{col}"),
                    message: format!(
                        "`{col}` is not a numeric model input; imputation applies to numeric inputs and derived columns (missing categories become their own category `{MISSING_CATEGORY}`)"
                    ),
                });
            }
        }
        if let Some(cl) = &d.clip {
            for col in &cl.columns {
                if !numeric_or_derived(col) {
                    return Err(DataError::DescriptorValue {
                        path: d.path.clone(),
                        key: "clip.columns".into(),
                        message: format!("`{col}` is not a numeric model input or derived column"),
                    });
                }
            }
        }
        if numeric_inputs.is_empty() && encoded.is_empty() && d.derive.is_empty() {
            return Err(DataError::NoFeatures {
                path: d.path.clone(),
            });
        }
        Ok(Roles {
            numeric_inputs,
            encoded,
        })
    }
}
