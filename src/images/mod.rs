//! Images a browser can load: signed URLs ([`urls`]), and what `GET /images/…` serves for
//! one, the original or a thumbnail ([`thumbnail`]), fetched through the one upstream path.
//!
//! The one thing to know: an image costs memory and CPU that a GraphQL answer does not, so
//! both are bounded here: at most [`ImageSettings::concurrency`] images are held at once
//! (from the upstream fetch to the last byte sent; others wait their turn), and thumbnails
//! are made off the async threads, at most [`ImageSettings::thumbnail_concurrency`] at once,
//! within decoding [`thumbnail::Limits`].

pub mod thumbnail;
pub mod urls;

use std::{sync::Arc, time::Duration};

use base64::{engine::general_purpose::STANDARD, Engine};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use thumbnail::{Format, Limits, ThumbnailError};
pub use urls::{Grant, ImageUrlSettings, ImageUrls, Refusal, DEFAULT_IMAGE_URL_TTL, WIDTHS};

use crate::{
    cache::{EntryKey, Kind},
    upstream::{self, PhotoId, Session, Upstream},
};

/// Images held at once, by default: two. A 4 MB photo on its way to a thumbnail holds its
/// text, its bytes and its decoded pixels, 20 to 30 MB at its peak; with four at once the
/// service passed 128 MiB under 16 concurrent requests for 4 MB photos (`cargo bench
/// --bench images`); with two, and PNGs resized in the layout they decode to, it peaked at
/// 118 MiB (2026-12-03). Thumbnails are made one per core anyway.
pub const DEFAULT_CONCURRENCY: usize = 2;

/// How images are served.
#[derive(Clone, Debug)]
pub struct ImageSettings {
    pub urls: ImageUrlSettings,
    /// Images held at once, fetch to last byte sent.
    pub concurrency: usize,
    /// Thumbnails made at once (CPU); by default, one per core.
    pub thumbnail_concurrency: usize,
    pub limits: Limits,
}

impl Default for ImageSettings {
    fn default() -> Self {
        Self {
            urls: ImageUrlSettings::default(),
            concurrency: DEFAULT_CONCURRENCY,
            thumbnail_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            limits: Limits::default(),
        }
    }
}

/// An image ready to send, and the turn it holds until it is sent.
pub struct Served {
    pub bytes: bytes::Bytes,
    /// What it is by its bytes; `None`: not an image (sent as an attachment, never shown).
    pub format: Option<Format>,
    /// ComplyCube's file name for it, as given (the HTTP layer sanitises it).
    pub file_name: String,
    /// Held until the body is sent, so that at most so many images are held at once.
    pub turn: Option<OwnedSemaphorePermit>,
}

