//! citizenhour — a politician's open office hours ("digitale Bürgersprechstunde"), end to end.
//!
//! Module map (dependencies point one way, see `../shared/DESIGN.md`):
//! `domain` ← `config` ← {`storage`, `media`, `intake`, `publish`} ← `web` ← `app` ← `cli`/`demo`.
//! `media` is the only module that touches GStreamer; it never imports `web` or `storage`.

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod intake;
pub mod live;
pub mod mail_intake;
pub mod media;
pub mod publish;
pub mod storage;
pub mod telemetry;
pub mod web;
pub mod worker;
pub mod workflow;
