//! Reading cells: numbers and dates with errors naming the row, medians and
//! quantiles of the present values, numbers in messages.

use super::*;

/// Parses a cell as a finite number.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A numeric column, missing cells as `None`; a non-numeric cell is an error
/// naming its row.
pub(crate) fn numeric_column(
    t: &RawTable,
    column: &str,
    na: &[String],
) -> Result<Vec<Option<f64>>> {
    let cells = t.text_cells(column, na)?;
    let mut out = Vec::with_capacity(cells.len());
    for (i, cell) in cells.iter().enumerate() {
        match cell {
            None => out.push(None),
            Some(s) => match parse_number(s) {
                Some(v) => out.push(Some(v)),
                None => {
                    let bad = cells
                        .iter()
                        .flatten()
                        .filter(|c| parse_number(c).is_none())
                        .count();
                    let hint = if bad * 2 > cells.len() {
                        format!(
                            " (and {} more of {} cells are not numbers: if `{column}` is categorical, list it under [[encode]]; if it only describes rows, under columns.metadata)",
                            bad - 1,
                            cells.len()
                        )
                    } else {
                        String::new()
                    };
                    return Err(DataError::NotNumeric {
                        path: t.path.clone(),
                        at: t.at(i),
                        column: column.into(),
                        value: s.to_string(),
                        hint,
                    });
                }
            },
        }
    }
    Ok(out)
}

pub(crate) fn date_column(
    t: &RawTable,
    column: &str,
    format: &str,
    na: &[String],
) -> Result<Vec<Option<NaiveDate>>> {
    let cells = t.text_cells(column, na)?;
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            None => Ok(None),
            Some(s) => {
                NaiveDate::parse_from_str(s, format)
                    .map(Some)
                    .map_err(|_| DataError::BadDate {
                        path: t.path.clone(),
                        at: t.at(i),
                        column: column.into(),
                        value: s.to_string(),
                        format: format.into(),
                    })
            }
        })
        .collect()
}

/// Median of sorted values (mean of the two middle ones for an even count).
pub(crate) fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Quantile of sorted values with linear interpolation (numpy's default).
pub fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (pos - lo as f64) * (v[hi] - v[lo])
}

pub(crate) fn sorted_present(v: &[Option<f64>]) -> Vec<f64> {
    let mut s: Vec<f64> = v.iter().flatten().copied().collect();
    s.sort_by(f64::total_cmp);
    s
}

pub(crate) fn fmt_num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{}", (v * 1e6).round() / 1e6)
    }
}