/// Why an image cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// ComplyCube could not give it (its error, as the upstream client said it).
    #[error(transparent)]
    Upstream(#[from] upstream::Error),
    /// It is not an image a thumbnail can be made of, or too large to decode.
    #[error(transparent)]
    Unprocessable(#[from] ThumbnailError),
    /// The service is shutting down.
    #[error("the service is shutting down")]
    Closing,
}

/// The process's image service. Cheap to clone.
#[derive(Clone)]
pub struct Images(Arc<Inner>);

struct Inner {
    urls: ImageUrls,
    upstream: Upstream,
    turns: Arc<Semaphore>,
    cpu: Arc<Semaphore>,
    limits: Limits,
}

impl Images {
    pub fn new(settings: &ImageSettings, urls: ImageUrls, upstream: Upstream) -> Self {
        Self(Arc::new(Inner {
            urls,
            upstream,
            turns: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            cpu: Arc::new(Semaphore::new(settings.thumbnail_concurrency.max(1))),
            limits: settings.limits,
        }))
    }

    pub fn urls(&self) -> &ImageUrls {
        &self.0.urls
    }

    /// The image `grant` names, fetched with `session` (its deadline, request id and, in
    /// forwarding mode, the caller's key), through the cache when there is one.
    pub async fn fetch(&self, grant: &Grant, session: &Session) -> Result<Served, ImageError> {
        let turn = self
            .0
            .turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ImageError::Closing)?;
        let upstream = &self.0.upstream;
        let photo = PhotoId::parse(&grant.photo)
            .map_err(|m| upstream::Error::InvalidResponse(format!("a signed URL names {m}")))?;
        let width = grant
            .width
            .map_or_else(|| "original".to_owned(), |w| w.to_string());
        let cache = upstream.cache().map(|cache| {
            let key_id = upstream.key_id(session);
            let entry = EntryKey::new(
                key_id,
                Kind::Image,
                &[photo.as_str().as_bytes(), width.as_bytes()],
            );
            (cache, entry, upstream.seal_key(session))
        });
        if let Some((cache, entry, seal)) = &cache {
            if let Some((file_name, bytes)) =
                cache.get_bytes(*entry, seal).await.and_then(|e| unpack(&e))
            {
                return Ok(self.served(bytes, grant, file_name, turn));
            }
        }
        let download = upstream.download_live_photo(&photo, session).await?;
        let file_name = download.file_name;
        let original = STANDARD.decode(download.data.as_bytes()).map_err(|e| {
            upstream::Error::InvalidResponse(format!("the image data is not base64: {e}"))
        })?;
        // The text is a third larger than the image: let it go before waiting for a core.
        drop(download.data);
        let bytes = match grant.width {
            None => original,
            Some(width) => {
                let cpu = self
                    .0
                    .cpu
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| ImageError::Closing)?;
                let limits = self.0.limits;
                let made = tokio::task::spawn_blocking(move || {
                    let _cpu = cpu;
                    thumbnail::thumbnail(&original, width, limits)
                })
                .await
                .unwrap_or_else(|_| {
                    Err(ThumbnailError::Unreadable(
                        "the decoder failed on it".into(),
                    ))
                });
                made?
            }
        };
        if let Some((cache, entry, seal)) = &cache {
            cache
                .put_bytes(*entry, seal, pack(&file_name, &bytes))
                .await;
        }
        Ok(self.served(bytes.into(), grant, file_name, turn))
    }

    fn served(
        &self,
        bytes: bytes::Bytes,
        grant: &Grant,
        file_name: String,
        turn: OwnedSemaphorePermit,
    ) -> Served {
        let format = Format::sniff(&bytes);
        // A thumbnail is always a JPEG of ours; an original is what its bytes say.
        let format = match grant.width {
            Some(_) => Some(Format::Jpeg),
            None => format,
        };
        Served {
            bytes,
            format,
            file_name,
            turn: Some(turn),
        }
    }
}

/// A cache entry of an image: its file name (at most 255 bytes) before its bytes.
fn pack(file_name: &str, bytes: &[u8]) -> Arc<[u8]> {
    let name = &file_name.as_bytes()[..file_name.len().min(255)];
    let mut entry = Vec::with_capacity(1 + name.len() + bytes.len());
    entry.push(name.len() as u8);
    entry.extend_from_slice(name);
    entry.extend_from_slice(bytes);
    entry.into()
}

fn unpack(entry: &[u8]) -> Option<(String, bytes::Bytes)> {
    let (&len, rest) = entry.split_first()?;
    let name = rest.get(..usize::from(len))?;
    let bytes = rest.get(usize::from(len)..)?;
    Some((
        String::from_utf8_lossy(name).into_owned(),
        bytes::Bytes::copy_from_slice(bytes),
    ))
}

/// A file name fit for a header or a download: ComplyCube's, reduced to letters, digits,
/// `-` and `_` (at most 90 of them; `live_photo` when nothing is left), then `suffix` and
/// `.extension` (what is served, not what the name said).
pub fn safe_file_name(given: &str, suffix: &str, extension: &str) -> String {
    let stem = given.rsplit_once('.').map_or(given, |(stem, _)| stem);
    let mut clean: String = stem
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
            _ => '_',
        })
        .take(90)
        .collect();
    if clean.trim_matches('_').is_empty() {
        clean = "live_photo".to_owned();
    }
    format!("{clean}{suffix}.{extension}")
}

/// A `width` argument as `imageUrl` takes it: `None` or one of [`WIDTHS`].
pub fn check_width(width: Option<i32>) -> Result<Option<u32>, String> {
    match width {
        None => Ok(None),
        Some(w) if w > 0 && WIDTHS.contains(&(w as u32)) => Ok(Some(w as u32)),
        Some(w) => Err(format!(
            "`width` must be one of {} (or left out for the original), not {w}",
            WIDTHS.map(|w| w.to_string()).join(", ")
        )),
    }
}

/// How long an image request may take, upstream fetch and thumbnail included.
pub const IMAGE_TIMEOUT: Duration = Duration::from_secs(15);
