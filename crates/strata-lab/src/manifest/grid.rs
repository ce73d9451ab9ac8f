//! `[[representation]]` and `[[clusterer]]` blocks: parameter values, lists
//! and ranges expanded into grids, checked against the registry's specs.

use super::*;

/// A TOML value as one or more parameter values (a list or a range is a grid).
pub(crate) fn grid_values(
    name: &str,
    v: &Spanned<toml::Value>,
    text: &str,
) -> Result<Vec<(ParamValue, Loc)>, (Loc, String)> {
    let at = loc_of(text, v.span().start);
    let scalar = |x: &toml::Value| -> Result<ParamValue, String> {
        match x {
            toml::Value::Integer(i) => Ok(ParamValue::Int(*i)),
            toml::Value::Float(f) => Ok(ParamValue::Float(*f)),
            toml::Value::Boolean(b) => Ok(ParamValue::Bool(*b)),
            toml::Value::String(s) => Ok(ParamValue::Text(s.clone())),
            other => Err(format!(
                "`{name}`: expected a value, a list of values or {{ from, to, step }}, found a {}",
                other.type_str()
            )),
        }
    };
    match v.get_ref() {
        toml::Value::Array(items) => {
            if items.is_empty() {
                return Err((
                    at,
                    format!("`{name}` = []: an empty grid would give no runs"),
                ));
            }
            items
                .iter()
                .map(|x| scalar(x).map(|p| (p, at)).map_err(|m| (at, m)))
                .collect()
        }
        toml::Value::Table(t) => {
            let get = |k: &str| t.get(k).and_then(toml::Value::as_integer);
            for k in t.keys() {
                if !["from", "to", "step"].contains(&k.as_str()) {
                    return Err((
                        at,
                        format!(
                            "`{name}`: unknown range key `{k}`{}; a range is {{ from, to, step }}",
                            strata_core::text::did_you_mean(k, ["from", "to", "step"].iter())
                        ),
                    ));
                }
            }
            let (Some(from), Some(to)) = (get("from"), get("to")) else {
                return Err((
                    at,
                    format!("`{name}`: a range needs integer `from` and `to`"),
                ));
            };
            let step = get("step").unwrap_or(1);
            if step < 1 || to < from {
                return Err((
                    at,
                    format!(
                        "`{name}`: range from {from} to {to} step {step} is empty (need from <= to, step >= 1)"
                    ),
                ));
            }
            Ok((from..=to)
                .step_by(step as usize)
                .map(|i| (ParamValue::Int(i), at))
                .collect())
        }
        x => Ok(vec![(scalar(x).map_err(|m| (at, m))?, at)]),
    }
}

pub(crate) fn parse_block(
    raw: &RawBlock,
    kind: &str,
    registry: &Registry,
    text: &str,
) -> Result<Block, (Loc, String)> {
    let Some((akey, aval)) = raw.iter().find(|(k, _)| k.get_ref() == "algorithm") else {
        let at = raw
            .keys()
            .next()
            .map(|k| loc_of(text, k.span().start))
            .unwrap_or_default();
        return Err((at, format!("[[{kind}]] needs `algorithm = \"...\"`")));
    };
    let _ = akey;
    let at = loc_of(text, aval.span().start);
    let Some(name) = aval.get_ref().as_str() else {
        return Err((at, format!("{kind} `algorithm` must be a string")));
    };
    let (specs, available): (Vec<ParamSpec>, Vec<&str>) = if kind == "representation" {
        (
            registry
                .find_reducer(name)
                .map(|e| e.params.clone())
                .unwrap_or_default(),
            registry.reducers.iter().map(|e| e.name).collect(),
        )
    } else {
        (
            registry
                .find_clusterer(name)
                .map(|e| e.params.clone())
                .unwrap_or_default(),
            registry.clusterers.iter().map(|e| e.name).collect(),
        )
    };
    if !available.contains(&name) {
        return Err((
            at,
            format!(
                "unknown {kind} `{name}`{} available: {}",
                with_sep(strata_core::text::did_you_mean(name, available.iter())),
                available.join(", ")
            ),
        ));
    }
    let mut given: BTreeMap<String, Vec<(ParamValue, Loc)>> = BTreeMap::new();
    let mut on = Vec::new();
    for (k, v) in raw {
        if k.get_ref() == "algorithm" {
            continue;
        }
        if k.get_ref() == "on" && kind == "clusterer" {
            let vat = loc_of(text, v.span().start);
            let reducers: Vec<&str> = registry.reducers.iter().map(|e| e.name).collect();
            let items = match v.get_ref() {
                toml::Value::Array(a) => a.clone(),
                one => vec![one.clone()],
            };
            for item in items {
                let Some(r) = item.as_str() else {
                    return Err((vat, format!("clusterer `{name}`: `on` lists representation names (strings)")));
                };
                if !reducers.contains(&r) {
                    return Err((
                        vat,
                        format!(
                            "clusterer `{name}`: on: unknown representation `{r}`{} available: {}",
                            with_sep(strata_core::text::did_you_mean(r, reducers.iter())),
                            reducers.join(", ")
                        ),
                    ));
                }
                on.push(r.to_string());
            }
            continue;
        }
        let key_at = loc_of(text, k.span().start);
        let Some(spec) = specs.iter().find(|s| s.name == k.get_ref()) else {
            let valid: Vec<&str> = specs.iter().map(|s| s.name).collect();
            return Err((
                key_at,
                format!(
                    "unknown parameter `{}` for {kind} `{name}`{} parameters: {}",
                    k.get_ref(),
                    with_sep(strata_core::text::did_you_mean(k.get_ref(), valid.iter())),
                    if valid.is_empty() {
                        "none".to_string()
                    } else {
                        valid.join(", ")
                    }
                ),
            ));
        };
        let mut values = Vec::new();
        for (pv, vat) in grid_values(k.get_ref(), v, text)? {
            let checked = spec
                .check(&pv, None)
                .map_err(|m| (vat, format!("{kind} `{name}`: {m}")))?;
            values.push((checked, vat));
        }
        given.insert(k.get_ref().clone(), values);
    }
    let mut grid = Vec::new();
    for s in &specs {
        match given.remove(s.name) {
            Some(v) => grid.push((s.name.to_string(), v)),
            None => match &s.default {
                Some(d) => grid.push((s.name.to_string(), vec![(d.clone(), at)])),
                None => {
                    return Err((
                        at,
                        format!("{kind} `{name}` needs `{}` ({})", s.name, s.help),
                    ));
                }
            },
        }
    }
    Ok(Block {
        algorithm: name.to_string(),
        at,
        grid,
        specs,
        on,
    })
}
