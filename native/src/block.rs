//! A block of whole lines into canonical columns and a reason for every line that is not a record.
//!
//! This is a line-for-line port of `BlockParser._line` and `exact_record` in mlmon/read/jsonlines.py,
//! which stay the definition. Where Python's json module accepts more than strict JSON (NaN and
//! Infinity, lone surrogate escapes, numbers beyond float64, deep nesting, Unicode whitespace around
//! a record) the line is marked UNCERTAIN and the Python exact path decides it.

use memchr::{memchr_iter, memmem};
use serde::de::{Deserialize, IgnoredAny};

use crate::columns::{BoolCol, Col, F64Col, I64Col, StrCol, Text};
use crate::instant;
use crate::plan::{FeatureKind, Plan};
use crate::walk::{Val, Walk};

pub const ROW: u8 = 0;
pub const BLANK: u8 = 1;
pub const NON_RECORD: u8 = 2;
pub const BAD_ENCODING: u8 = 3;
pub const WRONG_TYPE: u8 = 4;
pub const DUPLICATE_KEY: u8 = 5;
/// Left to the Python exact path.
pub const UNCERTAIN: u8 = 6;
pub const CODES: usize = 7;

const BOM: &[u8] = b"\xef\xbb\xbf";
/// Python's int() refuses integer literals longer than this (sys.int_info.default_max_str_digits).
const MAX_INT_DIGITS: usize = 4300;
/// More `[`/`{` than this and Python's recursive parser might give up: Python decides.
const MAX_OPEN: usize = 400;

/// Why a record gives no row.
#[derive(Debug, PartialEq, Eq)]
enum Why {
    WrongType,
    Duplicate,
    Uncertain,
}

/// What a block gave: canonical columns for its records, a reason for each other line.
pub struct BlockOut {
    pub lines: usize,
    pub counts: [u64; CODES],
    /// Lines that are neither a row nor blank, in order: index in the block, code, byte range.
    pub bad_index: Vec<u32>,
    pub bad_code: Vec<u8>,
    pub bad_start: Vec<u64>,
    pub bad_end: Vec<u64>,
    /// Line number of each row.
    pub row_lines: Vec<i64>,
    pub columns: Vec<Col>,
}

/// The canonical columns, in `canonical_schema` order.
struct Columns {
    ts_text: StrCol,
    ts_num: F64Col,
    group: Option<StrCol>,
    /// The join field's value as text (with labels), after the group.
    key: Option<StrCol>,
    summary: Option<(F64Col, BoolCol, StrCol, F64Col, F64Col)>,
    features: Vec<Col>,
    /// `_type_errors`: the indices of the features whose value had the wrong type, comma-separated.
    type_errors: Option<StrCol>,
    /// The timestamp in UTC nanoseconds, null where Python must read it (after every canonical column).
    ts_ns: I64Col,
    rows: usize,
}

impl Columns {
    fn new(plan: &Plan) -> Columns {
        Columns {
            ts_text: StrCol::default(),
            ts_num: F64Col::default(),
            group: plan.by.as_ref().map(|_| StrCol::default()),
            key: plan.join.as_ref().map(|_| StrCol::default()),
            summary: plan.summary.as_ref().map(|_| Default::default()),
            features: plan
                .features
                .iter()
                .flat_map(|f| f.specs.iter())
                .map(|(kind, _)| match kind {
                    FeatureKind::Numeric => Col::F64(F64Col::default()),
                    FeatureKind::Categorical => Col::Str(StrCol::default()),
                })
                .collect(),
            type_errors: plan
                .features
                .as_ref()
                .filter(|f| !f.specs.is_empty())
                .map(|_| StrCol::default()),
            ts_ns: I64Col::default(),
            rows: 0,
        }
    }

