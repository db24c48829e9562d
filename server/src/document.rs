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

pub fn office_pdf(lang: Lang, code: &str, expires_at: i64) -> Result<Vec<u8>, String> {
    let regular = ParsedFont::from_bytes(REGULAR, 0, &mut Vec::new()).ok_or("font")?;
    let bold = ParsedFont::from_bytes(BOLD, 0, &mut Vec::new()).ok_or("font")?;
    let mut doc = PdfDocument::new(&tr(lang, "cp-doc-title"));
    let regular = doc.add_font(&regular);
    let bold = doc.add_font(&bold);
    let mut ops = Vec::new();
    // y from the bottom of an A4 page (297 mm), in points
    let mut y = Mm(297.0 - 25.0).into_pt().0;
    let left = Mm(20.0).into_pt();
    let text = |ops: &mut Vec<Op>, s: &str, size: f32, strong: bool, y: &mut f32| {
        ops.push(Op::StartTextSection);
        ops.push(Op::SetFont {
            font: PdfFontHandle::External(if strong {
                bold.clone()
            } else {
                regular.clone()
            }),
            size: Pt(size),
        });
        ops.push(Op::SetTextCursor {
            pos: Point { x: left, y: Pt(*y) },
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(s.to_owned())],
        });
        ops.push(Op::EndTextSection);
        *y -= size * 1.45;
    };
    for line in wrap(&tr(lang, "cp-doc-title"), 48) {
        text(&mut ops, &line, 18.0, true, &mut y);
    }
    y -= 8.0;
    for key in ["cp-doc-form", "cp-doc-recipient", "cp-doc-message"] {
        for line in wrap(&tr(lang, key), 80) {
            text(&mut ops, &line, 11.0, key == "cp-doc-form", &mut y);
        }
        y -= 4.0;
    }
    y -= 24.0;
    text(&mut ops, code, 28.0, true, &mut y);
    y -= 6.0;

    // the QR code, drawn as squares
    if let Ok(qr) = qrcode::QrCode::new(code.as_bytes()) {
        let width = qr.width();
        let module = Mm(1.6).into_pt().0;
        let top = y;
        ops.push(Op::SetFillColor {
            col: Color::Rgb(Rgb {
                r: 0.0,
                g: 0.0,
                b: 0.0,
                icc_profile: None,
            }),
        });
        for (i, c) in qr.to_colors().iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (row, col) = (i / width, i % width);
                ops.push(Op::DrawRectangle {
                    rectangle: Rect {
                        x: Pt(left.0 + col as f32 * module),
                        y: Pt(top - (row as f32 + 1.0) * module),
                        width: Pt(module),
                        height: Pt(module),
                        mode: Some(PaintMode::Fill),
                        winding_order: None,
                    },
                });
            }
        }
        y = top - width as f32 * module - 18.0;
    }
    for (key, args) in [
        ("cp-doc-bring", None),
        ("cp-doc-expiry", Some(format_date(lang, expires_at))),
        ("cp-doc-steps", None),
    ] {
        let s = match args {
            Some(date) => tr_args(lang, key, &[("date", date.into())]),
            None => tr(lang, key),
        };
        for line in wrap(&s, 85) {
            text(&mut ops, &line, 11.0, false, &mut y);
        }
        y -= 4.0;
    }
    let page = PdfPage::new(Mm(210.0), Mm(297.0), ops);
    Ok(doc
        .with_pages(vec![page])
        .save(&PdfSaveOptions::default(), &mut Vec::new()))
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
    #[ignore = "writes target/office-document.pdf to look at"]
    fn write_a_sample() {
        let pdf = office_pdf(Lang::Cs, "ABCD-EFGH-JKMN-P", 1_800_000_000).expect("pdf");
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/office-document.pdf"),
            pdf,
        )
        .expect("write");
    }

    #[test]
    fn long_text_wraps_at_spaces() {
        let lines = wrap("a bb ccc dddd eeeee", 7);
        assert_eq!(lines, vec!["a bb", "ccc", "dddd", "eeeee"]);
    }
}
