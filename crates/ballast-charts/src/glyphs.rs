//! Text for the bitmap backend, drawn with `ab_glyph` from the font embedded in this crate.
//!
//! [`GlyphBackend`] wraps plotters' `BitMapBackend`, passing every shape through and drawing
//! text itself: each glyph at its pen position plus its side bearing, with the font's kerning,
//! on a baseline placed from the font's ascent, so anchors (left/centre/right, top/centre/bottom)
//! land where asked and rotated text (the y-axis name) is laid out the same way. plotters' own
//! `ab_glyph` text ignores side bearings, which spaces letters unevenly ("le verage"), and needs
//! its global font registry; neither is used here.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, OutlinedGlyph, PxScale, ScaleFont};
use plotters::prelude::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

const FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// The embedded font, parsed once per process.
pub(crate) fn font() -> Result<&'static FontRef<'static>, String> {
    static FONT: OnceLock<Result<FontRef<'static>, String>> = OnceLock::new();
    FONT.get_or_init(|| {
        FontRef::try_from_slice(FONT_BYTES)
            .map_err(|e| format!("the embedded font DejaVuSans.ttf could not be parsed: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// A line of text laid out at the origin: the box is `width` × `height`, the baseline at the
/// font's ascent below its top.
struct Line {
    glyphs: Vec<OutlinedGlyph>,
    width: f32,
    height: f32,
}

fn lay_out(font: &FontRef<'static>, size: f64, text: &str) -> Line {
    let scale = PxScale::from(size as f32);
    let scaled = font.as_scaled(scale);
    let ascent = scaled.ascent();
    let mut pen = 0f32;
    let mut prev = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        if let Some(outlined) = font.outline_glyph(id.with_scale_and_position(scale, point(pen, ascent))) {
            glyphs.push(outlined);
        }
        pen += scaled.h_advance(id);
        prev = Some(id);
    }
    Line { glyphs, width: pen, height: ascent - scaled.descent() }
}

/// plotters' bitmap backend with text drawn by [`lay_out`].
pub(crate) struct GlyphBackend<'a> {
    inner: BitMapBackend<'a>,
    font: &'static FontRef<'static>,
}

impl<'a> GlyphBackend<'a> {
    pub(crate) fn with_buffer(buf: &'a mut [u8], size: (u32, u32)) -> Result<Self, String> {
        Ok(GlyphBackend { inner: BitMapBackend::with_buffer(buf, size), font: font()? })
    }
}

impl DrawingBackend for GlyphBackend<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

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

    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha <= 0.0 || text.is_empty() {
            return Ok(());
        }
        let line = lay_out(self.font, style.size(), text);
        let (w, h) = (line.width.round() as i32, line.height.round() as i32);
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0,
            HPos::Center => -w / 2,
            HPos::Right => -w,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0,
            VPos::Center => -h / 2,
            VPos::Bottom => -h,
        };
        let transform = style.transform();
        let mut result = Ok(());
        for glyph in &line.glyphs {
            let bounds = glyph.px_bounds();
            let (gx, gy) = (bounds.min.x as i32 + dx, bounds.min.y as i32 + dy);
            glyph.draw(|x, y, coverage| {
                if coverage <= 0.0 || result.is_err() {
                    return;
                }
                let (tx, ty) = transform.transform(gx + x as i32, gy + y as i32);
                let alpha = color.alpha * f64::from(coverage.min(1.0));
                result =
                    self.inner.draw_pixel((pos.0 + tx, pos.1 + ty), BackendColor { alpha, rgb: color.rgb });
            });
        }
        result
    }

    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let line = lay_out(self.font, style.size(), text);
        Ok((line.width.ceil() as u32, line.height.ceil() as u32))
    }
}
