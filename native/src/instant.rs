//! Timestamps into UTC nanoseconds, for the shapes logs nearly always use; every other one is
//! left to `records.parse_timestamps` (Arrow's cast), which stays the definition.
//!
//! Read here: `YYYY-MM-DD[T ]hh:mm:ss`, a fraction of 1 to 9 digits after `.` or `,`, then `Z`,
//! `+hh`, `+hh:mm` or `+hhmm` (or no offset, when the log's time zone is UTC), years 1678-2261
//! (inside int64 nanoseconds), and epoch numbers scaled by magnitude as Python scales them.
//! `None` means "Python decides": anything else, lower-case letters, spaces around the text,
//! a time with no offset in another time zone (DST rules live in Arrow's time zone database),
//! and numbers Python marks bad.

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The value of `n` ASCII digits at `at`, or None if one is not a digit.
#[inline]
fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let mut v = 0i64;
    for &c in b.get(at..at + n)? {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as i64;
    }
    Some(v)
}

/// Two digits known to be digits.
#[inline]
fn two(b: &[u8], at: usize) -> i64 {
    (b[at] - b'0') as i64 * 10 + (b[at + 1] - b'0') as i64
}

/// `YYYY-MM-DD[T ]hh:mm:ss`, digits where digits go (one pass, no values yet).
#[inline]
fn whole_shape(b: &[u8]) -> bool {
    const SHAPE: &[u8; 19] = b"dddd-dd-ddTdd:dd:dd";
    b.len() >= 19
        && SHAPE.iter().zip(b).all(|(&s, &c)| match s {
            b'd' => c.is_ascii_digit(),
            b'T' => c == b'T' || c == b' ',
            _ => c == s,
        })
}

const SCALE: [i64; 10] = [
    1_000_000_000,
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

/// An ISO 8601 time as UTC nanoseconds; None leaves it to Python. `naive_utc`: times with no
/// offset are UTC (the log's time zone is UTC).
pub fn text_ns(s: &str, naive_utc: bool) -> Option<i64> {
    let b = s.as_bytes();
    if !whole_shape(b) {
        return None;
    }
    let y = two(b, 0) * 100 + two(b, 2);
    let (mo, d) = (two(b, 5), two(b, 8));
    let (h, mi, sec) = (two(b, 11), two(b, 14), two(b, 17));
    if !(1678..=2261).contains(&y)
        || !(1..=12).contains(&mo)
        || d < 1
        || d > days_in_month(y, mo)
        || h > 23
        || mi > 59
        || sec > 59
    {
        return None;
    }
    let mut at = 19;
    let mut frac = 0i64;
    if matches!(b.get(at), Some(b'.' | b',')) {
        let n = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if !(1..=9).contains(&n) {
            return None;
        }
        frac = digits(b, at + 1, n)? * SCALE[n];
        at += 1 + n;
    }
    let offset = match &b[at..] {
        [] if naive_utc => 0,
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (oh, om) = match rest.len() {
                2 => (digits(rest, 0, 2)?, 0),
                4 => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                5 if rest[2] == b':' => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = oh * 3600 + om * 60;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    // 1678-2261 with any offset stays inside int64 nanoseconds
    Some(secs * 1_000_000_000 + frac)
}

/// Seconds, milliseconds, microseconds or nanoseconds since the epoch (by magnitude: from 1e11,
/// 1e14, 1e17) as nanoseconds, truncated toward zero as numpy's astype(int64) does; None when
/// Python marks it bad (out of range).
pub fn epoch_ns(v: f64) -> Option<i64> {
    let a = v.abs();
    let scale = if a < 1e11 {
        1e9
    } else if a < 1e14 {
        1e6
    } else if a < 1e17 {
        1e3
    } else {
        1.0
    };
    let ns = v * scale;
    (ns.is_finite() && ns.abs() < 9.2e18).then_some(ns as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_logs_use() {
        let t = 1_793_527_200_000_000_000; // 2026-11-01T10:00:00Z
        assert_eq!(text_ns("2026-11-01T10:00:00Z", false), Some(t));
        assert_eq!(text_ns("2026-11-01 10:00:00", true), Some(t));
        assert_eq!(text_ns("2026-11-01 10:00:00", false), None);
        assert_eq!(
            text_ns("2026-11-01T10:00:00.5Z", false),
            Some(t + 500_000_000)
        );
        assert_eq!(
            text_ns("2026-11-01 10:00:00,123", true),
            Some(t + 123_000_000)
        );
        assert_eq!(
            text_ns("2026-11-01T12:00:00.123456789+02:00", false),
            Some(t + 123_456_789)
        );
        assert_eq!(
            text_ns("2026-11-01T10:00:00+05", false),
            Some(t - 5 * 3_600_000_000_000)
        );
        assert_eq!(
            text_ns("2026-11-01T10:00:00-0130", false),
            Some(t + 5_400_000_000_000)
        );
        assert_eq!(
            text_ns("2024-02-29T00:00:00Z", false),
            Some(1_709_164_800_000_000_000)
        );
        assert_eq!(text_ns("1970-01-01T00:00:00Z", false), Some(0));
        assert_eq!(text_ns("1969-12-31T23:59:59.9Z", false), Some(-100_000_000));
    }

    #[test]
    fn anything_else_is_left_to_python() {
        for s in [
            "2026-02-29T10:00:00Z",
            "2026-11-01T24:00:00Z",
            "2026-11-01T10:60:00Z",
            "2026-11-01T10:00:60Z",
            "2026-13-01T10:00:00Z",
            "2026-11-00T10:00:00Z",
            "2026-11-01t10:00:00Z",
            "2026-11-01T10:00:00z",
            " 2026-11-01T10:00:00Z",
            "2026-11-01T10:00:00Z ",
            "2026-11-01T10:00:00.Z",
            "2026-11-01T10:00:00.1234567891Z",
            "2026-11-01T10:00:00+24:00",
            "2026-11-01T10:00:00+00:60",
            "2026-11-01T10:00:00+0",
            "2026-11-01T10:00Z",
            "2026-11-01",
            "1677-12-31T00:00:00Z",
            "2262-01-01T00:00:00Z",
            "+2026-11-01T10:00:00Z",
            "2026-11-01T10:00:00\u{ff11}",
        ] {
            assert_eq!(text_ns(s, true), None, "{s}");
        }
    }

    #[test]
    fn epochs_by_magnitude() {
        assert_eq!(epoch_ns(1.5), Some(1_500_000_000));
        assert_eq!(epoch_ns(-1.5), Some(-1_500_000_000));
        assert_eq!(epoch_ns(1.7e12), Some(1_700_000_000_000_000_000));
        assert_eq!(epoch_ns(1.7e15), Some(1_700_000_000_000_000_000));
        assert_eq!(epoch_ns(1.7e18), Some(1_700_000_000_000_000_000));
        assert_eq!(epoch_ns(9.3e18), None);
        assert_eq!(epoch_ns(f64::INFINITY), None);
        assert_eq!(epoch_ns(f64::NAN), None);
    }
}
