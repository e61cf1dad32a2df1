//! The floor under mlmon's native reader: how long strict JSON parsers take only to check each line
//! of a JSON-lines log and skip its values, with nothing kept. mlmon's reader does this and more
//! (the field walk, duplicate keys, columns), so no reader built on these parsers runs faster.
//!
//! `cargo run --release -- FILE [ROUNDS]`; prints nanoseconds a line (best round) for each parser.

use serde::de::IgnoredAny;
use std::time::Instant;

fn best<F: FnMut() -> usize>(rounds: usize, lines: usize, mut f: F) -> f64 {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(f(), lines, "every line parses");
            t.elapsed().as_secs_f64() * 1e9 / lines as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: parser-floor FILE [ROUNDS]");
    let rounds: usize = args.next().map_or(5, |r| r.parse().expect("ROUNDS is a number"));
    let data = std::fs::read(&path).expect("a readable file");
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let n = lines.len();
    let serde = best(rounds, n, || {
        lines
            .iter()
            .filter(|l| {
                std::str::from_utf8(l)
                    .ok()
                    .and_then(|s| serde_json::from_str::<IgnoredAny>(s).ok())
                    .is_some()
            })
            .count()
    });
    let sonic = best(rounds, n, || {
        lines
            .iter()
            .filter(|l| sonic_rs::from_slice::<IgnoredAny>(l).is_ok())
            .count()
    });
    let mut buf = Vec::with_capacity(1 << 16);
    let mut buffers = simd_json::Buffers::default();
    let simd = best(rounds, n, || {
        lines
            .iter()
            .filter(|l| {
                buf.clear();
                buf.extend_from_slice(l);
                simd_json::to_tape_with_buffers(&mut buf, &mut buffers).is_ok()
            })
            .count()
    });
    println!("{n} lines of {path}, best of {rounds} rounds, one thread:");
    for (name, ns) in [
        ("serde_json (check and skip)", serde),
        ("sonic-rs (check and skip)", sonic),
        ("simd-json (tape)", simd),
    ] {
        println!(
            "  {name:<28} {ns:6.0} ns/line  {:5.2} M lines/s on one core, {:5.2} M on two",
            1e3 / ns,
            2e3 / ns
        );
    }
}
