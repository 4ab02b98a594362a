//! aa-status JSON: upstream's schema (`"version": "2"`) and layouts, written through serde_json
//! so that every string is escaped and the document is always valid.
//!
//! * [`UpstreamCompact`] reproduces upstream's hand-written `--json` spacing
//!   (`{"version": "2", "profiles": {"a": "enforce"}}`).
//! * [`CJsonPretty`] reproduces `cJSON_Print` (`--pretty-json`): tab indentation,
//!   `"key":\tvalue`, arrays inline (`[{`, `}, {`, `}]`), an empty object as `{` newline `}`.

use serde::ser::{SerializeMap, Serializer};
use serde_json::ser::Formatter;
use std::io::{self, Write};

/// serde_json formatter for upstream's compact layout: `", "` between members and elements,
/// `": "` after keys.
#[derive(Debug, Default, Clone, Copy)]
pub struct UpstreamCompact;

impl Formatter for UpstreamCompact {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// serde_json formatter that prints like `cJSON_Print`.
#[derive(Debug, Default, Clone)]
pub struct CJsonPretty {
    depth: usize,
    /// For each open object: has it had a member yet?
    has_members: Vec<bool>,
}

fn tabs<W: ?Sized + Write>(w: &mut W, n: usize) -> io::Result<()> {
    for _ in 0..n {
        w.write_all(b"\t")?;
    }
    Ok(())
}

impl Formatter for CJsonPretty {
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_members.push(false);
        w.write_all(b"{\n")
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if let Some(m) = self.has_members.last_mut() {
            *m = true;
        }
        if !first {
            w.write_all(b",\n")?;
        }
        tabs(w, self.depth)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b":\t")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.has_members.pop().unwrap_or(false) {
            w.write_all(b"\n")?;
        }
        tabs(w, self.depth.saturating_sub(1))?;
        self.depth = self.depth.saturating_sub(1);
        w.write_all(b"}")
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        w.write_all(b"[")
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        w.write_all(b"]")
    }
}

/// One process inside a per-executable array.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JsonProcess<'a> {
    /// The label without mode.
    pub profile: &'a str,
    /// The pid, written as a decimal string (upstream's schema).
    #[serde(serialize_with = "pid_as_string")]
    pub pid: u32,
    /// The mode word.
    pub status: &'a str,
}

fn pid_as_string<S: Serializer>(pid: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(pid)
}

/// The aa-status JSON document, version "2". Members are written in upstream's order and
/// only when shown.
#[derive(Debug, Clone, Default)]
pub struct JsonDoc<'a> {
    /// `"profiles"`: name → mode, in section then name order. The caller
    /// gives each name once (a repeated key is written as given).
    pub profiles: Option<Vec<(&'a str, &'a str)>>,
    /// `"processes"`: exe → entries; an exe appears once (entries from several mode
    /// sections are merged under its first appearance).
    pub processes: Option<Vec<(&'a str, Vec<JsonProcess<'a>>)>>,
    /// `"profile_count"` (count mode).
    pub profile_count: Option<usize>,
    /// `"process_count"` (count mode).
    pub process_count: Option<usize>,
}

struct Pairs<'p, 'a>(&'p [(&'a str, &'a str)]);
impl serde::Serialize for Pairs<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

struct Groups<'p, 'a>(&'p [(&'a str, Vec<JsonProcess<'a>>)]);
impl serde::Serialize for Groups<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl serde::Serialize for JsonDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("version", "2")?;
        if let Some(p) = &self.profiles {
            m.serialize_entry("profiles", &Pairs(p))?;
        }
        if let Some(n) = self.profile_count {
            m.serialize_entry("profile_count", &n)?;
        }
        if let Some(p) = &self.processes {
            m.serialize_entry("processes", &Groups(p))?;
        }
        if let Some(n) = self.process_count {
            m.serialize_entry("process_count", &n)?;
        }
        m.end()
    }
}

impl JsonDoc<'_> {
    /// Writes the document in upstream's compact layout, or `cJSON_Print`'s layout when
    /// `pretty`, followed by a newline.
    ///
    /// # Errors
    /// Write errors of `w`.
    pub fn write(&self, w: &mut dyn Write, pretty: bool) -> io::Result<()> {
        let r = if pretty {
            let mut ser = serde_json::Serializer::with_formatter(&mut *w, CJsonPretty::default());
            serde::Serialize::serialize(self, &mut ser)
        } else {
            let mut ser = serde_json::Serializer::with_formatter(&mut *w, UpstreamCompact);
            serde::Serialize::serialize(self, &mut ser)
        };
        r.map_err(io::Error::other)?;
        w.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let doc = JsonDoc {
            profiles: Some(vec![("a\"b", "enforce"), ("c", "complain")]),
            processes: Some(vec![(
                "/x",
                vec![
                    JsonProcess {
                        profile: "a\"b",
                        pid: 1,
                        status: "enforce",
                    },
                    JsonProcess {
                        profile: "a\"b",
                        pid: 2,
                        status: "enforce",
                    },
                ],
            )]),
            ..Default::default()
        };
        let mut out = Vec::new();
        doc.write(&mut out, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"version\": \"2\", \"profiles\": {\"a\\\"b\": \"enforce\", \"c\": \"complain\"}, \"processes\": {\"/x\": [{\"profile\": \"a\\\"b\", \"pid\": \"1\", \"status\": \"enforce\"}, {\"profile\": \"a\\\"b\", \"pid\": \"2\", \"status\": \"enforce\"}]}}\n"
        );
        let mut out = Vec::new();
        doc.write(&mut out, true).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n\t\"version\":\t\"2\",\n\t\"profiles\":\t{\n\t\t\"a\\\"b\":\t\"enforce\",\n\t\t\"c\":\t\"complain\"\n\t},\n\t\"processes\":\t{\n\t\t\"/x\":\t[{\n\t\t\t\t\"profile\":\t\"a\\\"b\",\n\t\t\t\t\"pid\":\t\"1\",\n\t\t\t\t\"status\":\t\"enforce\"\n\t\t\t}, {\n\t\t\t\t\"profile\":\t\"a\\\"b\",\n\t\t\t\t\"pid\":\t\"2\",\n\t\t\t\t\"status\":\t\"enforce\"\n\t\t\t}]\n\t}\n}\n"
        );
        let empty = JsonDoc {
            profiles: Some(vec![]),
            processes: Some(vec![]),
            ..Default::default()
        };
        let mut out = Vec::new();
        empty.write(&mut out, true).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n\t\"version\":\t\"2\",\n\t\"profiles\":\t{\n\t},\n\t\"processes\":\t{\n\t}\n}\n"
        );
    }
}
