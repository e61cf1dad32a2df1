//! Any bytes through the block parser under each kind of read plan: no panic, every line accounted
//! for once, and columns that pyarrow can wrap without checking (equal lengths, utf8 text, offsets in
//! range). Whether the answers equal the Python exact path is tested by tests/read/test_native.py.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlmon_native::block::{parse, CODES, ROW};
use mlmon_native::columns::Col;
use mlmon_native::plan::{FeatureKind, Fields, Plan, DEFAULT_SUMMARY as SUMMARY};

fn plan(kind: u8) -> Plan {
    let success = vec!["ok".to_string(), "success".to_string(), "200".to_string()];
    let features = || {
        Some((
            "input.features",
            vec![
                (FeatureKind::Numeric, "age"),
                (FeatureKind::Categorical, "colour"),
                (FeatureKind::Numeric, "a.b"),
            ],
        ))
    };
    let list = || Some(("input.features", vec![(FeatureKind::Numeric, "0"), (FeatureKind::Numeric, "1")]));
    let (fields, marker) = match kind % 5 {
        0 => (Fields { timestamp: "timestamp", by: None, join: None, summary: Some(SUMMARY), features: None }, None),
        1 => (
            Fields { timestamp: "timestamp", by: Some("model_version"), join: None, summary: Some(SUMMARY), features: None },
            None,
        ),
        2 => (Fields { timestamp: "ts", by: None, join: None, summary: None, features: features() }, None),
        3 => (Fields { timestamp: "timestamp", by: Some("m"), join: None, summary: None, features: list() }, None),
        _ => (
            Fields { timestamp: "t", by: None, join: None, summary: Some(SUMMARY), features: features() },
            Some(b"PRED ".to_vec()),
        ),
    };
    Plan::new(fields, marker, success)
}

fn column_len(col: &Col) -> usize {
    match col {
        Col::F64(c) => {
            assert_eq!(c.values.len(), c.valid.len);
            c.valid.len
        }
        Col::I64(c) => {
            assert_eq!(c.values.len(), c.valid.len);
            c.valid.len
        }
        Col::Bool(c) => {
            assert_eq!(c.values.len, c.valid.len);
            c.valid.len
        }
        Col::Str(c) => {
            assert_eq!(c.offsets.len(), c.valid.len + 1);
            assert_eq!(c.offsets[0], 0);
            assert_eq!(*c.offsets.last().unwrap() as usize, c.data.len());
            for w in c.offsets.windows(2) {
                assert!(w[0] <= w[1], "offsets decrease");
                let text = &c.data[w[0] as usize..w[1] as usize];
                assert!(std::str::from_utf8(text).is_ok(), "a text value that is not utf8");
            }
            c.valid.len
        }
        #[allow(unreachable_patterns)]
        _ => return usize::MAX,
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&kind, data)) = input.split_first() else {
        return;
    };
    let mut p = plan(kind);
    p.naive_utc = kind % 2 == 0;
    let first_line = 1 + i64::from(kind / 5);
    let out = parse(&p, data, first_line);
    let newlines = data.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(out.lines, newlines, "every line ending is one line");
    assert_eq!(out.counts.iter().sum::<u64>() as usize, out.lines, "every line counted once");
    assert_eq!(out.counts.len(), CODES);
    let rows = out.counts[ROW as usize] as usize;
    assert_eq!(out.row_lines.len(), rows);
    assert!(out.row_lines.windows(2).all(|w| w[0] < w[1]), "rows in line order");
    let n_bad = out.bad_index.len();
    assert!([out.bad_code.len(), out.bad_start.len(), out.bad_end.len()].iter().all(|&n| n == n_bad));
    for i in 0..n_bad {
        assert!(out.bad_start[i] <= out.bad_end[i] && out.bad_end[i] as usize <= data.len());
        assert!((out.bad_index[i] as usize) < out.lines);
    }
    for col in &out.columns {
        let n = column_len(col);
        assert!(n == rows || n == usize::MAX, "a column of {n} values for {rows} rows");
    }
});
