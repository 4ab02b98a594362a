//! A small JSON reader for comparing aa-status documents as data: objects keep their member
//! order, and a repeated key whose values are arrays is merged into the first occurrence
//! (upstream 6.0 repeats an executable's key when its processes are in several modes; we
//! print it once). In `tolerant` mode strings are taken raw up to a `"` that is followed by
//! `:`, `,`, `}` or `]`, which reads upstream's unescaped output (names with `"` or `\`).

#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Str(String),
    Num(i64),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

pub struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    tolerant: bool,
    /// Set when a duplicate key was seen.
    pub duplicates: usize,
}

impl<'a> Reader<'a> {
    pub fn parse(text: &'a str, tolerant: bool) -> Result<(J, usize), String> {
        let mut r = Reader {
            b: text.as_bytes(),
            i: 0,
            tolerant,
            duplicates: 0,
        };
        let v = r.value()?;
        r.ws();
        if r.i != r.b.len() {
            return Err(format!("trailing data at {}", r.i));
        }
        Ok((v, r.duplicates))
    }

    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at {}", c as char, self.i))
        }
    }

    fn value(&mut self) -> Result<J, String> {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(J::Str(self.string()?)),
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                let s = self.i;
                self.i += 1;
                while self.i < self.b.len() && self.b[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.b[s..self.i]).unwrap();
                Ok(J::Num(t.parse().map_err(|e| format!("{e}"))?))
            }
            _ => Err(format!("unexpected at {}", self.i)),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.eat(b'"')?;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return Err("unterminated string".into());
            };
            self.i += 1;
            if c == b'"' {
                if !self.tolerant {
                    break;
                }
                let mut j = self.i;
                while j < self.b.len() && self.b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if j >= self.b.len() || matches!(self.b[j], b':' | b',' | b'}' | b']') {
                    break;
                }
                out.push(c);
            } else if c == b'\\' && !self.tolerant {
                let e = self.b.get(self.i).copied().ok_or("bad escape")?;
                self.i += 1;
                match e {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'u' => {
                        let h = std::str::from_utf8(&self.b[self.i..self.i + 4]).unwrap();
                        let cp = u32::from_str_radix(h, 16).map_err(|e| format!("{e}"))?;
                        self.i += 4;
                        let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                        let mut buf = [0; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    }
                    other => out.push(other),
                }
            } else {
                out.push(c);
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn array(&mut self) -> Result<J, String> {
        self.eat(b'[')?;
        let mut v = Vec::new();
        self.ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(J::Arr(v));
        }
        loop {
            v.push(self.value()?);
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(J::Arr(v));
                }
                _ => return Err(format!("bad array at {}", self.i)),
            }
        }
    }

    fn object(&mut self) -> Result<J, String> {
        self.eat(b'{')?;
        let mut members: Vec<(String, J)> = Vec::new();
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(J::Obj(members));
        }
        loop {
            self.ws();
            let k = self.string()?;
            self.eat(b':')?;
            let v = self.value()?;
            if let Some(pos) = members.iter().position(|(mk, _)| *mk == k) {
                self.duplicates += 1;
                match (&mut members[pos].1, v) {
                    (J::Arr(a), J::Arr(b)) => a.extend(b),
                    (_, v) => members[pos].1 = v,
                }
            } else {
                members.push((k, v));
            }
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(J::Obj(members));
                }
                _ => return Err(format!("bad object at {}", self.i)),
            }
        }
    }
}

/// Parses our output strictly (it must also be valid for serde_json) and reports duplicates.
pub fn ours(text: &str) -> Result<J, String> {
    serde_json::from_str::<serde_json::Value>(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let (j, dups) = Reader::parse(text, false)?;
    if dups > 0 {
        return Err(format!("{dups} duplicate keys"));
    }
    Ok(j)
}

/// Parses upstream's output tolerantly, merging duplicate array keys.
pub fn upstream(text: &str) -> Result<J, String> {
    Reader::parse(text, true).map(|(j, _)| j)
}

#[test]
fn reader_merges_duplicates_and_reads_unescaped_strings() {
    let up = upstream(r#"{"a": [{"x": "1"}], "b\c": "q"u"o", "a": [{"x": "2"}]}"#).unwrap();
    let ours = ours(r#"{"a": [{"x": "1"}, {"x": "2"}], "b\\c": "q\"u\"o"}"#).unwrap();
    assert_eq!(up, ours);
    assert!(super::status_json::ours(r#"{"a": 1, "a": 2}"#).is_err());
}
