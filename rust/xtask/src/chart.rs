//! The benchmark chart: for each workload, how many times better (right) or worse (left) than
//! libdatachannel our engine and our GDScript API are, on a log scale. A PNG drawn with `png`
//! and `ab_glyph` (pure Rust); text needs a TrueType font from the system (DejaVu or Liberation),
//! without one the chart is drawn without labels.

use crate::Result;
use crate::bench::{Metric, advantage, metrics};
use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use serde_json::{Map, Value};
use std::path::Path;

const W: usize = 1100;
const ROW: usize = 44;
const LEFT: usize = 380;
const RIGHT: usize = 40;
const TOP: usize = 70;
const FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];
/// Log2 range of the x axis: 1/16 to 64.
const LO: f64 = -4.0;
const HI: f64 = 6.0;

struct Canvas {
    px: Vec<[u8; 3]>,
    h: usize,
    font: Option<FontVec>,
}

impl Canvas {
    fn rect(&mut self, x0: usize, y0: usize, x1: usize, y1: usize, c: [u8; 3]) {
        for y in y0.min(self.h)..y1.min(self.h) {
            for x in x0.min(W)..x1.min(W) {
                self.px[y * W + x] = c;
            }
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, s: &str, c: [u8; 3]) {
        let Some(font) = self.font.as_ref() else { return };
        let scaled = font.as_scaled(PxScale::from(size));
        let mut pen = x;
        let mut draws = Vec::new();
        for ch in s.chars() {
            let id = scaled.glyph_id(ch);
            let glyph = id.with_scale_and_position(PxScale::from(size), ab_glyph::point(pen, y));
            pen += scaled.h_advance(id);
            if let Some(outlined) = font.outline_glyph(glyph) {
                let b = outlined.px_bounds();
                outlined.draw(|gx, gy, cov| draws.push((b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64, cov)));
            }
        }
        for (px, py, cov) in draws {
            if px >= 0 && py >= 0 && (px as usize) < W && (py as usize) < self.h {
                let p = &mut self.px[py as usize * W + px as usize];
                for k in 0..3 {
                    p[k] = (p[k] as f32 * (1.0 - cov) + c[k] as f32 * cov) as u8;
                }
            }
        }
    }
}

fn x_of(log2: f64) -> usize {
    let f = (log2.clamp(LO, HI) - LO) / (HI - LO);
    LEFT + (f * (W - LEFT - RIGHT) as f64) as usize
}

/// Whether a metric gets a row: not the library size (libdatachannel has none here), and of the
/// lossy streams only delivered %, p99 and the longest gap (p50, p95 and max are in the table).
fn charted(m: &Metric) -> bool {
    m.key != "so_mb" && !["_p50_ms", "_p95_ms", "_max_ms", "_out_of_order"].iter().any(|s| m.key.starts_with("lossy_") && m.key.ends_with(s))
}

/// Draws the chart; returns a note if it had to leave the text out.
pub fn draw(results: &Map<String, Value>, path: &Path) -> Result<Option<String>> {
    let metrics: Vec<_> = metrics().filter(|m| charted(m)).collect();
    let h = TOP + metrics.len() * ROW + 60;
    let font = FONTS.iter().find_map(|f| std::fs::read(f).ok()).and_then(|b| FontVec::try_from_vec(b).ok());
    let note = font.is_none().then(|| "no TrueType font found: chart.png has no labels".to_string());
    let mut c = Canvas { px: vec![[255, 255, 255]; W * h], h, font };
    let (blue, orange, grey, black) = ([52, 101, 164], [230, 126, 34], [200, 200, 200], [30, 30, 30]);
    c.text(20.0, 30.0, 22.0, "webrtc-rs for Godot vs libdatachannel: times better (right) or worse (left)", black);
    c.rect(20, 44, 34, 58, blue);
    c.text(40.0, 56.0, 15.0, "engine (Rust API)", black);
    c.rect(220, 44, 234, 58, orange);
    c.text(240.0, 56.0, 15.0, "GDScript API (tight loop)", black);
    for k in (LO as i64)..=(HI as i64) {
        let x = x_of(k as f64);
        c.rect(x, TOP - 6, x + 1, TOP + metrics.len() * ROW, if k == 0 { black } else { grey });
        let label = if k >= 0 { format!("{}×", 1u64 << k) } else { format!("1/{}", 1u64 << -k) };
        c.text(x as f32 - 10.0, (TOP + metrics.len() * ROW + 22) as f32, 14.0, &label, black);
    }
    let value = |stack: &str, key: &str| results.get(stack).and_then(|r| r.get(key)).and_then(Value::as_f64).unwrap_or(f64::NAN);
    for (i, m) in metrics.iter().enumerate() {
        let y = TOP + i * ROW;
        c.text(20.0, (y + 26) as f32, 15.0, m.label, black);
        for (j, (stack, color)) in [("engine", blue), ("gdscript", orange)].iter().enumerate() {
            let Some(r) = advantage(m, value(stack, m.key), value("libdatachannel", m.key)) else { continue };
            let (x0, x1) = (x_of(0.0), x_of(r.log2()));
            let top = y + 8 + j * 15;
            c.rect(x0.min(x1), top, x0.max(x1).max(x0.min(x1) + 2), top + 13, *color);
            c.text((x0.max(x1) + 4) as f32, (top + 12) as f32, 12.0, &format!("{r:.2}×"), black);
        }
    }
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), W as u32, h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    let data: Vec<u8> = c.px.iter().flatten().copied().collect();
    writer.write_image_data(&data).map_err(|e| e.to_string())?;
    Ok(note)
}
