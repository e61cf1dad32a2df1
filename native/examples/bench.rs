//! Time the block parser on a JSON-lines file: `cargo run --release --example bench FILE`.
use mlmon_native::block;
use mlmon_native::plan::{FeatureKind, Fields, Plan, DEFAULT_SUMMARY};
use serde::de::{Deserialize, IgnoredAny};
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("a JSON-lines file");
    let data = std::fs::read(path).expect("readable");
    // BENCH_ONLY=summary|drift times one plan only and skips the floors (for `perf stat`)
    let only = std::env::var("BENCH_ONLY").ok();
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let names: Vec<String> = (0..8).map(|i| format!("f{i}")).collect();
    for (label, features) in [
        ("summary", None),
        (
            "drift",
            Some((
                "input.features",
                names
                    .iter()
                    .map(|n| (FeatureKind::Numeric, n.as_str()))
                    .collect::<Vec<_>>(),
            )),
        ),
    ] {
        if only.as_deref().is_some_and(|o| o != label) {
            continue;
        }
        let plan = Plan::new(
            Fields {
                timestamp: "timestamp",
                by: features.is_none().then_some("model_version"),
                join: None,
                summary: features.is_none().then_some(DEFAULT_SUMMARY),
                features,
            },
            None,
            vec!["success".into(), "ok".into()],
        );
        // the best of the rounds: the first also pays for faulting in the columns' pages
        let (mut best, mut lines) = (f64::INFINITY, 0);
        for _ in 0..rounds {
            let t = Instant::now();
            // in 4 MiB blocks of whole lines, as mlmon's reader hands them over
            lines = 0;
            let mut at = 0;
            while at < data.len() {
                let cut = (at + (4 << 20)).min(data.len());
                let end = data[at..cut]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(data.len(), |i| at + i + 1);
                lines += block::parse(&plan, &data[at..end], 1).lines;
                at = end;
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{label}: {lines} lines in {best:.3} s (best of {rounds}): {:.0} ns/line",
            best * 1e9 / lines as f64
        );
    }
    if only.is_some() {
        return;
    }
    let t = Instant::now();
    let mut n = 0;
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let s = std::str::from_utf8(line).unwrap();
        let mut de = serde_json::Deserializer::from_str(s);
        IgnoredAny::deserialize(&mut de).unwrap();
        n += 1;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "serde_json IgnoredAny floor: {:.0} ns/line",
        s * 1e9 / n as f64
    );
    let t = Instant::now();
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        std::hint::black_box(v);
    }
    let s = t.elapsed().as_secs_f64();
    println!("serde_json Value: {:.0} ns/line", s * 1e9 / n as f64);
}
