//! `LivePhoto`: one ComplyCube live photo, as the REST API described it, its owner and
//! its image.
//!
//! The one thing to know: its fields read memory only (resolved in place by `Shaped`),
//! except `client`'s details and `download`, which go through the request's loaders: one
//! `GET /livePhotos/:id/download` per photo and request, and only when selected.

use std::{sync::Arc, time::SystemTime};

use async_graphql::{Context, Object, ID};

use super::{
    client::Client,
    error::{data, error, upstream_error, FieldResult},
    global_id::{global_id, Kind},
    scalars::DateTime,
};
use crate::{
    auth::Caller,
    code::Code,
    executor::{Boxed, Immediate, Shaped},
    images::{self, Format, ImageUrls},
    loader::Loaders,
    upstream::{self, ClientId, LivePhotoDownload, PhotoId},
};

pub struct LivePhoto(pub(super) Arc<upstream::LivePhoto>);

impl LivePhoto {
    /// The photo `id` names, as the caller may see it: `None` when ComplyCube has no such
    /// photo, and (one answer for both, so that ids of other tenants' photos cannot be
    /// probed) when it belongs to a client outside the caller's scope. A photo that a list
    /// of the same request already brought costs no call.
    pub(super) async fn reach(ctx: &Context<'_>, id: PhotoId) -> FieldResult<Option<Self>> {
        let loaders = data::<Arc<Loaders>>(ctx)?;
        let Some(photo) = loaders.photo(id).await.map_err(|e| upstream_error(&e))? else {
            return Ok(None);
        };
        // The owner is known only now: a scoped caller pays for the lookup that tells.
        if !data::<Caller>(ctx)?.may_read(&photo.client_id) {
            crate::metrics::auth_refused("client_out_of_scope");
            return Ok(None);
        }
        Ok(Some(Self(photo)))
    }

    /// Its global id, for `Node.id`.
    pub(super) async fn node_id(&self, _: &Context<'_>) -> async_graphql::Result<ID> {
        Ok(global_id(Kind::LivePhoto, &self.0.id))
    }
}

/// A live photo: a selfie taken for a liveness check of a client.
#[Object]
impl LivePhoto {
    /// The photo's global id (Relay's Object Identification): opaque, stable, and what
    /// `node(id:)` takes. ComplyCube's own id is `complyCubeId`.
    async fn id(&self) -> ID {
        global_id(Kind::LivePhoto, &self.0.id)
    }

    /// ComplyCube's live photo id, e.g. `5eb1b5f231778a0008d1c3f6`.
    async fn comply_cube_id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// ComplyCube's id of the client the photo belongs to (not a global id).
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

    /// The client the photo belongs to. Null, with an error, when its details cannot be
    /// had: the photo's other fields still answer.
    async fn client(&self, ctx: &Context<'_>) -> FieldResult<Option<Boxed<Shaped<Client>>>> {
        // Every way to a photo checked its client already; this holds if one did not.
        if !data::<Caller>(ctx)?.may_read(&self.0.client_id) {
            crate::metrics::auth_refused("client_out_of_scope");
            return Err(error(
                Code::Forbidden,
                "this token may not read this client",
            ));
        }
        let id = ClientId::parse(&self.0.client_id).map_err(|m| {
            error(
                Code::UpstreamError,
                format!("ComplyCube sent a photo with an unusable client id: {m}"),
            )
        })?;
        Ok(Some(Boxed(Shaped(Client::new(id)))))
    }

    /// A URL of the image that an `<img src>` loads with no `Authorization` header: signed,
    /// for this photo and width only, and expiring (5 minutes by default). Without `width`
    /// the original; with one (64, 128, 256, 512 or 1024) a JPEG that wide, the aspect
    /// kept, never wider than the original. Minting it costs no upstream call: the image
    /// is fetched when the URL is loaded. Prefer it to `download` for pages.
    async fn image_url(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Thumbnail width in pixels: 64, 128, 256, 512 or 1024; the original when left out."
        )]
        width: Option<i32>,
    ) -> FieldResult<String> {
        let width = images::check_width(width).map_err(|m| error(Code::BadUserInput, m))?;
        let urls = data::<ImageUrls>(ctx)?;
        let loaders = data::<Arc<Loaders>>(ctx)?;
        let key = loaders.session().forwarded_key();
        Ok(urls.mint(&self.0.id, width, key, SystemTime::now()))
    }

    /// The image itself, base64 in the answer (`GET /v1/livePhotos/:id/download`), fetched
    /// only when selected and once per request. The images of one answer may weigh
    /// `--max-download-bytes` (default 4 MiB) in all, each `base64Data` and `dataUrl`
    /// counted: past it, a `RESPONSE_TOO_LARGE` error, never a truncated image. For pages,
    /// `imageUrl`.
    async fn download(&self, ctx: &Context<'_>) -> FieldResult<Option<Shaped<LivePhotoImage>>> {
        let id = PhotoId::parse(&self.0.id).map_err(|m| {
            error(
                Code::UpstreamError,
                format!("ComplyCube sent a photo with an unusable id: {m}"),
            )
        })?;
        let loaders = data::<Arc<Loaders>>(ctx)?;
        let image = loaders.download(id).await.map_err(|e| upstream_error(&e))?;
        Ok(Some(Shaped(LivePhotoImage(image))))
    }
}

