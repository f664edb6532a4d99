//! The sample e-mails parse to clean plain text through the real parser.

use citizenhour::intake::parse_email;
use std::path::Path;

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(name)).unwrap()
}

#[test]
fn a_quoted_printable_mail_loses_its_quote_and_signature_and_routes_by_plus_address() {
    let m = parse_email(&sample("mail-plain.eml"), "buergersprechstunde").unwrap();
    assert_eq!(m.route.as_deref(), Some("demo-buergersprechstunde"));
    assert_eq!(m.from_name.as_deref(), Some("Hans Müller"));
    assert_eq!(m.subject, "Frage zur Straßenbeleuchtung");
    assert!(m.text.contains("Straßenbeleuchtung in der Gartenstraße seit Wochen kaputt"), "{}", m.text);
    assert!(!m.text.contains("Vielen Dank für Ihre Nachricht"), "quote stripped: {}", m.text);
    assert!(!m.text.contains("Gartenstraße 5"), "signature stripped: {}", m.text);
    assert!(m.attachments.is_empty());
    assert_eq!(m.language, "de");
}

#[test]
fn an_html_only_mail_becomes_plain_text_without_markup_or_script() {
    let m = parse_email(&sample("mail-html-only.eml"), "buergersprechstunde").unwrap();
    assert_eq!(m.route.as_deref(), Some("demo-buergersprechstunde"), "routed by subject code");
    assert!(m.text.contains("Wird der Spielplatz im Stadtpark & am Weiher im Frühjahr erneuert?"), "{:?}", m.text);
    for bad in ["<", ">", "alert", "color:red"] {
        assert!(!m.text.contains(bad), "{bad} left in {:?}", m.text);
    }
    let draft = m.to_draft(1500).unwrap();
    assert_eq!(draft.email.as_deref(), Some("aylin@example.org"));
}

#[test]
fn a_latin1_mail_with_an_attachment_is_decoded_and_the_attachment_noted() {
    let m = parse_email(&sample("mail-latin1-attachment.eml"), "buergersprechstunde").unwrap();
    assert_eq!(m.from_name.as_deref(), Some("Jürgen Weiß"));
    assert_eq!(m.subject, "Sitzbänke am Marktplatz");
    assert!(m.text.contains("könnte die Stadt mehr Sitzbänke für ältere Menschen"), "{:?}", m.text);
    assert!(!m.text.contains("PDF"), "attachment content must not leak into the text");
    assert_eq!(m.attachments.len(), 1);
    assert!(m.attachments[0].starts_with("plan.pdf"), "{:?}", m.attachments);
    let draft = m.to_draft(1500).unwrap();
    assert!(draft.intake_note.unwrap().contains("plan.pdf"));
}

#[test]
fn mails_without_usable_text_are_refused_clearly() {
    let raw = b"From: a@example.org\r\nSubject: \r\nContent-Type: text/plain\r\n\r\n \r\n";
    let m = parse_email(raw, "buergersprechstunde").unwrap();
    assert!(m.to_draft(1500).is_err());
    assert!(
        parse_email(b"\x00\x01\x02 garbage", "x").is_err()
            || parse_email(b"\x00\x01\x02 garbage", "x").unwrap().to_draft(10).is_err()
    );
}
