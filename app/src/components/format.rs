//! Numbers as people read them on a projector.

pub fn ms(v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if v.abs() < 10.0 {
        format!("{v:.2} ms")
    } else if v.abs() < 1000.0 {
        format!("{v:.0} ms")
    } else {
        format!("{:.2} s", v / 1000.0)
    }
}

pub fn bytes(v: u64) -> String {
    match v {
        0..1_000 => format!("{v} B"),
        1_000..1_000_000 => format!("{:.1} KB", v as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", v as f64 / 1e6),
        _ => format!("{:.1} GB", v as f64 / 1e9),
    }
}

/// A count with thousands separated: "12,345".
pub fn grouped(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate, short: "0.50", "12", "4.2 k", "1.3 M".
pub fn si(v: f64) -> String {
    match v {
        0.0 => "0".into(),
        v if v < 10.0 => format!("{v:.2}"),
        v if v < 10_000.0 => format!("{v:.0}"),
        v if v < 1e6 => format!("{:.1} k", v / 1e3),
        v => format!("{:.1} M", v / 1e6),
    }
}

pub fn ratio(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| if v < 10.0 { format!("{v:.2}") } else { format!("{v:.0}") })
}

/// Local time of day `HH:MM:SS.mmm` for a Unix time in ms.
pub fn clock(at_ms: f64) -> String {
    #[cfg(feature = "hydrate")]
    let offset_min = -js_sys::Date::new(&at_ms.into()).get_timezone_offset();
    #[cfg(not(feature = "hydrate"))]
    let offset_min = 0.0;
    let t = (at_ms + offset_min * 60_000.0).rem_euclid(86_400_000.0) as u64;
    format!("{:02}:{:02}:{:02}.{:03}", t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(ms(0.4213), "0.42 ms");
        assert_eq!(ms(123.4), "123 ms");
        assert_eq!(ms(2500.0), "2.50 s");
        assert_eq!(ms(f64::NAN), "—");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(12_345), "12.3 KB");
        assert_eq!(bytes(3_400_000), "3.4 MB");
        assert_eq!(bytes(5_600_000_000), "5.6 GB");
        assert_eq!(
            (grouped(999.4), grouped(1000.0), grouped(1_234_567.0)),
            ("999".into(), "1,000".into(), "1,234,567".into())
        );
        assert_eq!(
            (si(0.0), si(0.5), si(500.0), si(12_345.0), si(2_500_000.0)),
            ("0".into(), "0.50".into(), "500".into(), "12.3 k".into(), "2.5 M".into())
        );
        assert_eq!(ratio(None), "—");
        assert_eq!(ratio(Some(2.5)), "2.50");
        assert_eq!(clock(3_723_004.0), "01:02:03.004");
    }
}
