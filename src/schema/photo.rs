//! `LivePhoto`: one ComplyCube live photo, as the REST API described it.
//!
//! The one thing to know: its fields read memory only (resolved in place by `Eager`).

use std::sync::Arc;

use async_graphql::{Object, ID};

use super::{eager::Immediate, scalars::DateTime};
use crate::upstream;

pub struct LivePhoto(pub(super) Arc<upstream::LivePhoto>);

/// A live photo: a selfie taken for a liveness check of a client.
#[Object]
impl LivePhoto {
    /// The live photo id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The id of the client the photo belongs to.
    async fn client_id(&self) -> ID {
        ID(self.0.client_id.clone())
    }

    /// The API path that downloads the image, e.g. `/livePhotos/<id>/download`. It needs
    /// the API key, so fetch it from a backend, not a browser.
    async fn download_link(&self) -> &str {
        &self.0.download_link
    }

    /// The image's MIME type as ComplyCube reports it (its examples say `images/jpg`).
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }

    /// Whether a liveness check was requested for this photo.
    async fn perform_liveness_check(&self) -> bool {
        self.0.perform_liveness_check
    }

    /// The image size in bytes.
    async fn size(&self) -> i32 {
        i32::try_from(self.0.size).unwrap_or(i32::MAX)
    }

    /// When the photo was uploaded.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// When the photo was last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
}

/// Every field reads the photo ComplyCube listed.
impl Immediate for LivePhoto {}