/// A live photo's image, as ComplyCube's download endpoint returns it.
pub struct LivePhotoImage(Arc<LivePhotoDownload>);

/// A live photo's image: ready for an `<img src>` as `dataUrl`.
#[Object]
impl LivePhotoImage {
    /// The file name ComplyCube gives the image, made safe to save under: letters, digits,
    /// `-` and `_`, and the extension of what the bytes are (`selfie_1588704754226.jpg`).
    async fn file_name(&self) -> String {
        self.safe_file_name()
    }

    /// The image's MIME type as the download reports it, e.g. `image/jpg` (`dataUrl`
    /// goes by the bytes instead).
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }

    /// The image bytes, base64-encoded (standard alphabet, with padding).
    async fn base64_data(&self, ctx: &Context<'_>) -> FieldResult<&str> {
        self.spend(ctx)?;
        Ok(&self.0.data)
    }

    /// `data:<type>;base64,<data>`: a URL that an `<img>` shows directly. The type is what
    /// the bytes are (`image/jpeg` or `image/png` by their first bytes), whatever the
    /// download said; anything else is `application/octet-stream`, so the URL can never
    /// carry HTML, SVG or script.
    async fn data_url(&self, ctx: &Context<'_>) -> FieldResult<String> {
        self.spend(ctx)?;
        Ok(self.safe_data_url())
    }
}

impl LivePhotoImage {
    /// Takes the image from what this request's answer may still hold of images: every
    /// selection of its text puts the whole image in the answer again.
    fn spend(&self, ctx: &Context<'_>) -> FieldResult<()> {
        let text = &self.0.data;
        let padding = text.bytes().rev().take_while(|&b| b == b'=').count();
        let bytes = (text.len() / 4 * 3).saturating_sub(padding);
        data::<Arc<Loaders>>(ctx)?
            .spend_download(bytes)
            .map_err(|limit| {
                error(
                    Code::ResponseTooLarge,
                    format!(
                        "the images one answer holds may weigh {limit} bytes in all \
                     (--max-download-bytes), and this one would pass it: select `imageUrl` \
                     instead, which costs the answer a URL"
                    ),
                )
            })
    }

    fn safe_file_name(&self) -> String {
        let extension = Format::sniff(&self.head()).map_or("bin", Format::extension);
        images::safe_file_name(&self.0.file_name, "", extension)
    }

    fn safe_data_url(&self) -> String {
        let media =
            Format::sniff(&self.head()).map_or("application/octet-stream", Format::media_type);
        format!("data:{media};base64,{}", self.0.data)
    }

    /// The first bytes of the image: enough to tell what it is.
    fn head(&self) -> Vec<u8> {
        use base64::{engine::general_purpose::STANDARD, Engine};
        let prefix = &self.0.data.as_bytes()[..self.0.data.len().min(16)];
        STANDARD.decode(prefix).unwrap_or_default()
    }
}

/// Every field reads the photo ComplyCube listed, except two:
impl Immediate for LivePhoto {
    /// the owner and the image come through loaders: selecting either resolves the photo
    /// concurrently, so every photo's lookups batch together.
    fn waits(field: &str) -> bool {
        matches!(field, "client" | "download")
    }
}

/// Read from the image already fetched.
impl Immediate for LivePhotoImage {}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(content_type: &str, bytes: &[u8], file_name: &str) -> LivePhotoImage {
        use base64::{engine::general_purpose::STANDARD, Engine};
        LivePhotoImage(Arc::new(LivePhotoDownload {
            file_name: file_name.into(),
            content_type: content_type.into(),
            data: STANDARD.encode(bytes),
        }))
    }

    #[test]
    fn data_urls_say_what_the_bytes_are_never_what_the_download_claims() {
        let jpeg = image(
            "images/jpg",
            &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3],
            "selfie_1.jpg",
        );
        let png = image("image/svg+xml", b"\x89PNG\r\n\x1a\n\0\0", "x.svg");
        let svg = image("image/SVG+xml", b"<svg onload=alert(1)>", "a\"b.svg");
        let html = image("image/png", b"<html><script>", "x.png");
        let run = |i: &LivePhotoImage| (i.safe_data_url(), i.safe_file_name());
        let (url, name) = run(&jpeg);
        assert!(url.starts_with("data:image/jpeg;base64,"), "{url}");
        assert_eq!(name, "selfie_1.jpg");
        let (url, name) = run(&png);
        assert!(
            url.starts_with("data:image/png;base64,") && name == "x.png",
            "{url} {name}"
        );
        for other in [&svg, &html] {
            let (url, name) = run(other);
            assert!(
                url.starts_with("data:application/octet-stream;base64,"),
                "{url}"
            );
            assert!(name.ends_with(".bin") && !name.contains('"'), "{name}");
        }
    }
}
