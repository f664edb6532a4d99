//! Data protection: the worker erases askers' names and e-mail addresses N days after publishing (supporters
//! too) and deletes rejected questions after M days; nothing else is touched; it is audited and idempotent.

mod support;

use citizenhour::config::Config;
use citizenhour::domain::{QuestionDraft, QuestionOrigin, QuestionStatus, QuestionText, SessionId};
use citizenhour::storage::{Db, RetentionReport};
use citizenhour::worker::Worker;
use std::sync::Arc;

fn draft(text: &str, email: &str) -> QuestionDraft {
    QuestionDraft {
        text: QuestionText::parse(text, 1500).unwrap(),
        author_name: Some("Erika Muster".into()),
        email: Some(email.into()),
        show_name: true,
        origin: QuestionOrigin::Web,
        language: None,
        intake_note: None,
    }
}

async fn backdate(db: &Db, sql: &str, days: i64, id: i64) {
    let t = (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    sqlx::query(sql).bind(t).bind(id).execute(db.pool()).await.unwrap();
}

async fn published(db: &Db, slug: &str, days_ago: i64) -> SessionId {
    let id = db.create_session(&support::new_session(slug, None)).await.unwrap().id;
    db.upsert_publication(id, "local", &serde_json::json!({"slug": slug})).await.unwrap();
    backdate(db, "UPDATE publications SET created_at = ? WHERE session_id = ?", days_ago, id.0).await;
    id
}

#[tokio::test]
async fn personal_data_and_rejected_questions_are_deleted_after_their_retention_periods() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.storage.data_dir = dir.path().join("data");
    std::fs::create_dir_all(&config.storage.data_dir).unwrap();
    config.privacy.delete_personal_data_after_days = 30;
    config.privacy.delete_rejected_after_days = 14;
    let db = Db::connect(&config.database_url()).await.unwrap();

    let old = published(&db, "alt", 40).await;
    let recent = published(&db, "neu", 1).await;
    let unpublished = db.create_session(&support::new_session("offen", None)).await.unwrap().id;
    let q_old = db.add_question(old, &draft("Alte Frage?", "a@example.org")).await.unwrap();
    // A second asker of the same question: a supporter with contact data.
    let (_, token) = db.add_or_support_question(old, &draft("alte frage", "b@example.org")).await.unwrap();
    assert!(token.is_none(), "merged as a supporter");
    let q_recent = db.add_question(recent, &draft("Neue Frage?", "c@example.org")).await.unwrap();
    let q_open = db.add_question(unpublished, &draft("Offene Frage?", "d@example.org")).await.unwrap();
    let rejected_old = db.add_question(unpublished, &draft("Spam alt", "e@example.org")).await.unwrap();
    let rejected_new = db.add_question(unpublished, &draft("Spam neu", "f@example.org")).await.unwrap();
    for q in [&rejected_old, &rejected_new] {
        db.set_question_status(q.id, QuestionStatus::Rejected).await.unwrap();
    }
    backdate(&db, "UPDATE questions SET created_at = ? WHERE id = ?", 20, rejected_old.id.0).await;
    backdate(&db, "UPDATE questions SET created_at = ? WHERE id = ?", 60, q_open.id.0).await;

    let w = Worker::start(db.clone(), Arc::new(config.clone())).await.unwrap();
    let report = w.enforce_retention().await.unwrap();
    assert_eq!(report, RetentionReport { erased: 2, deleted: 1 }, "the old question and its supporter; one spam");
    let q = db.question(q_old.id).await.unwrap();
    assert_eq!((q.author_name, q.email, q.show_name), (None, None, false));
    assert_eq!(q.text.as_str(), "Alte Frage?", "the text stays (it is a chapter)");
    let supporters: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT author_name, email FROM question_supporters").fetch_all(db.pool()).await.unwrap();
    assert_eq!(supporters, vec![(None, None)]);
    assert_eq!(db.question(q_recent.id).await.unwrap().email.as_deref(), Some("c@example.org"), "published yesterday");
    assert_eq!(db.question(q_open.id).await.unwrap().email.as_deref(), Some("d@example.org"), "not published");
    assert!(db.question(rejected_old.id).await.is_err(), "old rejected question deleted");
    assert!(db.question(rejected_new.id).await.is_ok(), "recent rejection kept");

    // Idempotent, and audited once.
    assert_eq!(w.enforce_retention().await.unwrap(), RetentionReport::default());
    let log = db.audit_log(10).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "retention").count(), 1);
    assert_eq!(log[0].detail, "2 erased, 1 rejected deleted");

    // 0 switches a rule off.
    let mut keep = config.clone();
    keep.privacy.delete_rejected_after_days = 0;
    keep.privacy.delete_personal_data_after_days = 0;
    backdate(&db, "UPDATE questions SET created_at = ? WHERE id = ?", 100, rejected_new.id.0).await;
    let w = Worker::start(db.clone(), Arc::new(keep)).await.unwrap();
    assert_eq!(w.enforce_retention().await.unwrap(), RetentionReport::default());
    assert!(db.question(rejected_new.id).await.is_ok());
}
