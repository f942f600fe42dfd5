//! Allocation-light text building for the hot paths (messages, event ids): digits are written
//! by hand instead of through the formatting machinery.

use std::fmt::Write;

/// Appends `value` with at most one decimal (`80`, `85.3`, `-0.5`).
pub(crate) fn push_number(out: &mut String, value: f64) {
    let tenths = (value * 10.0).round();
    if !tenths.is_finite() || tenths.abs() >= 1e15 {
        // Out of the integer fast path's range: let the formatter handle it.
        let _ = write!(out, "{value}");
        return;
    }
    let tenths = tenths as i64;
    if tenths < 0 {
        out.push('-');
    }
    let magnitude = tenths.unsigned_abs();
    push_digits(out, magnitude / 10);
    let fraction = magnitude % 10;
    if fraction != 0 {
        out.push('.');
        push_digits(out, fraction);
    }
}

/// Appends a signed integer.
pub(crate) fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_digits(out, n.unsigned_abs());
}

/// Appends the decimal digits of `n`.
pub(crate) fn push_digits(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(value: f64) -> String {
        let mut out = String::new();
        push_number(&mut out, value);
        out
    }

    #[test]
    fn numbers_render_compactly() {
        assert_eq!(number(80.0), "80");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(85.34), "85.3");
        assert_eq!(number(99.96), "100");
        assert_eq!(number(-0.25), "-0.3");
        assert_eq!(number(-12.34), "-12.3");
        assert_eq!(number(1234567.0), "1234567");
        assert_eq!(number(1e300), format!("{}", 1e300));
    }

    #[test]
    fn integers() {
        for n in [0, 7, -7, 1_767_787_200_000, i64::MIN, i64::MAX] {
            let mut out = String::new();
            push_int(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }
}
