//! The images `GET /v1/livePhotos/:id/download` serves: small real pictures generated from
//! each photo's id (an identicon on a gradient, 96x96 pixels), so different photos look
//! different in a browser.
//!
//! The one thing to know: [`image_of`] is a pure function of the photo (its id, its
//! `contentType` and its `createdAt`) and the [`ImageSize`], so tests compute exactly what
//! the simulator served. `small` images are a few kilobytes; `real` ones weigh what
//! ComplyCube accepts for a selfie, 34 KB to 4 MB ([`real_bytes_of`]), so that tests and
//! benchmarks see real weights: the identicon blown up to camera size, with sensor noise.

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

/// How heavy the simulator's images are (`simulate --image-size`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ImageSize {
    /// 96x96, a few kilobytes: quick tests, demos.
    #[default]
    Small,
    /// What ComplyCube accepts for a selfie: 34 KB to 4 MB, deterministic per photo.
    Real,
}

/// The lightest and heaviest `real` image, in bytes: ComplyCube's limits for a live photo.
pub const REAL_MIN_BYTES: usize = 34 * 1000;
pub const REAL_MAX_BYTES: usize = 4 * 1000 * 1000;

/// The weight a `real` image of photo `id` aims at: spread evenly on a log scale between
/// [`REAL_MIN_BYTES`] and [`REAL_MAX_BYTES`], by the id's hash (the result lies within a
/// few per cent of it, and always within the limits).
pub fn real_bytes_of(id: &str) -> usize {
    let hash = Sha256::digest(id.as_bytes());
    let share = f64::from(u16::from_le_bytes([hash[6], hash[7]])) / f64::from(u16::MAX);
    let (min, max) = (REAL_MIN_BYTES as f64, REAL_MAX_BYTES as f64);
    (min * (max / min).powf(share)) as usize
}

/// The image the simulator serves for `photo` at `size`: a PNG when its `contentType`
/// mentions "png", else a JPEG.
pub fn image_of(photo: &LivePhoto, size: ImageSize) -> Image {
    match size {
        ImageSize::Small => small_image_of(photo),
        ImageSize::Real => real_image_of(photo),
    }
}

fn is_png(photo: &LivePhoto) -> bool {
    photo.content_type.to_ascii_lowercase().contains("png")
}

/// A `real` image: the identicon at camera size, with noise, encoded to weigh about
/// [`real_bytes_of`] the photo.
fn real_image_of(photo: &LivePhoto) -> Image {
    let target = real_bytes_of(&photo.id) as f64;
    let png = is_png(photo);
    // Bytes per pixel of this content, measured; corrected once after a first encoding.
    let mut per_pixel = if png { 2.2 } else { 0.9 };
    let mut bytes = Vec::new();
    let mut w = 0;
    for _ in 0..3 {
        let pixels = target / per_pixel;
        w = ((pixels * 3.0 / 4.0).sqrt() as u32).clamp(16, 3750);
        let h = w * 4 / 3;
        let rgb = noisy(&photo.id, w, h);
        bytes = if png {
            encode_png(&rgb, w, h)
        } else {
            encode_jpeg(&rgb, w, h)
        };
        let off = bytes.len() as f64 / target;
        if (0.9..1.1).contains(&off) && bytes.len() <= REAL_MAX_BYTES {
            break;
        }
        per_pixel = bytes.len() as f64 / f64::from(w * h);
    }
    while bytes.len() > REAL_MAX_BYTES || bytes.len() < REAL_MIN_BYTES {
        // Rare: nudge the size until it is within ComplyCube's limits.
        let scale = if bytes.len() > REAL_MAX_BYTES {
            0.9
        } else {
            1.1
        };
        w = ((f64::from(w) * scale) as u32).clamp(16, 3750);
        let h = w * 4 / 3;
        let rgb = noisy(&photo.id, w, h);
        bytes = if png {
            encode_png(&rgb, w, h)
        } else {
            encode_jpeg(&rgb, w, h)
        };
    }
    let millis = photo.created_at.timestamp_millis();
    Image {
        file_name: format!("selfie_{millis}.{}", if png { "png" } else { "jpg" }),
        content_type: if png { "image/png" } else { "image/jpg" },
        bytes,
    }
}

/// The identicon of `id` scaled to `w` x `h`, with deterministic noise of a camera sensor.
fn noisy(id: &str, w: u32, h: u32) -> Vec<u8> {
    let base = pixels(id);
    let hash = Sha256::digest(id.as_bytes());
    let mut state = u64::from_le_bytes(hash[8..16].try_into().unwrap_or_default()) | 1;
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        let sy = y * SIDE / h;
        for x in 0..w {
            let sx = x * SIDE / w;
            let at = ((sy * SIDE + sx) * 3) as usize;
            for c in 0..3 {
                // xorshift64: cheap, and the same on every machine.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let noise = (state % 33) as i16 - 16;
                out.push((i16::from(base[at + c]) + noise).clamp(0, 255) as u8);
            }
        }
    }
    out
}

/// The `small` image: the 96x96 identicon.
fn small_image_of(photo: &LivePhoto) -> Image {
    let pixels = pixels(&photo.id);
    let millis = photo.created_at.timestamp_millis();
    if is_png(photo) {
        Image {
            file_name: format!("selfie_{millis}.png"),
            content_type: "image/png",
            bytes: encode_png(&pixels, SIDE, SIDE),
        }
    } else {
        Image {
            file_name: format!("selfie_{millis}.jpg"),
            content_type: "image/jpg",
            bytes: encode_jpeg(&pixels, SIDE, SIDE),
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

// Encoding a buffer of exactly w x h RGB pixels into memory cannot fail: the errors both
// encoders have are about wrong buffer sizes and failing writers.

fn encode_png(pixels: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
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

fn encode_jpeg(pixels: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(pixels, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
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

    fn image_of_small(photo: &LivePhoto) -> Image {
        image_of(photo, ImageSize::Small)
    }

    #[test]
    fn real_images_weigh_what_complycube_accepts_and_decode() {
        for (i, content_type) in ["images/jpg", "image/png", "images/jpg"].iter().enumerate() {
            let p = photo(&format!("5f1e0a3c31778a000800000{i}"), content_type);
            let image = image_of(&p, ImageSize::Real);
            let target = real_bytes_of(&p.id);
            let size = image.bytes.len();
            assert!((REAL_MIN_BYTES..=REAL_MAX_BYTES).contains(&size), "{size}");
            assert!(
                size as f64 / target as f64 > 0.75 && (size as f64 / target as f64) < 1.3,
                "{size} for {target}"
            );
            assert_eq!(image, image_of(&p, ImageSize::Real), "deterministic");
            let thumb = crate::images::thumbnail::thumbnail(&image.bytes, 64, Default::default());
            assert!(thumb.is_ok(), "{thumb:?}");
        }
        let spread: Vec<usize> = (0..200)
            .map(|i| real_bytes_of(&format!("id-{i}")))
            .collect();
        assert!(spread.iter().any(|&b| b < 100_000) && spread.iter().any(|&b| b > 2_000_000));
    }

    #[test]
    fn png_photos_get_a_png_that_decodes_to_the_generated_pixels() {
        let image = image_of_small(&photo("5f1e0a3c31778a0008000004", "image/png"));
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
        let image = image_of_small(&photo(data::DOCUMENTED_PHOTO, "images/jpg"));
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
        assert_eq!(image_of_small(&a), image_of_small(&a));
        assert_ne!(image_of_small(&a).bytes, image_of_small(&b).bytes);
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
