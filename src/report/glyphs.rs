//! Text of PNG charts, laid out glyph by glyph with ab_glyph: each glyph at the pen position
//! plus its own left side bearing, the pen advanced by the glyph's advance and the pair's
//! kerning, in fractional pixels.
//!
//! plotters' own ab_glyph text drops each glyph's side bearing and rounds the pen down per
//! glyph, so letters with a wide bearing (`p`, `h`) drift towards their left neighbour and
//! leave a gap on their right ("ep och"). [`Glyphs`] wraps a pixel backend and draws text
//! itself; everything else goes to the wrapped backend unchanged. The layout box (what plotters
//! uses to place and anchor a label) is the one plotters computes, so charts keep their
//! geometry.

use ab_glyph::{point, Font, FontRef, ScaleFont};
use plotters::backend::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// A pixel backend whose text is drawn by [`draw_label`].
pub(crate) struct Glyphs<'f, DB> {
    inner: DB,
    font: FontRef<'f>,
}

impl<'f, DB> Glyphs<'f, DB> {
    /// Wraps `inner`, drawing its text with `font`.
    pub(crate) fn new(inner: DB, font: FontRef<'f>) -> Self {
        Self { inner, font }
    }
}

/// Coverage of every pixel of `text` at pixel size `size`, as `(x, y, coverage)` relative to
/// the top left of plotters' layout box, whose baseline plotters puts at `size / 2` below the
/// glyphs' vertical centre line (kept, so that labels sit where they sat before).
pub(crate) fn draw_label(
    font: &FontRef<'_>,
    size: f32,
    text: &str,
    mut put: impl FnMut(i32, i32, f32),
) {
    let scaled = font.as_scaled(size);
    let mut pen = 0.0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        prev = Some(id);
        let glyph = id.with_scale_and_position(size, point(pen, 0.0));
        if let Some(outline) = scaled.outline_glyph(glyph) {
            let b = outline.px_bounds();
            let (x0, y0) = (b.min.x as i32, (size / 2.0 + b.min.y) as i32);
            outline.draw(|x, y, cov| put(x0 + x as i32, y0 + y as i32, cov));
        }
        pen += scaled.h_advance(id);
    }
}

impl<DB: DrawingBackend> DrawingBackend for Glyphs<'_, DB> {
    type ErrorType = DB::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.get_size();
        let mut pixels = Vec::new();
        draw_label(&self.font, style.size() as f32, text, |x, y, cov| {
            pixels.push((x, y, cov));
        });
        for (x, y, cov) in pixels {
            let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 && cov > 0.0 {
                let c = BackendColor {
                    alpha: color.alpha * f64::from(cov.min(1.0)),
                    rgb: color.rgb,
                };
                self.inner.draw_pixel((x, y), c)?;
            }
        }
        Ok(())
    }
}
