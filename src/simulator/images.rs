//! The images `GET /v1/livePhotos/:id/download` serves: small real pictures generated from
//! each photo's id (an identicon on a gradient, 96x96 pixels), so different photos look
//! different in a browser.
//!
//! The one thing to know: [`image_of`] is a pure function of the photo (its id, its
//! `contentType` and its `createdAt`), so tests compute exactly what the simulator served.
//! The generated image is a few kilobytes, whatever the photo's listed `size` says.

use sha2::{Digest, Sha256};

use crate::upstream::LivePhoto;

/// Width and height of every generated image, in pixels.
pub const SIDE: u32 = 96;

/// The identicon: `GRID` x `GRID` cells of `CELL` pixels, inside a margin of `MARGIN`.
const GRID: u32 = 5;
const CELL: u32 = 16;
const MARGIN: u32 = (SIDE - GRID * CELL) / 2;

/// One downloadable image: the fields of ComplyCube's download answer, bytes not encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// `selfie_<createdAt in ms>.png` or `.jpg`.
    pub file_name: String,
    /// `image/png` or `image/jpg` (ComplyCube's spelling).
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The image the simulator serves for `photo`: a PNG when its `contentType` mentions
/// "png", else a JPEG.
pub fn image_of(photo: &LivePhoto) -> Image {
    let pixels = pixels(&photo.id);
    let millis = photo.created_at.timestamp_millis();
    if photo.content_type.to_ascii_lowercase().contains("png") {
        Image {
            file_name: format!("selfie_{millis}.png"),
            content_type: "image/png",
            bytes: encode_png(&pixels),
        }
    } else {
        Image {
            file_name: format!("selfie_{millis}.jpg"),
            content_type: "image/jpg",
            bytes: encode_jpeg(&pixels),
        }
    }
}

/// The RGB pixels (row by row, 3 bytes each) generated for `id`.
pub fn pixels(id: &str) -> Vec<u8> {
    let hash = Sha256::digest(id.as_bytes());
    let background = hsv(u32::from(hash[0]) * 360 / 256, 0.35, 0.95);
    // At least a quarter turn away from the background's hue, so the pattern shows.
    let hue = u32::from(hash[0]) * 360 / 256 + 90 + u32::from(hash[1]) * 180 / 256;
    let foreground = hsv(hue % 360, 0.75, 0.6);
    // Which cells of the left half (and middle column) are set; mirrored to the right.
    let bits = u32::from_le_bytes([hash[2], hash[3], hash[4], hash[5]]);
    let set = |column: u32, row: u32| {
        let column = column.min(GRID - 1 - column);
        bits >> (row * GRID.div_ceil(2) + column) & 1 == 1
    };
    let mut out = Vec::with_capacity((SIDE * SIDE * 3) as usize);
    for y in 0..SIDE {
        // A soft vertical gradient, darker towards the bottom.
        let shade = 1.0 - 0.25 * y as f32 / SIDE as f32;
        for x in 0..SIDE {
            let inside =
                (MARGIN..SIDE - MARGIN).contains(&x) && (MARGIN..SIDE - MARGIN).contains(&y);
            let colour = if inside && set((x - MARGIN) / CELL, (y - MARGIN) / CELL) {
                foreground
            } else {
                background.map(|c| (f32::from(c) * shade) as u8)
            };
            out.extend_from_slice(&colour);
        }
    }
    out
}

/// HSV (hue in degrees, saturation and value 0 to 1) to RGB.
fn hsv(hue: u32, saturation: f32, value: f32) -> [u8; 3] {
    let c = value * saturation;
    let h = (hue % 360) as f32 / 60.0;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match hue % 360 / 60 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = value - c;
    [r, g, b].map(|v| ((v + m) * 255.0).round() as u8)
}

// Encoding a buffer of exactly SIDE x SIDE RGB pixels into memory cannot fail: the errors
// both encoders have are about wrong buffer sizes and failing writers.

fn encode_png(pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, SIDE, SIDE);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let written = encoder.write_header().and_then(|mut writer| {
        writer
            .write_image_data(pixels)
            .and_then(|()| writer.finish())
    });
    written.expect("a fixed-size RGB image encodes as PNG");
    out
}

fn encode_jpeg(pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(
            pixels,
            SIDE as u16,
            SIDE as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("a fixed-size RGB image encodes as JPEG");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::data;

    fn photo(id: &str, content_type: &str) -> LivePhoto {
        let mut photo = data::demo_photos()[data::DOCUMENTED_CLIENT][0].clone();
        photo.id = id.to_owned();
        photo.content_type = content_type.to_owned();
        photo
    }

    #[test]
    fn png_photos_get_a_png_that_decodes_to_the_generated_pixels() {
        let image = image_of(&photo("5f1e0a3c31778a0008000004", "image/png"));
        assert_eq!(image.content_type, "image/png");
        assert_eq!(image.file_name, "selfie_1577887604756.png");
        let decoder = png::Decoder::new(std::io::Cursor::new(&image.bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buffer).unwrap();
        assert_eq!((info.width, info.height), (SIDE, SIDE));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(
            &buffer[..info.buffer_size()],
            &pixels("5f1e0a3c31778a0008000004")[..]
        );
    }

    #[test]
    fn other_photos_get_a_jpeg() {
        let image = image_of(&photo(data::DOCUMENTED_PHOTO, "images/jpg"));
        assert_eq!(image.content_type, "image/jpg");
        assert_eq!(image.file_name, "selfie_1577887604756.jpg");
        assert_eq!(&image.bytes[..2], &[0xff, 0xd8], "SOI marker");
        assert_eq!(
            &image.bytes[image.bytes.len() - 2..],
            &[0xff, 0xd9],
            "EOI marker"
        );
        assert!(image.bytes.len() < 34 * 1024);
    }

    #[test]
    fn images_are_deterministic_and_differ_between_photos() {
        let a = photo(data::DOCUMENTED_PHOTO, "images/jpg");
        let b = photo("5f1e0a3c31778a0008000001", "images/jpg");
        assert_eq!(image_of(&a), image_of(&a));
        assert_ne!(image_of(&a).bytes, image_of(&b).bytes);
        assert_ne!(pixels(&a.id), pixels(&b.id));
        assert_eq!(pixels(&a.id).len(), (SIDE * SIDE * 3) as usize);
    }

    #[test]
    fn the_pattern_is_mirrored_and_uses_two_colours_at_least() {
        let p = pixels(data::DOCUMENTED_PHOTO);
        let at = |x: u32, y: u32| &p[((y * SIDE + x) * 3) as usize..][..3];
        for y in [MARGIN + 1, MARGIN + CELL * 2 + 3, SIDE - MARGIN - 1] {
            for x in MARGIN..SIDE / 2 {
                assert_eq!(at(x, y), at(SIDE - 1 - x, y), "({x}, {y})");
            }
        }
        let mut colours: Vec<&[u8]> = p.chunks(3).collect();
        colours.sort();
        colours.dedup();
        assert!(colours.len() >= 2);
    }
}
