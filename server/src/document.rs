//! The Czech POINT document as a PDF: the code (also as a QR code), the form to ask for, the
//! recipient, what to bring, the expiry date and the steps, in the page's language. DejaVu
//! Sans is embedded so that Czech prints exactly.

use app::i18n::{format_date, tr, tr_args, Lang};
use printpdf::{
    Color, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions,
    Point, Pt, Rect, Rgb, TextItem,
};

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Breaks `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// One A4 page being written from the top down, in DejaVu Sans.
struct Page {
    doc: PdfDocument,
    regular: printpdf::FontId,
    bold: printpdf::FontId,
    ops: Vec<Op>,
    /// From the bottom of the page, in points.
    y: f32,
    left: Pt,
}

impl Page {
    fn new(title: &str) -> Result<Self, String> {
        let regular = ParsedFont::from_bytes(REGULAR, 0, &mut Vec::new()).ok_or("font")?;
        let bold = ParsedFont::from_bytes(BOLD, 0, &mut Vec::new()).ok_or("font")?;
        let mut doc = PdfDocument::new(title);
        let regular = doc.add_font(&regular);
        let bold = doc.add_font(&bold);
        Ok(Self {
            doc,
            regular,
            bold,
            ops: Vec::new(),
            y: Mm(297.0 - 25.0).into_pt().0,
            left: Mm(20.0).into_pt(),
        })
    }

    fn line(&mut self, s: &str, size: f32, strong: bool) {
        let font = if strong { &self.bold } else { &self.regular };
        self.ops.push(Op::StartTextSection);
        self.ops.push(Op::SetFont {
            font: PdfFontHandle::External(font.clone()),
            size: Pt(size),
        });
        self.ops.push(Op::SetTextCursor {
            pos: Point {
                x: self.left,
                y: Pt(self.y),
            },
        });
        self.ops.push(Op::ShowText {
            items: vec![TextItem::Text(s.to_owned())],
        });
        self.ops.push(Op::EndTextSection);
        self.y -= size * 1.45;
    }

    /// `text` wrapped at `width` characters.
    fn paragraph(&mut self, text: &str, width: usize, size: f32, strong: bool) {
        for line in wrap(text, width) {
            self.line(&line, size, strong);
        }
    }

    fn rect(&mut self, x: f32, y: f32, width: f32, height: f32) {
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(x),
                y: Pt(y),
                width: Pt(width),
                height: Pt(height),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }

    fn black(&mut self) {
        self.ops.push(Op::SetFillColor {
            col: Color::Rgb(Rgb {
                r: 0.0,
                g: 0.0,
                b: 0.0,
                icc_profile: None,
            }),
        });
    }

    /// A label and a line to write on by hand, `tall` points high.
    fn field(&mut self, label: &str, tall: f32) {
        self.line(label, 10.0, false);
        self.y -= tall;
        self.black();
        let width = Mm(170.0).into_pt().0;
        self.rect(self.left.0, self.y, width, 0.6);
        self.y -= 16.0;
    }

    fn finish(mut self) -> Vec<u8> {
        let page = PdfPage::new(Mm(210.0), Mm(297.0), self.ops);
        self.doc
            .with_pages(vec![page])
            .save(&PdfSaveOptions::default(), &mut Vec::new())
    }
}

pub fn office_pdf(lang: Lang, code: &str, expires_at: i64) -> Result<Vec<u8>, String> {
    let mut page = Page::new(&tr(lang, "cp-doc-title"))?;
    page.paragraph(&tr(lang, "cp-doc-title"), 48, 18.0, true);
    page.y -= 8.0;
    for key in ["cp-doc-form", "cp-doc-recipient", "cp-doc-message"] {
        page.paragraph(&tr(lang, key), 80, 11.0, key == "cp-doc-form");
        page.y -= 4.0;
    }
    page.y -= 24.0;
    page.line(code, 28.0, true);
    page.y -= 6.0;

    // the QR code, drawn as squares
    if let Ok(qr) = qrcode::QrCode::new(code.as_bytes()) {
        let width = qr.width();
        let module = Mm(1.6).into_pt().0;
        let top = page.y;
        let left = page.left.0;
        page.black();
        for (i, c) in qr.to_colors().iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (row, col) = (i / width, i % width);
                page.rect(
                    left + col as f32 * module,
                    top - (row as f32 + 1.0) * module,
                    module,
                    module,
                );
            }
        }
        page.y = top - width as f32 * module - 18.0;
    }
    for (key, args) in [
        ("cp-doc-bring", None),
        ("cp-doc-expiry", Some(format_date(lang, expires_at))),
        ("cp-doc-steps", None),
        ("cp-doc-owner-only", None),
    ] {
        let s = match args {
            Some(date) => tr_args(lang, key, &[("date", date.into())]),
            None => tr(lang, key),
        };
        page.paragraph(&s, 85, 11.0, false);
        page.y -= 4.0;
    }
    Ok(page.finish())
}

/// The paper form "Žádost o reset hesla v MojeID" to print, fill in, sign before an official
/// who verifies the signature, and post (in Czech only, as the help page says).
pub fn reset_form_pdf() -> Result<Vec<u8>, String> {
    let lang = Lang::Cs;
    let mut page = Page::new(&tr(lang, "form-title"))?;
    page.paragraph(&tr(lang, "form-title"), 48, 18.0, true);
    page.y -= 6.0;
    page.paragraph(&tr(lang, "form-request"), 88, 10.5, false);
    page.y -= 10.0;
    for key in [
        "form-username",
        "form-name",
        "form-birth-date",
        "form-address",
        "form-email",
        "form-phone",
    ] {
        page.field(&tr(lang, key), 14.0);
    }
    page.y -= 4.0;
    page.field(&tr(lang, "form-place-date"), 14.0);
    page.field(&tr(lang, "form-signature"), 40.0);
    page.paragraph(&tr(lang, "form-instructions"), 88, 10.0, false);
    page.y -= 8.0;
    page.field(&tr(lang, "form-office-use"), 14.0);
    Ok(page.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pdf_holds_the_code_in_czech_and_english() {
        for lang in [Lang::Cs, Lang::En] {
            let pdf = office_pdf(lang, "ABCD-EFGH-JKMN-P", 1_800_000_000).expect("pdf");
            assert!(pdf.starts_with(b"%PDF-"), "a PDF");
            assert!(pdf.len() > 10_000, "fonts embedded");
        }
    }

    #[test]
    #[ignore = "writes target/office-document.pdf and target/reset-form.pdf to look at"]
    fn write_a_sample() {
        let pdf = office_pdf(Lang::Cs, "ABCD-EFGH-JKMN-P", 1_800_000_000).expect("pdf");
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/office-document.pdf"),
            pdf,
        )
        .expect("write");
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/reset-form.pdf"),
            reset_form_pdf().expect("pdf"),
        )
        .expect("write");
    }

    #[test]
    fn the_reset_form_is_a_pdf_with_the_fonts() {
        let pdf = reset_form_pdf().expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.len() > 10_000, "fonts embedded");
    }

    #[test]
    fn long_text_wraps_at_spaces() {
        let lines = wrap("a bb ccc dddd eeeee", 7);
        assert_eq!(lines, vec!["a bb", "ccc", "dddd", "eeeee"]);
    }
}
