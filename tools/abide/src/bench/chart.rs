//! The comparison as an SVG chart: one horizontal bar per row, from 1× to
//! Abide's median over Linux's, on a logarithmic (base 2) axis, so that
//! twice as fast and twice as slow are bars of the same length on either
//! side of 1×. Written by hand: SVG is text, and a chart of a dozen bars
//! needs no library.

use std::fmt::Write as _;

use super::compare::{format_ratio, Comparison};

const WIDTH: f64 = 820.0;
/// Where the bars' axis starts and ends.
const PLOT_LEFT: f64 = 250.0;
const PLOT_RIGHT: f64 = 740.0;
/// Above the first bar: title, subtitle lines, room for the grid's top.
const HEADER: f64 = 48.0;
const SUBTITLE_LINE: f64 = 16.0;
/// Subtitle lines wrap at this many characters.
const SUBTITLE_WIDTH: usize = 120;
const ROW: f64 = 26.0;
const BAR: f64 = 16.0;
const BOTTOM: f64 = 34.0;
/// Abide faster or smaller; slower or larger.
const BETTER: &str = "#2e7d32";
const WORSE: &str = "#c62828";

/// The chart of `comparison`; `subtitle` says what was measured where
/// (Markdown's backticks are dropped; long text wraps).
pub fn render_svg(comparison: &Comparison, subtitle: &str) -> String {
    let subtitle = wrap(&subtitle.replace('`', ""), SUBTITLE_WIDTH);
    let first_row = HEADER + SUBTITLE_LINE * subtitle.len() as f64;
    let ratios: Vec<Option<f64>> = comparison
        .rows
        .iter()
        .map(|row| row.ratio().filter(|r| r.is_finite() && *r > 0.0))
        .collect();
    let (low, high) = axis_range(ratios.iter().flatten().copied());
    let x = |ratio: f64| {
        let span = high - low;
        PLOT_LEFT + (ratio.log2() - low) / span * (PLOT_RIGHT - PLOT_LEFT)
    };
    let height = first_row + ROW * comparison.rows.len() as f64 + BOTTOM;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"##
    );
    let _ = writeln!(
        svg,
        r##"<rect width="{WIDTH}" height="{height}" fill="white"/>"##
    );
    let _ = writeln!(
        svg,
        r##"<text x="10" y="20" font-size="15" font-weight="bold">Abide ÷ Linux, medians (log scale): left of 1× Abide is faster or smaller</text>"##
    );
    for (index, line) in subtitle.iter().enumerate() {
        let _ = writeln!(
            svg,
            r##"<text x="10" y="{}" fill="#555">{}</text>"##,
            38.0 + SUBTITLE_LINE * index as f64,
            escape(line)
        );
    }
    // Grid lines and their labels, one per power of two (fewer if many).
    let bottom = first_row + ROW * comparison.rows.len() as f64;
    let step = ((high - low) / 10.0).ceil().max(1.0) as i32;
    for exponent in (low.ceil() as i32..=high.floor() as i32).filter(|e| e % step == 0) {
        let at = x(2f64.powi(exponent));
        let (stroke, width) = if exponent == 0 {
            ("#000", 1.5)
        } else {
            ("#ddd", 1.0)
        };
        let _ = writeln!(
            svg,
            r##"<line x1="{at:.1}" y1="{}" x2="{at:.1}" y2="{bottom}" stroke="{stroke}" stroke-width="{width}"/>"##,
            first_row - 6.0
        );
        let _ = writeln!(
            svg,
            r##"<text x="{at:.1}" y="{}" text-anchor="middle" fill="#555">{}</text>"##,
            bottom + 16.0,
            tick_label(exponent)
        );
    }
    for (index, (row, ratio)) in comparison.rows.iter().zip(&ratios).enumerate() {
        let top = first_row + ROW * index as f64;
        let middle = top + ROW / 2.0 + 4.0;
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{middle:.1}" text-anchor="end">{}</text>"##,
            PLOT_LEFT - 10.0,
            escape(row.spec.short)
        );
        let Some(ratio) = *ratio else {
            let _ = writeln!(
                svg,
                r##"<text x="{:.1}" y="{middle:.1}" fill="#555">not measured</text>"##,
                x(1.0) + 6.0
            );
            continue;
        };
        let (from, to) = (x(1.0), x(ratio));
        let (left, right) = (from.min(to), from.max(to));
        let color = if ratio <= 1.0 { BETTER } else { WORSE };
        let _ = writeln!(
            svg,
            r##"<rect class="bar" x="{left:.1}" y="{:.1}" width="{:.1}" height="{BAR}" fill="{color}"/>"##,
            top + (ROW - BAR) / 2.0,
            right - left
        );
        let (label_x, anchor) = if ratio <= 1.0 {
            (left - 4.0, "end")
        } else {
            (right + 4.0, "start")
        };
        let _ = writeln!(
            svg,
            r##"<text x="{label_x:.1}" y="{middle:.1}" text-anchor="{anchor}">{}×</text>"##,
            format_ratio(ratio)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The axis in powers of two: whole exponents around every ratio and 1×,
/// at least one power on either side.
fn axis_range(ratios: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut low, mut high) = (-1.0f64, 1.0f64);
    for ratio in ratios {
        low = low.min(ratio.log2().floor());
        high = high.max(ratio.log2().ceil());
    }
    // Room for the value label beyond the longest bar.
    (low - 0.5, high + 0.5)
}

