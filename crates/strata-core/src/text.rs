//! Text helpers for error messages: closest-name suggestions.

/// Edit distance between two strings, by characters: insertions, deletions,
/// substitutions and transpositions of neighbours each cost one (optimal
/// string alignment), so `medain` is one edit from `median`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a plausible
/// typo (case-insensitive; at most a third of the word's length in edits, and
/// at least one), or if one contains the other and the shorter has at least
/// three characters (`id` is not a typo of `Kidhome`).
pub fn closest<'a, I, S>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a S>,
    S: AsRef<str> + ?Sized + 'a,
{
    let w = word.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let c = c.as_ref();
        let lc = c.to_lowercase();
        let d = if lc == w {
            0
        } else if w.chars().count().min(lc.chars().count()) >= 3 && (lc.contains(&w) || w.contains(&lc)) {
            1
        } else {
            edit_distance(&w, &lc)
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let limit = (word.chars().count() / 3).max(2);
    best.filter(|(d, _)| *d <= limit).map(|(_, c)| c)
}

/// `"; did you mean `x`?"` when a close candidate exists, else an empty string.
pub fn did_you_mean<'a, I, S>(word: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a S>,
    S: AsRef<str> + ?Sized + 'a,
{
    match closest(word, candidates) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

/// Rewrites serde's "unknown field" and "unknown variant" messages so they name
/// the closest valid choice first:
/// "unknown field `delimeter`, expected one of `file`, `delimiter`" becomes
/// "unknown key `delimeter`; did you mean `delimiter`? (valid keys: file, delimiter)".
/// Any other message is returned unchanged.
pub fn explain_serde_message(message: &str) -> String {
    for (prefix, noun) in [("unknown field `", "key"), ("unknown variant `", "value")] {
        let Some(rest) = message.strip_prefix(prefix) else {
            continue;
        };
        let Some(end) = rest.find('`') else { continue };
        let word = &rest[..end];
        let tail = &rest[end + 1..];
        let valid: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
        let hint = did_you_mean(word, valid.iter());
        let list = if valid.is_empty() {
            String::from("none are allowed here")
        } else {
            format!("valid {noun}s: {}", valid.join(", "))
        };
        return format!("unknown {noun} `{word}`{hint} ({list})");
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("medain", "median"), 1);
    }

    #[test]
    fn closest_name() {
        let names = ["delimiter", "file", "sha256"];
        assert_eq!(closest("delimeter", names.iter()), Some("delimiter"));
        assert_eq!(closest("SHA256", names.iter()), Some("sha256"));
        assert_eq!(closest("zzzzzzzz", names.iter()), None);
        // Containment: a prefix of three characters or more, not two.
        let cols = ["Kidhome", "MntWines", "Income"];
        assert_eq!(closest("mnt", cols.iter()), Some("MntWines"));
        assert_eq!(closest("ID", cols.iter()), None);
    }

    #[test]
    fn serde_messages() {
        let m =
            explain_serde_message("unknown field `delimeter`, expected one of `file`, `delimiter`");
        assert_eq!(
            m,
            "unknown key `delimeter`; did you mean `delimiter`? (valid keys: file, delimiter)"
        );
        let m = explain_serde_message("unknown variant `medain`, expected one of `mean`, `median`");
        assert!(m.contains("did you mean `median`"), "{m}");
        assert_eq!(explain_serde_message("invalid type"), "invalid type");
    }
}