    /// Drop the values pushed for a record that turned out bad.
    fn rollback(&mut self) {
        let n = self.rows;
        self.ts_text.truncate(n);
        self.ts_num.truncate(n);
        if let Some(g) = &mut self.group {
            g.truncate(n);
        }
        if let Some(k) = &mut self.key {
            k.truncate(n);
        }
        if let Some((a, b, c, d, e)) = &mut self.summary {
            a.truncate(n);
            b.truncate(n);
            c.truncate(n);
            d.truncate(n);
            e.truncate(n);
        }
        for c in &mut self.features {
            c.truncate(n);
        }
        if let Some(t) = &mut self.type_errors {
            t.truncate(n);
        }
        self.ts_ns.truncate(n);
    }

    fn into_vec(self) -> Vec<Col> {
        let mut out = vec![Col::Str(self.ts_text), Col::F64(self.ts_num)];
        if let Some(g) = self.group {
            out.push(Col::Str(g));
        }
        if let Some(k) = self.key {
            out.push(Col::Str(k));
        }
        if let Some((lat, ok, cls, conf, value)) = self.summary {
            out.extend([
                Col::F64(lat),
                Col::Bool(ok),
                Col::Str(cls),
                Col::F64(conf),
                Col::F64(value),
            ]);
        }
        out.extend(self.features);
        if let Some(t) = self.type_errors {
            out.push(Col::Str(t));
        }
        out.push(Col::I64(self.ts_ns));
        out
    }
}

/// Parse the lines of `data` (each ending in a newline; bytes after the last newline are ignored).
pub fn parse(plan: &Plan, data: &[u8], first_line: i64) -> BlockOut {
    let keep = plan.features.as_ref().map(|f| f.node);
    let mut p = LineParser {
        plan,
        walk: Walk::new(&plan.trie, keep),
        cols: Columns::new(plan),
    };
    let mut out = BlockOut {
        lines: 0,
        counts: [0; CODES],
        bad_index: Vec::new(),
        bad_code: Vec::new(),
        bad_start: Vec::new(),
        bad_end: Vec::new(),
        row_lines: Vec::new(),
        columns: Vec::new(),
    };
    let mut start = 0usize;
    for (i, nl) in memchr_iter(b'\n', data).enumerate() {
        let line_no = first_line + i as i64;
        let code = p.line(&data[start..nl], line_no == 1);
        out.counts[code as usize] += 1;
        if code == ROW {
            out.row_lines.push(line_no);
        } else if code != BLANK {
            out.bad_index.push(i as u32);
            out.bad_code.push(code);
            out.bad_start.push(start as u64);
            out.bad_end.push(nl as u64);
        }
        out.lines += 1;
        start = nl + 1;
    }
    out.columns = p.cols.into_vec();
    out
}

struct LineParser<'p> {
    plan: &'p Plan,
    walk: Walk,
    cols: Columns,
}

#[inline]
fn is_ascii_space(b: u8) -> bool {
    // what Python's bytes.strip() strips
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn lstrip(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| is_ascii_space(b)).count();
    &s[n..]
}

fn strip(s: &[u8]) -> &[u8] {
    let s = lstrip(s);
    let n = s.iter().rev().take_while(|&&b| is_ascii_space(b)).count();
    &s[..s.len() - n]
}

/// `^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d`: the start of a logging prefix (`%(asctime)s`).
fn prefix_stamp(line: &[u8]) -> bool {
    const SHAPE: &[u8; 19] = b"dddd-dd-ddTdd:dd:dd";
    line.len() >= 19
        && SHAPE.iter().zip(line).all(|(&s, &b)| match s {
            b'd' => b.is_ascii_digit(),
            b'T' => b == b'T' || b == b' ',
            _ => b == s,
        })
}

/// Levels of logging.basicConfig's default layout, `LEVEL:logger:message`.
const LEVELS: [&[u8]; 7] = [
    b"DEBUG",
    b"INFO",
    b"WARNING",
    b"WARN",
    b"ERROR",
    b"CRITICAL",
    b"FATAL",
];

