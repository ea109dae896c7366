//! `POST /api/report` and `GET /api/room`.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use pushlab::room::{MAX_REPORT_BYTES, ParticipantReport, RoomResponse};

use super::Refused;
use crate::AppState;
use crate::body::Capped;
use crate::error::ApiError;

pub async fn report(
    State(app): State<AppState>,
    Capped(report): Capped<ParticipantReport, MAX_REPORT_BYTES>,
) -> Result<StatusCode, ApiError> {
    report.check().map_err(ApiError::OutOfRange)?;
    app.room.report(report, Instant::now()).map_err(|refused| match refused {
        Refused::TooSoon => ApiError::ReportTooSoon,
        Refused::Full => ApiError::RoomFull,
    })?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn room(State(app): State<AppState>) -> Json<RoomResponse> {
    let (participants, transports) = app.room.figures(Instant::now());
    Json(RoomResponse { participants, join_urls: app.room.join_urls.clone(), transports })
}