/// `text` in lines of at most `width` characters, broken at spaces (a
/// longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// `1×`, `4×`, `1/8×`.
fn tick_label(exponent: i32) -> String {
    if exponent >= 0 {
        format!("{}×", 1u64 << exponent.min(62))
    } else {
        format!("1/{}×", 1u64 << (-exponent).min(62))
    }
}

/// Text for an SVG text node or attribute.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::compare::{Row, Value, ROWS};

    fn comparison(ratios: &[Option<f64>]) -> Comparison {
        Comparison {
            rows: ratios
                .iter()
                .zip(ROWS)
                .map(|(ratio, spec)| Row {
                    spec,
                    abide: ratio.map(|r| Value {
                        median: r * 100.0,
                        p99: None,
                    }),
                    linux: Some(Value {
                        median: 100.0,
                        p99: None,
                    }),
                    abide_failure: None,
                })
                .collect(),
        }
    }

    /// The `x` and `width` of every bar, in order.
    fn bars(svg: &str) -> Vec<(f64, f64)> {
        svg.lines()
            .filter(|l| l.contains(r##"class="bar""##))
            .map(|l| {
                let attribute = |name: &str| {
                    let start = l.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
                    l[start..start + l[start..].find('"').unwrap()]
                        .parse::<f64>()
                        .unwrap()
                };
                (attribute("x"), attribute("width"))
            })
            .collect()
    }

    #[test]
    fn bars_grow_from_one_on_a_log_scale() {
        let svg = render_svg(
            &comparison(&[Some(0.5), Some(2.0), Some(1.0), None, Some(4.0)]),
            "QEMU <7.2> & co",
        );
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        assert!(svg.contains("QEMU &lt;7.2&gt; &amp; co"));
        let bars = bars(&svg);
        assert_eq!(bars.len(), 4, "{svg}");
        let (half, double, one, four) = (bars[0], bars[1], bars[2], bars[3]);
        // Half and double: the same length on either side of 1×.
        assert!((half.1 - double.1).abs() < 0.2, "{half:?} {double:?}");
        assert!((half.0 + half.1 - double.0).abs() < 0.2);
        assert_eq!(one.1, 0.0);
        assert!((four.1 - 2.0 * double.1).abs() < 0.2);
        assert!(svg.contains(">0.50×<") && svg.contains(">4.00×<"));
        assert!(svg.contains("not measured"));
        for spec in &ROWS[..5] {
            assert!(svg.contains(&escape(spec.short)), "{}", spec.short);
        }
        // Colors: faster green, slower red.
        assert_eq!(svg.matches(BETTER).count(), 2);
        assert_eq!(svg.matches(WORSE).count(), 2);
    }

    #[test]
    fn subtitles_wrap_at_spaces() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("longword x", 3), ["longword", "x"]);
        assert_eq!(wrap("", 10), Vec::<String>::new());
        let svg = render_svg(&comparison(&[Some(1.0)]), &"`word` ".repeat(40));
        assert_eq!(svg.matches(r##"fill="#555">word"##).count(), 2);
        assert!(!svg.contains('`'));
    }

    #[test]
    fn the_axis_covers_every_ratio() {
        assert_eq!(axis_range([].into_iter()), (-1.5, 1.5));
        assert_eq!(axis_range([0.1, 30.0].into_iter()), (-4.5, 5.5));
        assert_eq!(tick_label(0), "1×");
        assert_eq!(tick_label(3), "8×");
        assert_eq!(tick_label(-2), "1/4×");
        // Many powers of two (2^-14 to 2^14): every third one is labelled,
        // 1× always.
        let svg = render_svg(&comparison(&[Some(1e-4), Some(1e4)]), "");
        assert!(svg.contains(">1×<") && svg.contains(">8×<") && svg.contains(">1/8×<"));
        assert!(!svg.contains(">2×<") && !svg.contains(">4×<"));
    }
}
