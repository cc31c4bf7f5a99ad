//! The benchmark chart: for each workload, how many times better (right) or worse (left) than
//! libdatachannel our engine and our GDScript API are, on a log scale. Drawn with plotters; its
//! text is set in DejaVu Sans compiled into the binary (the `dejavu` crate, through plotters'
//! `ab_glyph` feature), so it needs no system font and no fontconfig or freetype.

use crate::metric::{Metric, advantage, metrics, value};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use serde_json::{Map, Value};
use std::path::Path;

pub const WIDTH: u32 = 1100;
const ROW: u32 = 44;
/// Room for the chart's title and legend above the rows, and the x labels below.
const MARGINS: u32 = 130;
/// Log2 range of the x axis: 1/16 to 64.
const LO: i32 = -4;
const HI: i32 = 6;
/// The series: (stack, legend, colour).
const SERIES: [(&str, &str, RGBColor); 2] =
    [("engine", "engine (Rust API)", RGBColor(52, 101, 164)), ("gdscript", "GDScript API (tight loop)", RGBColor(230, 126, 34))];
const FONT: &str = "sans-serif";
/// Coordinates are integers (plotters formats the labels of integer axes only): hundredths of
/// a power of two on x, hundredths of a row on y.
const S: i32 = 100;

/// Whether a metric gets a row: not the library size (libdatachannel has none here), and of the
/// lossy streams only delivered %, p99 and the longest gap (p50, p95 and max are in the table).
fn charted(m: &Metric) -> bool {
    m.key != "so_mb" && !["_p50_ms", "_p95_ms", "_max_ms", "_out_of_order"].iter().any(|s| m.key.starts_with("lossy_") && m.key.ends_with(s))
}

/// The chart's height for the metrics it shows.
pub fn height() -> u32 {
    MARGINS + metrics().filter(|m| charted(m)).count() as u32 * ROW
}

/// Draws the chart of `results` into a PNG file at `path`.
pub fn draw(results: &Map<String, Value>, path: &Path) -> Result<(), String> {
    plot(results, BitMapBackend::new(path, (WIDTH, height())).into_drawing_area())
}

/// Draws the chart into an RGB buffer of `WIDTH` x `height()` pixels.
pub fn draw_rgb(results: &Map<String, Value>, buffer: &mut [u8]) -> Result<(), String> {
    plot(results, BitMapBackend::with_buffer(buffer, (WIDTH, height())).into_drawing_area())
}

fn plot<DB: DrawingBackend>(results: &Map<String, Value>, root: DrawingArea<DB, Shift>) -> Result<(), String> {
    static FONT_ONCE: std::sync::Once = std::sync::Once::new();
    FONT_ONCE.call_once(|| {
        // DejaVu Sans is a valid font: this cannot fail.
        let _ = register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let rows: Vec<&Metric> = metrics().filter(|m| charted(m)).collect();
    let n = rows.len() as i32;
    // Row i is drawn from the top: its centre is at y = (n - i - ½) S.
    let centre = |i: i32| (n - i) * S - S / 2;
    let label_of = |y: &i32| rows.get((n - 1 - y / S) as usize).map(|m| m.label.to_string()).unwrap_or_default();
    let x_label = |x: &i32| {
        let k = x / S;
        if k >= 0 { format!("{}×", 1u64 << k) } else { format!("1/{}", 1u64 << -k) }
    };

    root.fill(&WHITE).map_err(e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("webrtc-rs for Godot vs libdatachannel: times better (right) or worse (left)", (FONT, 22))
        .margin(15)
        .x_label_area_size(30)
        .y_label_area_size(400)
        .build_cartesian_2d(
            (LO * S..HI * S).with_key_points((LO..=HI).map(|k| k * S).collect()),
            (0..n * S).with_key_points((0..n).map(centre).collect()),
        )
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels((HI - LO + 1) as usize)
        .y_labels(n as usize)
        .x_label_formatter(&x_label)
        .y_label_formatter(&label_of)
        .label_style((FONT, 14))
        .draw()
        .map_err(e)?;
    // The line of "as good as libdatachannel".
    chart.draw_series([PathElement::new([(0, 0), (0, n * S)], BLACK.stroke_width(2))]).map_err(e)?;

    for (j, (stack, legend, colour)) in SERIES.iter().enumerate() {
        let bars: Vec<(f64, i32, i32)> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let r = advantage(m, value(results, stack, m.key), value(results, "libdatachannel", m.key))?;
                let x = (r.log2().clamp(LO as f64, HI as f64) * S as f64).round() as i32;
                // Two bars per row, each 30 % of it high.
                let top = (n - i as i32) * S - 15 - j as i32 * 35;
                Some((r, x, top))
            })
            .collect();
        chart
            .draw_series(bars.iter().map(|&(_, x, top)| Rectangle::new([(0, top), (x, top - 30)], colour.filled())))
            .map_err(e)?
            .label(*legend)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], colour.filled()));
        chart
            .draw_series(bars.iter().map(|&(r, x, top)| Text::new(format!("{r:.2}×"), (x.max(0) + 5, top - 2), (FONT, 12))))
            .map_err(e)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .label_font((FONT, 15))
        .background_style(WHITE)
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bars_on_the_side_of_their_ratio_and_text_drawn() {
        // Bulk: the engine 2x better, GDScript 4x worse; nothing else measured.
        let results = json!({
            "engine": {"bulk_mib_s": 120.0},
            "gdscript": {"bulk_mib_s": 15.0},
            "libdatachannel": {"bulk_mib_s": 60.0},
        });
        let (w, h) = (WIDTH as usize, height() as usize);
        let mut rgb = vec![0u8; w * h * 3];
        draw_rgb(results.as_object().unwrap(), &mut rgb).unwrap();
        let at = |x: usize, y: usize| [rgb[(y * w + x) * 3], rgb[(y * w + x) * 3 + 1], rgb[(y * w + x) * 3 + 2]];
        // The columns of a colour in the upper half, where the bulk row is (the legend is at
        // the bottom left).
        let columns = |colour: RGBColor| -> Vec<usize> {
            let c = [colour.0, colour.1, colour.2];
            (0..w).filter(|&x| (0..h / 2).any(|y| at(x, y) == c)).collect()
        };
        let (engine, gdscript) = (columns(SERIES[0].2), columns(SERIES[1].2));
        // The 1x line: where the engine's bar starts.
        let (one_x, engine_end) = (engine[0], *engine.last().unwrap());
        let gdscript_start = gdscript[0];
        assert!(engine_end > one_x + 20, "engine's bar goes right of 1x: {one_x}..{engine_end}");
        assert!(gdscript_start + 20 < one_x, "GDScript's bar goes left of 1x: from {gdscript_start}");
        // Labels: dark pixels left of the plot (the row labels are drawn with the font).
        let dark = (0..h).flat_map(|y| (0..300).map(move |x| (x, y))).filter(|&(x, y)| at(x, y).iter().all(|&v| v < 100)).count();
        assert!(dark > 1000, "row labels drawn ({dark} dark pixels)");
    }
}