/// `[^{]*\{[ \t]*["}]` from `from`: the line's next `{`, when it opens a JSON object.
fn object_brace(line: &[u8], from: usize) -> Option<usize> {
    let at = from + memchr::memchr(b'{', &line[from..])?;
    let next = line[at + 1..].iter().find(|&&b| b != b' ' && b != b'\t')?;
    matches!(next, b'"' | b'}').then_some(at)
}

/// `jsonlines._LOG_PREFIX`: where the record of a line behind a known logging layout starts
/// (`%(asctime)s ... {"`, Flask's `[%(asctime)s] ... {"`, basicConfig's `LEVEL:logger:... {"`);
/// in every layout the first `{` must open a JSON object (a logged dict repr is no record).
fn prefix_record(line: &[u8]) -> Option<usize> {
    if prefix_stamp(line) {
        return object_brace(line, 19);
    }
    if line.first() == Some(&b'[') && prefix_stamp(&line[1..]) {
        let close = 20 + line[20..].iter().position(|&b| b == b']' || b == b'{')?;
        return if line[close] == b']' {
            object_brace(line, close + 1)
        } else {
            None
        };
    }
    for level in LEVELS {
        if line.starts_with(level) && line.get(level.len()) == Some(&b':') {
            let from = level.len() + 1;
            let end = from
                + line[from..]
                    .iter()
                    .position(|&b| matches!(b, b':' | b'{' | b' '))?;
            return if line[end] == b':' {
                object_brace(line, end + 1)
            } else {
                None
            };
        }
    }
    None
}

/// The time a logging prefix starts with (after Flask's `[`), `(?:[,.]\d+)?` included.
fn prefix_time(line: &[u8]) -> Option<&str> {
    let line = line.strip_prefix(b"[").unwrap_or(line);
    if !prefix_stamp(line) {
        return None;
    }
    let mut end = 19;
    if line.len() > 20 && matches!(line[19], b',' | b'.') && line[20].is_ascii_digit() {
        end = 21 + line[21..].iter().take_while(|b| b.is_ascii_digit()).count();
    }
    std::str::from_utf8(&line[..end]).ok()
}

fn open_count(text: &[u8]) -> usize {
    text.iter().filter(|&&b| b == b'[' || b == b'{').count()
}

/// A run of digits longer than Python's int() reads (only long lines can hold one).
fn long_digit_run(text: &[u8]) -> bool {
    text.len() > MAX_INT_DIGITS
        && text
            .split(|b| !b.is_ascii_digit())
            .any(|run| run.len() > MAX_INT_DIGITS)
}

fn number(v: Val) -> Result<Option<f64>, Why> {
    match v {
        Val::None => Ok(None),
        Val::Int(i) => Ok(Some(i as f64)),
        Val::UInt(u) => Ok(Some(u as f64)),
        // `-0` is an int in Python (0.0 as a float), `-0.0` a float: serde_json gives -0.0 for both
        Val::Float(f) if f == 0.0 && f.is_sign_negative() => Err(Why::Uncertain),
        Val::Float(f) => Ok(Some(f)),
        _ => Err(Why::WrongType),
    }
}

fn flag(v: Val) -> Result<Option<bool>, Why> {
    match v {
        Val::None => Ok(None),
        Val::Bool(b) => Ok(Some(b)),
        _ => Err(Why::WrongType),
    }
}

