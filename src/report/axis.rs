//! Axes of the charts: where a value sits on a linear or logarithmic axis, padded ranges,
//! and tick marks at 1, 2, 5 × 10^k (labelled as powers of ten on log axes, whole numbers on
//! axes of qubit counts), as a plotters [`Ranged`] coordinate.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// Where a value sits on an axis: `log10 v` on a logarithmic one, `v` otherwise.
pub(super) fn to_axis(v: f64, log: bool) -> Option<f64> {
    match (v.is_finite(), log) {
        (false, _) => None,
        (true, true) if v > 0.0 => Some(v.log10()),
        (true, true) => None,
        (true, false) => Some(v),
    }
}

/// A range `(lo, hi)` with `hi > lo`, both finite.
pub(super) fn span(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    lo.is_finite().then_some((lo, hi))
}

/// Pads a data range so that points do not sit on the frame; a single value gets a range
/// around it.
pub(super) fn pad((lo, hi): (f64, f64), log: bool) -> (f64, f64) {
    if hi > lo {
        let m = 0.06 * (hi - lo);
        (lo - m, hi + m)
    } else if log {
        (lo - 0.5, hi + 0.5)
    } else {
        let m = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
        (lo - m, hi + m)
    }
}

/// Round step `1, 2, 5 × 10ᵏ` near `raw`.
pub(super) fn nice_step(raw: f64) -> f64 {
    let k = raw.log10().floor();
    let base = 10f64.powf(k);
    let m = raw / base;
    let f = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    f * base
}

pub(super) const SUPERSCRIPT: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];

/// `10ᵏ` with the exponent in superscript digits (`10⁻⁴`).
pub(super) fn power_of_ten(k: i32) -> String {
    let mut s = String::from("10");
    if k < 0 {
        s.push('⁻');
    }
    for c in k.unsigned_abs().to_string().chars() {
        let d = c.to_digit(10).unwrap_or(0) as usize;
        s.push(SUPERSCRIPT[d % 10]);
    }
    s
}

/// Tick positions (in axis units) and their labels, plus unlabelled minor positions.
pub(super) struct Ticks {
    pub(super) major: Vec<(f64, String)>,
    pub(super) minor: Vec<f64>,
}

/// Ticks of a logarithmic axis spanning `lo..hi` decades: decades labelled `10ᵏ` (plain
/// numbers when every tick lies in 0.01 … 10⁴), with 2 and 5 × 10ᵏ labelled too when the
/// axis spans fewer than two decades, and 1 … 9 × 10ᵏ when it spans less than a factor of 5.
pub(super) fn log_ticks(lo: f64, hi: f64) -> Ticks {
    let (k0, k1) = (lo.floor() as i32, hi.ceil() as i32);
    let inside = |v: f64| v >= lo - 1e-9 && v <= hi + 1e-9;
    let at = |mantissas: &[u32]| -> Vec<(f64, u32, i32)> {
        (k0..=k1)
            .flat_map(|k| mantissas.iter().map(move |&m| (m, k)))
            .map(|(m, k)| (f64::from(m).log10() + f64::from(k), m, k))
            .filter(|&(v, _, _)| inside(v))
            .collect()
    };
    let labelled = |ticks: Vec<(f64, u32, i32)>| -> Vec<(f64, String)> {
        let plain = ticks.iter().all(|&(_, _, k)| (-2..=4).contains(&k));
        ticks
            .into_iter()
            .map(|(v, m, k)| {
                let label = if plain {
                    let x = f64::from(m) * 10f64.powi(k);
                    let decimals = (-k).max(0) as usize;
                    format!("{x:.decimals$}")
                } else if m == 1 {
                    power_of_ten(k)
                } else {
                    format!("{m}×{}", power_of_ten(k))
                };
                (v, label)
            })
            .collect()
    };
    let values = |t: Vec<(f64, u32, i32)>| t.into_iter().map(|t| t.0).collect::<Vec<_>>();
    let decades = at(&[1]);
    if decades.len() >= 3 {
        // A very long axis: every other (or third, …) decade, so that labels do not collide.
        let every = decades.len().div_ceil(8) as i32;
        let minor = if every == 1 {
            values(at(&[2, 3, 4, 5, 6, 7, 8, 9]))
        } else {
            values(decades.clone())
        };
        let major = decades
            .into_iter()
            .filter(|&(_, _, k)| k.rem_euclid(every) == 0)
            .collect();
        return Ticks {
            major: labelled(major),
            minor,
        };
    }
    let major = at(&[1, 2, 5]);
    if major.len() >= 3 {
        return Ticks {
            major: labelled(major),
            minor: values(at(&[3, 4, 6, 7, 8, 9])),
        };
    }
    let major = at(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
    if major.len() >= 2 {
        return Ticks {
            major: labelled(major),
            minor: vec![],
        };
    }
    // Less than a factor of two: linear ticks on the values, placed at their logarithms.
    let t = linear_ticks(10f64.powf(lo), 10f64.powf(hi), false);
    Ticks {
        major: t
            .major
            .into_iter()
            .filter(|(v, _)| *v > 0.0)
            .map(|(v, l)| (v.log10(), l))
            .collect(),
        minor: vec![],
    }
}

/// Ticks of a linear axis on `lo..hi`: about five round steps (1, 2, 5 × 10ᵏ), whole numbers
/// only when `integer`.
pub(super) fn linear_ticks(lo: f64, hi: f64, integer: bool) -> Ticks {
    let mut step = nice_step((hi - lo) / 5.0);
    if integer {
        step = step.max(1.0).round();
    }
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    let big = lo.abs().max(hi.abs());
    let scientific = big >= 1e5 || (big < 1e-3 && big > 0.0);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let major = (first..=last)
        .take(50)
        .map(|i| {
            let v = i as f64 * step;
            let label = if v == 0.0 {
                "0".to_string()
            } else if scientific {
                let k = v.abs().log10().floor() as i32;
                let m = v / 10f64.powi(k);
                let m = format!("{m:.2}");
                let m = m.trim_end_matches('0').trim_end_matches('.');
                format!("{m}×{}", power_of_ten(k))
            } else {
                format!("{v:.decimals$}")
            };
            (v, label)
        })
        .collect();
    Ticks {
        major,
        minor: vec![],
    }
}

/// A linear axis (in axis units: `log10` of the value on a logarithmic one) whose tick marks
/// and grid lines are the [`Ticks`] chosen here.
pub(super) struct Axis {
    lo: f64,
    hi: f64,
    major: Vec<f64>,
    minor: Vec<f64>,
}

impl Axis {
    pub(super) fn new(lo: f64, hi: f64, t: &Ticks) -> Self {
        Axis {
            lo,
            hi,
            major: t.major.iter().map(|m| m.0).collect(),
            minor: t.minor.clone(),
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let f = (v - self.lo) / (self.hi - self.lo);
        let px = f64::from(limit.0) + f * f64::from(limit.1 - limit.0);
        px.round().clamp(-1e6, 1e6) as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.major.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}
