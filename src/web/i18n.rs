//! German first, English second: the language from `?lang=`, else `Accept-Language`, else German.

use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    De,
    En,
}

impl Lang {
    pub fn from_request(query_lang: Option<&str>, headers: &HeaderMap) -> Lang {
        match query_lang {
            Some("en") => return Lang::En,
            Some("de") => return Lang::De,
            _ => {}
        }
        let accept = headers.get("accept-language").and_then(|v| v.to_str().ok()).unwrap_or("");
        // The first listed language wins; anything but English falls back to German.
        match accept.split(',').next().map(|l| l.trim().to_ascii_lowercase()) {
            Some(l) if l.starts_with("en") => Lang::En,
            _ => Lang::De,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::De => &DE,
            Lang::En => &EN,
        }
    }
}

/// UI strings used by the templates.
pub struct Texts {
    pub skip: &'static str,
    pub sessions: &'static str,
    pub no_sessions: &'static str,
    pub ask_heading: &'static str,
    pub question_label: &'static str,
    pub question_hint: &'static str,
    pub name_label: &'static str,
    pub email_label: &'static str,
    pub email_hint: &'static str,
    pub show_name_label: &'static str,
    pub consent_label: &'static str,
    pub privacy: &'static str,
    pub submit: &'static str,
    pub intake_closed: &'static str,
    pub thanks: &'static str,
    pub thanks_text: &'static str,
    pub recording: &'static str,
    pub watch_recording: &'static str,
    pub chapters: &'static str,
    pub download_mp4: &'static str,
    pub preliminary_recording: &'static str,
    pub download_audio: &'static str,
    pub no_recording: &'static str,
    pub errors_heading: &'static str,
    pub other_lang: &'static str,
    pub other_lang_code: &'static str,
    pub with: &'static str,
    pub state: &'static str,
    pub required: &'static str,
}

pub static DE: Texts = Texts {
    skip: "Zum Inhalt springen",
    sessions: "Bürgersprechstunden",
    no_sessions: "Noch keine Sprechstunden geplant.",
    ask_heading: "Ihre Frage",
    question_label: "Frage",
    question_hint: "Höchstens 1.500 Zeichen.",
    name_label: "Name oder Pseudonym (freiwillig)",
    email_label: "E-Mail (freiwillig, nur für die Benachrichtigung zur Antwort)",
    email_hint: "Wir schreiben Ihnen einmal, wenn Ihre Frage beantwortet wurde.",
    show_name_label: "Meinen Namen in der Sendung einblenden",
    consent_label: "Ich willige in die Verarbeitung meiner Angaben für diese Sprechstunde ein.",
    privacy: "Datenschutzhinweise",
    submit: "Frage absenden",
    intake_closed: "Für diese Sprechstunde werden keine Fragen mehr angenommen.",
    thanks: "Vielen Dank!",
    thanks_text: "Ihre Frage ist eingegangen und wird vor der Sendung von der Redaktion geprüft.",
    recording: "Aufzeichnung",
    watch_recording: "Aufzeichnung ansehen",
    chapters: "Kapitel – eine pro beantworteter Frage",
    download_mp4: "Als MP4 herunterladen",
    download_audio: "Nur den Ton herunterladen (M4A, z. B. als Podcast)",
    preliminary_recording: "Vorläufige Aufzeichnung direkt aus der Sendung – die bearbeitete Fassung mit Download folgt in Kürze.",
    no_recording: "Die Aufzeichnung ist noch nicht veröffentlicht.",
    errors_heading: "Bitte prüfen Sie Ihre Eingaben",
    other_lang: "English",
    other_lang_code: "en",
    with: "mit",
    state: "Status",
    required: "Pflichtfeld",
};

pub static EN: Texts = Texts {
    skip: "Skip to content",
    sessions: "Citizen hours",
    no_sessions: "No citizen hours scheduled yet.",
    ask_heading: "Your question",
    question_label: "Question",
    question_hint: "At most 1,500 characters.",
    name_label: "Name or pseudonym (optional)",
    email_label: "E-mail (optional, only to tell you about the answer)",
    email_hint: "We write to you once, when your question has been answered.",
    show_name_label: "Show my name on screen",
    consent_label: "I consent to my details being processed for this citizen hour.",
    privacy: "Privacy notice",
    submit: "Send question",
    intake_closed: "This citizen hour no longer takes questions.",
    thanks: "Thank you!",
    thanks_text: "Your question has arrived; the editorial team reviews it before the broadcast.",
    recording: "Recording",
    watch_recording: "Watch the recording",
    chapters: "Chapters – one per answered question",
    download_mp4: "Download as MP4",
    download_audio: "Download the sound only (M4A, e.g. as a podcast)",
    preliminary_recording: "Preliminary recording straight from the broadcast – the edited version with a download follows shortly.",
    no_recording: "The recording has not been published yet.",
    errors_heading: "Please check your input",
    other_lang: "Deutsch",
    other_lang_code: "de",
    with: "with",
    state: "State",
    required: "required",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_comes_from_query_then_header_then_german() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_request(None, &h), Lang::De);
        h.insert("accept-language", "en-GB,en;q=0.9,de;q=0.8".parse().unwrap());
        assert_eq!(Lang::from_request(None, &h), Lang::En);
        assert_eq!(Lang::from_request(Some("de"), &h), Lang::De);
        h.insert("accept-language", "fr-FR".parse().unwrap());
        assert_eq!(Lang::from_request(None, &h), Lang::De);
    }
}