impl<'p> LineParser<'p> {
    /// `BlockParser._line`: the reason code of one line (ROW when it gave a row).
    fn line(&mut self, line: &[u8], first: bool) -> u8 {
        let line = if first && line.starts_with(BOM) {
            &line[BOM.len()..]
        } else {
            line
        };
        if line.iter().all(|&b| is_ascii_space(b) || b == 0) {
            let has_nul = line.contains(&0);
            let all_nul = !line.is_empty() && line.iter().all(|&b| b == 0);
            return if !has_nul || all_nul {
                BLANK
            } else {
                NON_RECORD
            };
        }
        let Some(text) = self.record_text(line) else {
            return not_a_record(line);
        };
        let Ok(s) = simdutf8::basic::from_utf8(text) else {
            return BAD_ENCODING;
        };
        if text.len() > 2 * MAX_OPEN && open_count(text) > MAX_OPEN {
            return UNCERTAIN;
        }
        if self.walk.parse(&self.plan.trie, s).is_err() || long_digit_run(text) {
            return UNCERTAIN;
        }
        match self.record(line, s) {
            Ok(()) => {
                self.cols.rows += 1;
                ROW
            }
            Err(why) => {
                self.cols.rollback();
                match why {
                    Why::WrongType => WRONG_TYPE,
                    Why::Duplicate => DUPLICATE_KEY,
                    Why::Uncertain => UNCERTAIN,
                }
            }
        }
    }

    /// `record_text`: the JSON part of a line, or None when it holds no record.
    fn record_text<'l>(&self, line: &'l [u8]) -> Option<&'l [u8]> {
        if let Some(marker) = &self.plan.marker {
            return memmem::find(line, marker).map(|at| &line[at + marker.len()..]);
        }
        let stripped = lstrip(line);
        if stripped.first() == Some(&b'{') {
            return Some(stripped);
        }
        prefix_record(line).map(|at| &line[at..])
    }
}

/// `_get`: follow a path of nodes from a value; None through null, WrongType through a non-object.
fn get(walk: &Walk, mut cur: Val, path: &[usize]) -> Result<Val, Why> {
    for &n in path {
        match cur {
            Val::None => return Ok(Val::None),
            Val::Obj => {}
            _ => return Err(Why::WrongType),
        }
        if walk.dup[n] {
            return Err(Why::Duplicate);
        }
        cur = walk.slots[n];
    }
    Ok(cur)
}

/// `_text`: text, a boolean as `true`/`false`, an integer in decimal.
fn text<'a>(walk: &'a Walk, src: &'a str, v: Val) -> Result<Option<Text<'a>>, Why> {
    match v {
        Val::None => Ok(None),
        Val::Str(s, e) => Ok(Some(Text::Str(walk.text(src, s, e)))),
        Val::Bool(b) => Ok(Some(Text::Str(if b { "true" } else { "false" }))),
        Val::Int(i) => Ok(Some(Text::Int(i as i128))),
        Val::UInt(u) => Ok(Some(Text::Int(u as i128))),
        // an integer beyond 64 bits is text in Python, a float is a wrong type
        Val::Float(_) => Err(Why::Uncertain),
        Val::Obj | Val::List(..) => Err(Why::WrongType),
    }
}

/// Whether Rust lower-cases a character as every Python mlmon runs on (3.11+, Unicode 14+) does:
/// ASCII; a character with nothing to lower (`成`, `é`); or a letter of the long-settled Latin-1,
/// Latin Extended-A/B, IPA, Greek and Cyrillic blocks (`É`, `Ж`, `İ` to `i̇`), whose mappings no
/// Unicode version since has changed. Not the capital sigma: its lower case depends on the letters
/// around it (final sigma), which Python and Rust need not judge alike.
fn lowers_as_python(c: char) -> bool {
    c.is_ascii()
        || (('\u{c0}'..='\u{52f}').contains(&c) && c != '\u{3a3}')
        || c.to_lowercase().eq([c])
}

/// `status.lower() in success_values`.
///
/// Python lower-cases with the Unicode tables of its own version, Rust with newer ones (letters
/// such as U+A7DA have a lower case in Rust, not in Python 3.11): a status with a letter outside
/// `lowers_as_python` is Python's to decide.
fn is_success(values: &[String], status: &str) -> Result<bool, Why> {
    if status.is_ascii() {
        Ok(values.iter().any(|v| {
            v.len() == status.len()
                && v.bytes()
                    .zip(status.bytes())
                    .all(|(a, b)| a == b.to_ascii_lowercase())
        }))
    } else if status.chars().all(lowers_as_python) {
        let lower = status.to_lowercase();
        Ok(values.contains(&lower))
    } else {
        Err(Why::Uncertain)
    }
}

