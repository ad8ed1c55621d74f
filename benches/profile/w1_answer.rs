//! W1's `data`, written by hand as it is resolved, byte for byte what the service answers:
//! the least an execution core written for W1 alone spends on its answer. Shared by
//! `examples/floor.rs` (`--answer`, no GraphQL engine around it) and
//! `benches/profile/ideal_core.rs` (the real service around it); not part of the product.

use std::borrow::Borrow;

use complycube_graphql::{
    pagination::{cursor, window, Scope, Window},
    schema::{global_id, NodeKind},
    upstream::{format_instant, LivePhoto, LivePhotoFilter},
};

/// Appends W1's `data` to `out`: the client `client`'s `items`, at positions from `start`,
/// of a list of `total` (unfiltered). `None` only if a string does not serialise.
pub fn write_w1_data<P: Borrow<LivePhoto>>(
    out: &mut Vec<u8>,
    client: &str,
    start: u64,
    total: u64,
    items: &[P],
) -> Option<()> {
    let scope = Scope::of(&[
        client.as_bytes(),
        &LivePhotoFilter::default().fingerprint_bytes(),
    ]);
    let cursor_at = |at: usize| {
        let photo = items[at].borrow();
        let position = u32::try_from(start + at as u64).unwrap_or(u32::MAX);
        cursor::encode(
            position,
            scope,
            &photo.id,
            photo.created_at.timestamp_millis(),
        )
    };
    let string = |out: &mut Vec<u8>, text: &str| sonic_rs::to_writer(&mut *out, text).ok();
    let boolean = |out: &mut Vec<u8>, value: bool| {
        out.extend_from_slice(if value { b"true" } else { b"false" })
    };
    let (previous, next) =
        window::page_flags(Window::new(start, start + items.len() as u64), total);
    out.extend_from_slice(br#"{"client":{"livePhotos":{"totalCount":"#);
    out.extend_from_slice(total.to_string().as_bytes());
    out.extend_from_slice(br#","pageInfo":{"hasPreviousPage":"#);
    boolean(out, previous);
    out.extend_from_slice(br#","hasNextPage":"#);
    boolean(out, next);
    out.extend_from_slice(br#","startCursor":"#);
    match items.len() {
        0 => out.extend_from_slice(br#"null,"endCursor":null"#),
        n => {
            string(out, &cursor_at(0))?;
            out.extend_from_slice(br#","endCursor":"#);
            string(out, &cursor_at(n - 1))?;
        }
    }
    out.extend_from_slice(br#"},"edges":["#);
    for (at, photo) in items.iter().enumerate() {
        let photo = photo.borrow();
        if at > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"cursor":"#);
        string(out, &cursor_at(at))?;
        out.extend_from_slice(br#","node":{"id":"#);
        string(out, &global_id(NodeKind::LivePhoto, &photo.id))?;
        out.extend_from_slice(br#","clientId":"#);
        string(out, &photo.client_id)?;
        out.extend_from_slice(br#","downloadLink":"#);
        string(out, &photo.download_link)?;
        out.extend_from_slice(br#","contentType":"#);
        string(out, &photo.content_type)?;
        out.extend_from_slice(br#","performLivenessCheck":"#);
        boolean(out, photo.perform_liveness_check);
        out.extend_from_slice(br#","size":"#);
        out.extend_from_slice(photo.size.to_string().as_bytes());
        out.extend_from_slice(br#","createdAt":"#);
        string(out, &format_instant(&photo.created_at))?;
        out.extend_from_slice(br#","updatedAt":"#);
        string(out, &format_instant(&photo.updated_at))?;
        out.extend_from_slice(b"}}");
    }
    out.extend_from_slice(b"]}}}");
    Some(())
}
