//! The Relay connection of a client's live photos: edges, nodes, `pageInfo`.
//!
//! The one thing to know: everything is built from positions in the whole list (the
//! loader's [`Slice`]), so cursors and both `pageInfo` flags are exact.

use std::sync::Arc;

use async_graphql::Object;

use super::photo::LivePhoto;
use crate::{
    executor::{Immediate, Shaped},
    loader::Slice,
    pagination::{cursor, window, Scope},
    upstream,
};

pub struct LivePhotoConnection {
    pub(super) slice: Slice,
    pub(super) scope: Scope,
}

impl LivePhotoConnection {
    /// The cursor of the item at `position`, anchored on that item.
    fn cursor(&self, position: u64, item: &upstream::LivePhoto) -> String {
        cursor::encode(
            u32::try_from(position).unwrap_or(u32::MAX),
            self.scope,
            &item.id,
            item.created_at.timestamp_millis(),
        )
    }
}

/// A page of a client's live photos.
#[Object]
impl LivePhotoConnection {
    /// The photos of this page, each with its cursor.
    async fn edges(&self) -> Vec<Shaped<LivePhotoEdge<'_>>> {
        (self.slice.window.start..)
            .zip(&self.slice.items)
            .map(|(position, node)| {
                Shaped(LivePhotoEdge {
                    connection: self,
                    position,
                    node,
                })
            })
            .collect()
    }

    /// The photos of this page, without cursors.
    async fn nodes(&self) -> Vec<Shaped<LivePhoto>> {
        self.slice
            .items
            .iter()
            .map(|photo| Shaped(LivePhoto(photo.clone())))
            .collect()
    }

    /// Where this page lies in the whole list.
    async fn page_info(&self) -> Shaped<PageInfo> {
        let window = self.slice.window;
        let (has_previous_page, has_next_page) = window::page_flags(window, self.slice.total);
        let items = &self.slice.items;
        let (start_cursor, end_cursor) = match (items.first(), items.last()) {
            (Some(first), Some(last)) => (
                Some(self.cursor(window.start, first)),
                Some(self.cursor(window.end - 1, last)),
            ),
            _ => (None, None),
        };
        Shaped(PageInfo {
            has_previous_page,
            has_next_page,
            start_cursor,
            end_cursor,
        })
    }

    /// How many photos the whole list holds under the filter (ComplyCube's `totalItems`).
    async fn total_count(&self) -> i32 {
        i32::try_from(self.slice.total).unwrap_or(i32::MAX)
    }
}

/// Built from the loaded page: nothing to wait for.
impl Immediate for LivePhotoConnection {}

pub struct LivePhotoEdge<'a> {
    connection: &'a LivePhotoConnection,
    position: u64,
    node: &'a Arc<upstream::LivePhoto>,
}

/// A live photo and its position in the list.
#[Object]
impl LivePhotoEdge<'_> {
    /// An opaque cursor for this photo's position, for `after` or `before`. Valid only with
    /// the same client and filter.
    async fn cursor(&self) -> String {
        self.connection.cursor(self.position, self.node)
    }

    /// The live photo.
    async fn node(&self) -> Shaped<LivePhoto> {
        Shaped(LivePhoto(self.node.clone()))
    }
}

impl Immediate for LivePhotoEdge<'_> {}

/// Where a page lies in the whole list. Both flags are exact in either direction.
#[derive(async_graphql::SimpleObject)]
pub struct PageInfo {
    /// Whether the list holds photos before this page.
    has_previous_page: bool,
    /// Whether the list holds photos after this page.
    has_next_page: bool,
    /// The cursor of the first photo of this page; null when the page is empty.
    start_cursor: Option<String>,
    /// The cursor of the last photo of this page; null when the page is empty.
    end_cursor: Option<String>,
}

impl Immediate for PageInfo {}