impl LineParser<'_> {
    /// `exact_record`: push one record's canonical values (the caller rolls back on an error);
    /// `src` is the record text the walk parsed last.
    fn record(&mut self, line: &[u8], src: &str) -> Result<(), Why> {
        let LineParser {
            plan, walk, cols, ..
        } = self;
        let walk = &*walk;
        if walk.slots[0] != Val::Obj {
            return Err(Why::WrongType);
        }
        let root = Val::Obj;
        match get(walk, root, &plan.timestamp)? {
            // the text is kept only for a time Python reads (null where `_ts_ns` holds it)
            Val::Str(s, e) => {
                let t = walk.text(src, s, e);
                let ns = instant::text_ns(t, plan.naive_utc);
                cols.ts_text.push(if ns.is_some() { None } else { Some(t) });
                cols.ts_num.push(None);
                cols.ts_ns.push(ns);
            }
            Val::None => {
                // no time of its own: the logging prefix's time, if the line has one
                let t = prefix_time(line);
                let ns = t.and_then(|t| instant::text_ns(t, plan.naive_utc));
                cols.ts_text.push(if ns.is_some() { None } else { t });
                cols.ts_num.push(None);
                cols.ts_ns.push(ns);
            }
            other => {
                let n = number(other)?;
                cols.ts_text.push(None);
                cols.ts_num.push(n);
                cols.ts_ns.push(n.and_then(instant::epoch_ns));
            }
        }
        if let Some(by) = &plan.by {
            let g = text(walk, src, get(walk, root, by)?)?;
            let col = cols.group.as_mut().expect("a group column with `by`");
            col.push_text(g);
        }
        if let Some(join) = &plan.join {
            let k = text(walk, src, get(walk, root, join)?)?;
            let col = cols.key.as_mut().expect("a key column with `join`");
            col.push_text(k);
        }
        if let Some(s) = &plan.summary {
            let latency = number(get(walk, root, &s.latency)?)?;
            let status = text(walk, src, get(walk, root, &s.status)?)?;
            let success_flag = flag(get(walk, root, &s.success)?)?;
            let success = match status {
                Some(Text::Str(st)) => Some(is_success(&plan.success_values, st)?),
                Some(Text::Int(i)) => {
                    let mut digits = itoa::Buffer::new();
                    let text = crate::columns::int_text(&mut digits, i);
                    Some(is_success(&plan.success_values, text)?)
                }
                None => success_flag,
            };
            let pred = get(walk, root, &s.prediction)?;
            let (class, confidence, value) = match pred {
                Val::Obj | Val::None => {
                    let class = text(walk, src, get(walk, root, &s.pred_class)?)?;
                    let confidence = number(get(walk, root, &s.confidence)?)?;
                    (class, confidence, None)
                }
                Val::Str(..) | Val::Bool(_) => (text(walk, src, pred)?, None, None),
                Val::Int(_) | Val::UInt(_) | Val::Float(_) => (None, None, number(pred)?),
                Val::List(..) => return Err(Why::WrongType),
            };
            let cols = cols
                .summary
                .as_mut()
                .expect("summary columns with `summary`");
            cols.0.push(latency);
            cols.1.push(success);
            cols.2.push_text(class);
            cols.3.push(confidence);
            cols.4.push(value);
        }
        if let Some(f) = &plan.features {
            let feats = get(walk, root, &f.path)?;
            let k = f.specs.len();
            let mut wrong: Vec<usize> = Vec::new();
            for j in 0..k {
                let (kind, rel) = &f.specs[j];
                let v = match feats {
                    Val::List(s, e) => {
                        if (e - s) as usize != k {
                            return Err(Why::WrongType);
                        }
                        walk.elems[s as usize + j]
                    }
                    Val::Obj => get(walk, Val::Obj, rel)?,
                    Val::None => Val::None,
                    _ => return Err(Why::WrongType),
                };
                // a value of the wrong type is null and counted for the feature (exact_record)
                match kind {
                    FeatureKind::Numeric => {
                        let n = match number(v) {
                            Err(Why::WrongType) => {
                                wrong.push(j);
                                None
                            }
                            other => other?,
                        };
                        match &mut cols.features[j] {
                            Col::F64(c) => c.push(n),
                            _ => unreachable!("numeric features have float columns"),
                        }
                    }
                    FeatureKind::Categorical => {
                        let t = match text(walk, src, v) {
                            Err(Why::WrongType) => {
                                wrong.push(j);
                                None
                            }
                            other => other?,
                        };
                        match &mut cols.features[j] {
                            Col::Str(c) => c.push_text(t),
                            _ => unreachable!("categorical features have text columns"),
                        }
                    }
                }
            }
            if let Some(te) = &mut cols.type_errors {
                if wrong.is_empty() {
                    te.push(None);
                } else {
                    let listed: Vec<String> = wrong.iter().map(|j| j.to_string()).collect();
                    te.push(Some(&listed.join(",")));
                }
            }
        }
        Ok(())
    }
}

