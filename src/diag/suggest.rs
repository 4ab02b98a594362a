//! "Did you mean" for words people mistype: the closest known word by edit
//! distance.

/// Levenshtein distance between `a` and `b`, counted in characters (an insert,
/// a delete or a substitution each count 1; a swap of two neighbours counts 2).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `word`, when one is close enough to be what was
/// meant: a candidate whose last `/`-separated part is `word` (`nscd` for
/// `/usr/sbin/nscd`), else the one at the smallest edit distance, at most a
/// third of `word`'s length (at least 1, at most 3). Ties go to the first
/// candidate given; `word` itself is never suggested.
pub fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let d = if c.rsplit('/').next() == Some(word) {
            0
        } else {
            edit_distance(word, c)
        };
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("nscd", "nscd"), 0);
        assert_eq!(edit_distance("nscd", "nscdd"), 1);
        assert_eq!(edit_distance("ncsd", "nscd"), 2);
        assert_eq!(edit_distance("", "ab"), 2);
    }

    #[test]
    fn closest_words() {
        let c = ["/usr/sbin/nscd", "usr.sbin.nscd", "firefox", "man"];
        assert_eq!(closest("usr.sbin.ncsd", c), Some("usr.sbin.nscd"));
        assert_eq!(closest("nscd", c), Some("/usr/sbin/nscd"));
        assert_eq!(closest("firefx", c), Some("firefox"));
        assert_eq!(closest("zzz", c), None);
        assert_eq!(closest("man", c), None);
    }
}
