//! "Did you mean" for words people mistype: the closest known word by edit
//! distance.

/// Edit distance between `a` and `b`, counted in characters: an insert, a
/// delete, a substitution or a swap of two neighbouring characters each count 1
/// (optimal string alignment: a swapped pair is not edited again).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between the first i chars of a and the first j of b.
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
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
        assert_eq!(edit_distance("ncsd", "nscd"), 1);
        assert_eq!(edit_distance("ncsd", "nmbd"), 2);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("", "ab"), 2);
    }

    #[test]
    fn closest_words() {
        let c = [
            "/usr/sbin/nscd",
            "usr.sbin.nmbd",
            "usr.sbin.nscd",
            "firefox",
            "man",
        ];
        assert_eq!(closest("usr.sbin.ncsd", c), Some("usr.sbin.nscd"));
        assert_eq!(closest("nscd", c), Some("/usr/sbin/nscd"));
        assert_eq!(closest("firefx", c), Some("firefox"));
        assert_eq!(closest("zzz", c), None);
        assert_eq!(closest("man", c), None);
    }
}