/// `_not_a_record`: JSON of another shape is a wrong type, anything else not a record.
fn not_a_record(line: &[u8]) -> u8 {
    let s = strip(line);
    match s.first() {
        Some(b) if b"[\"-0123456789tfn".contains(b) => {}
        // NUL, other controls, DEL or a non-ASCII byte (a BOM, a non-breaking space) before a
        // record makes it bad_prefix: rare, so Python decides
        Some(&b) if !(0x20..0x7f).contains(&b) => return UNCERTAIN,
        _ => return NON_RECORD,
    }
    // Python reads these bytes with its own encoding guess and the json module's extensions
    let finder = |needle: &[u8]| memmem::find(s, needle).is_some();
    if s.contains(&0)
        || s.contains(&0xED)
        || finder(b"NaN")
        || finder(b"Infinity")
        || finder(b"\\u")
    {
        return UNCERTAIN;
    }
    let Ok(text) = std::str::from_utf8(s) else {
        return NON_RECORD;
    };
    if s.len() > 2 * MAX_OPEN && open_count(s) > MAX_OPEN {
        return UNCERTAIN;
    }
    let mut de = serde_json::Deserializer::from_str(text);
    match IgnoredAny::deserialize(&mut de).and_then(|_| de.end()) {
        Ok(()) if long_digit_run(s) => UNCERTAIN,
        Ok(()) => WRONG_TYPE,
        Err(e) => {
            let msg = e.to_string();
            if msg.contains("recursion limit") || msg.contains("out of range") {
                UNCERTAIN
            } else {
                NON_RECORD
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Fields, DEFAULT_SUMMARY};

    fn plan(marker: Option<&str>) -> Plan {
        Plan::new(
            Fields {
                timestamp: "timestamp",
                by: Some("model_version"),
                join: None,
                summary: Some(DEFAULT_SUMMARY),
                features: Some((
                    "input.features",
                    vec![
                        (FeatureKind::Numeric, "age"),
                        (FeatureKind::Categorical, "country"),
                    ],
                )),
            },
            marker.map(|m| m.as_bytes().to_vec()),
            vec!["success".into(), "ok".into()],
        )
    }

    fn codes(p: &Plan, data: &[u8]) -> (Vec<u8>, BlockOut) {
        let out = parse(p, data, 1);
        let mut all = vec![BLANK; out.lines];
        for &l in &out.row_lines {
            all[(l - 1) as usize] = ROW;
        }
        for (&i, &c) in out.bad_index.iter().zip(&out.bad_code) {
            all[i as usize] = c;
        }
        let blank = out.counts[BLANK as usize] as usize;
        assert_eq!(out.row_lines.len() + out.bad_index.len() + blank, out.lines);
        (all, out)
    }

    #[test]
    fn every_line_gets_a_reason() {
        let p = plan(None);
        let data = concat!(
            r#"{"timestamp": "2026-11-01T10:00:00Z", "model_version": 3, "latency_ms": 1.5, "status": "OK", "prediction": {"class": true, "confidence": 0.5}, "input": {"features": {"age": 30, "country": "DE"}}}"#,
            "\n",
            "   \n",
            "Traceback (most recent call last):\n",
            "[1, 2]\n",
            "[1, 2\n",
            r#"{"latency_ms": "12"}"#,
            "\n",
            r#"{"latency_ms": 1, "latency_ms": 2}"#,
            "\n",
            r#"{"x": NaN}"#,
            "\n",
            "{\"model_version\": \"\u{ff}\"}\n",
            "\x00\x00\n",
            " \x00\n",
            "2026-11-01 10:00:00,123 - INFO - Prediction: {\"latency_ms\": 2}\n",
        );
        // the model_version line holds an invalid UTF-8 byte
        let bytes: Vec<u8> = data.as_bytes().to_vec();
        let at = bytes.windows(2).position(|w| w == [0xc3, 0xbf]).unwrap();
        let bytes = [&bytes[..at], &[0xff], &bytes[at + 2..]].concat();
        let (all, out) = codes(&p, &bytes);
        assert_eq!(
            all,
            vec![
                ROW,
                BLANK,
                NON_RECORD,
                WRONG_TYPE,
                NON_RECORD,
                WRONG_TYPE,
                DUPLICATE_KEY,
                UNCERTAIN,
                BAD_ENCODING,
                BLANK,
                NON_RECORD,
                ROW
            ]
        );
        assert_eq!(out.row_lines, vec![1, 12]);
        let Col::Str(group) = &out.columns[2] else {
            panic!()
        };
        assert_eq!((group.get(0), group.get(1)), (Some("3"), None));
        let Col::Bool(ok) = &out.columns[4] else {
            panic!()
        };
        assert!(ok.values.get(0) && ok.valid.get(0) && !ok.valid.get(1));
        let Col::Str(cls) = &out.columns[5] else {
            panic!()
        };
        assert_eq!(cls.get(0), Some("true"));
        let Col::Str(ts) = &out.columns[0] else {
            panic!()
        };
        assert_eq!(ts.get(1), Some("2026-11-01 10:00:00,123"));
    }

    #[test]
    fn marker_and_positional_features() {
        let mut p = plan(Some("Prediction: "));
        let data = concat!(
            "x Prediction: {\"input\": {\"features\": [1, \"US\"]}}\n",
            "x Prediction: {\"input\": {\"features\": [1]}}\n",
            "x Prediction: 42\n",
            "no marker {}\n",
        );
        let (all, out) = codes(&p, data.as_bytes());
        assert_eq!(all, vec![ROW, WRONG_TYPE, WRONG_TYPE, NON_RECORD]);
        let Col::Str(c) = &out.columns[9] else {
            panic!()
        };
        assert_eq!(c.get(0), Some("US"));
        p.marker = None;
        let (all, _) = codes(
            &p,
            b"{\"input\": {\"features\": {\"age\": -0}}}\n{\"model_version\": 1.5}\n",
        );
        assert_eq!(all, vec![UNCERTAIN, UNCERTAIN]);
    }

    #[test]
    fn prefix_time_shapes() {
        assert_eq!(
            prefix_time(b"2026-11-01 10:00:00,123 x"),
            Some("2026-11-01 10:00:00,123")
        );
        assert_eq!(
            prefix_time(b"2026-11-01T10:00:00.5"),
            Some("2026-11-01T10:00:00.5")
        );
        assert_eq!(
            prefix_time(b"2026-11-01 10:00:00, x"),
            Some("2026-11-01 10:00:00")
        );
        assert_eq!(prefix_time(b"2026-11-01_10:00:00"), None);
        assert_eq!(
            prefix_time(b"[2026-11-01 10:00:00,123] INFO in app: {}"),
            Some("2026-11-01 10:00:00,123")
        );
    }

    #[test]
    fn prefix_layouts() {
        assert_eq!(
            prefix_record(b"2026-11-01 10:00:00,1 - x - INFO - P: {\"a\": 1}"),
            Some(38)
        );
        assert_eq!(
            prefix_record(b"INFO:__main__:Prediction: {\"a\": 1}"),
            Some(26)
        );
        assert_eq!(prefix_record(b"WARNING:app.x:m { \"a\": 1}"), Some(16));
        assert_eq!(
            prefix_record(b"[2026-11-01 10:00:00,123] INFO in app: {}"),
            Some(39)
        );
        assert_eq!(prefix_record(b"INFO:app:retry {id=5}"), None);
        // a Python dict logged as text after an asctime prefix is no record either
        assert_eq!(
            prefix_record(b"2026-11-01 10:00:00,1 WARNING retry {'features': [1]}"),
            None
        );
        assert_eq!(prefix_record(b"2026-11-01 10:00:00 x {id=5}"), None);
        assert_eq!(prefix_record(b"INFO:my app:{\"a\": 1}"), None);
        assert_eq!(
            prefix_record(b"[2026-11-01 10:00:00 {x}] INFO: {\"a\": 1}"),
            None
        );
        assert_eq!(prefix_record(b"NOTICE:app:{\"a\": 1}"), None);
    }

    #[test]
    fn statuses_python_lowers_differently_are_left_to_python() {
        let values = vec![
            "success".to_string(),
            "ok".to_string(),
            "\u{a7db}".to_string(),
        ];
        assert_eq!(is_success(&values, "OK"), Ok(true));
        assert_eq!(is_success(&values, "Failed"), Ok(false));
        assert_eq!(is_success(&values, "\u{6210}\u{529f}"), Ok(false));
        assert_eq!(is_success(&values, "\u{a7db}"), Ok(true));
        // Latin, Greek and Cyrillic capitals lower in Rust as in Python
        let values = vec![
            "\u{e9}xito".to_string(),
            "i\u{307}".to_string(),
            "\u{443}\u{441}\u{43f}\u{435}\u{445}".to_string(),
        ];
        assert_eq!(is_success(&values, "\u{c9}XITO"), Ok(true));
        assert_eq!(is_success(&values, "\u{130}"), Ok(true));
        assert_eq!(
            is_success(&values, "\u{423}\u{441}\u{43f}\u{435}\u{445}"),
            Ok(true)
        );
        assert_eq!(is_success(&values, "\u{c9}chec"), Ok(false));
        // U+A7DA lowers to U+A7DB in Rust's tables, not in Python 3.11's; a sigma's lower case
        // depends on its neighbours; Georgian Mtavruli and Cherokee are left to Python too
        for status in [
            "\u{a7da}",
            "\u{3a3}\u{3a3}",
            "O\u{3a3}",
            "\u{1c90}",
            "\u{13a0}",
            "\u{10d50}",
        ] {
            assert_eq!(is_success(&values, status), Err(Why::Uncertain), "{status}");
        }
    }

    #[test]
    fn bom_only_on_line_one() {
        let p = plan(None);
        let (all, _) = codes(&p, b"\xef\xbb\xbf{}\n\xef\xbb\xbf{}\n");
        assert_eq!(all, vec![ROW, UNCERTAIN]);
        // odd bytes before a record (or any line) are Python's to decide (bad_prefix)
        let (all, _) = codes(&p, b"\x00\x00{}\n\xc2\xa0{}\n\x1bx\nplain\n");
        assert_eq!(all, vec![UNCERTAIN, UNCERTAIN, UNCERTAIN, NON_RECORD]);
    }
}
