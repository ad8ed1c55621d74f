//! Images as they are served: what a body is by its magic bytes, and thumbnails made from
//! it within limits.
//!
//! The one thing to know: nothing here trusts what an image says of itself. Its kind comes
//! from its first bytes, never from a content type; its dimensions are checked against
//! [`Limits`] before anything is allocated for them, so a decompression bomb (a small file
//! declaring a huge picture) is refused, not decoded. A JPEG is decoded at the smallest of
//! its built-in scales (1/8 to 1) that still covers the thumbnail, which is most of the CPU
//! and memory a thumbnail of a camera photo would otherwise cost.

use std::io::Cursor;

use fast_image_resize::{images::Image, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// An image kind this service serves as an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
}

impl Format {
    /// The kind of `bytes` by their magic bytes, if it is one served as an image.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else {
            None
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
        }
    }
}

/// What a picture may be before it is decoded.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Widest or tallest picture decoded, in pixels.
    pub max_side: u32,
    /// Most bytes one decoded picture may take (at the scale it is decoded).
    pub max_alloc: u64,
}

impl Default for Limits {
    /// 12,000 pixels a side (past any camera); 64 MiB decoded, which a 21-megapixel photo
    /// fits at full scale and a JPEG of any allowed size at its thumbnail scale.
    fn default() -> Self {
        Self {
            max_side: 12_000,
            max_alloc: 64 * 1024 * 1024,
        }
    }
}

/// Why no thumbnail can be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ThumbnailError {
    /// Neither a JPEG nor a PNG by its first bytes.
    #[error("not a JPEG or PNG image")]
    NotAnImage,
    /// Larger than the limits allow: refused before decoding.
    #[error("the image is {width}x{height}, larger than this service decodes")]
    TooLarge { width: u64, height: u64 },
    /// It says it is an image but does not decode.
    #[error("the image does not decode: {0}")]
    Unreadable(String),
}

/// JPEG quality of thumbnails: small, and indistinguishable from the original at their size.
const QUALITY: u8 = 80;

/// A JPEG `width` pixels wide (never wider than the picture: no enlarging), the aspect kept.
pub fn thumbnail(bytes: &[u8], width: u32, limits: Limits) -> Result<Vec<u8>, ThumbnailError> {
    let (pixels, layout, source_width, source_height) = match Format::sniff(bytes) {
        None => return Err(ThumbnailError::NotAnImage),
        Some(Format::Jpeg) => {
            let (pixels, w, h) = decode_jpeg(bytes, width, limits)?;
            (pixels, PixelType::U8x3, w, h)
        }
        Some(Format::Png) => decode_png(bytes, limits)?,
    };
    let (target_width, target_height) = fit(source_width, source_height, width);
    let resized = if (target_width, target_height) == (source_width, source_height) {
        pixels
    } else {
        let source = Image::from_vec_u8(source_width, source_height, pixels, layout)
            .map_err(|e| ThumbnailError::Unreadable(e.to_string()))?;
        let mut target = Image::new(target_width, target_height, layout);
        let options =
            ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
        Resizer::new()
            .resize(&source, &mut target, &options)
            .map_err(|e| ThumbnailError::Unreadable(e.to_string()))?;
        target.into_vec()
    };
    let resized = match layout {
        PixelType::U8x4 => resized
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        _ => resized,
    };
    let mut out = Vec::with_capacity(resized.len() / 8);
    let encoder = jpeg_encoder::Encoder::new(&mut out, QUALITY);
    // Both sides are at most `max_side`, which fits a JPEG's 16 bits.
    encoder
        .encode(
            &resized,
            target_width as u16,
            target_height as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|e| ThumbnailError::Unreadable(e.to_string()))?;
    Ok(out)
}

/// The size a `width`-wide thumbnail of a `w` x `h` picture has: never wider than the
/// picture, at least one pixel each way.
pub fn fit(w: u32, h: u32, width: u32) -> (u32, u32) {
    let target_width = width.min(w).max(1);
    let target_height =
        ((u64::from(h) * u64::from(target_width) + u64::from(w) / 2) / u64::from(w.max(1))).max(1);
    (target_width, target_height as u32)
}

fn check(
    width: u64,
    height: u64,
    bytes_per_pixel: u64,
    limits: Limits,
) -> Result<(), ThumbnailError> {
    let too_large = width > u64::from(limits.max_side)
        || height > u64::from(limits.max_side)
        || width * height * bytes_per_pixel > limits.max_alloc;
    match too_large {
        true => Err(ThumbnailError::TooLarge { width, height }),
        false => Ok(()),
    }
}

/// RGB pixels of a JPEG, at the smallest scale that still covers `width`.
fn decode_jpeg(
    bytes: &[u8],
    width: u32,
    limits: Limits,
) -> Result<(Vec<u8>, u32, u32), ThumbnailError> {
    let unreadable = |e: jpeg_decoder::Error| ThumbnailError::Unreadable(e.to_string());
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(unreadable)?;
    let info = decoder
        .info()
        .ok_or_else(|| ThumbnailError::Unreadable("no frame".into()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    check(
        w.into(),
        h.into(),
        1,
        Limits {
            max_alloc: u64::MAX,
            ..limits
        },
    )?;
    let (tw, th) = fit(w, h, width);
    let (sw, sh) = decoder
        .scale(
            tw.min(u16::MAX.into()) as u16,
            th.min(u16::MAX.into()) as u16,
        )
        .map_err(unreadable)?;
    let bytes_per_pixel = info.pixel_format.pixel_bytes() as u64;
    check(sw.into(), sh.into(), bytes_per_pixel, limits)?;
    decoder.set_max_decoding_buffer_size(limits.max_alloc as usize);
    let pixels = decoder.decode().map_err(unreadable)?;
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        jpeg_decoder::PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|l| [l[0], l[0], l[0]])
            .collect(),
        // jpeg-decoder gives CMYK as stored; Adobe's inverted CMYK, most common, reads so.
        jpeg_decoder::PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let k = u16::from(p[3]);
                [p[0], p[1], p[2]].map(|c| (u16::from(c) * k / 255) as u8)
            })
            .collect(),
    };
    let expected = usize::from(sw) * usize::from(sh) * 3;
    if rgb.len() < expected {
        return Err(ThumbnailError::Unreadable(
            "fewer pixels than the frame says".into(),
        ));
    }
    Ok((rgb, sw.into(), sh.into()))
}

/// The pixels of a PNG within the limits: RGB, or RGBA when it has alpha.
fn decode_png(
    bytes: &[u8],
    limits: Limits,
) -> Result<(Vec<u8>, PixelType, u32, u32), ThumbnailError> {
    // The header alone says the size: read it first, and refuse before decoding.
    let (w, h) = image::ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png)
        .into_dimensions()
        .map_err(|e| ThumbnailError::Unreadable(e.to_string()))?;
    let mut decoding = image::Limits::default();
    decoding.max_image_width = Some(limits.max_side);
    decoding.max_image_height = Some(limits.max_side);
    decoding.max_alloc = Some(limits.max_alloc);
    check(w.into(), h.into(), 4, limits)?;
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png);
    reader.limits(decoding);
    let picture = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => ThumbnailError::TooLarge {
            width: w.into(),
            height: h.into(),
        },
        e => ThumbnailError::Unreadable(e.to_string()),
    })?;
    // Kept in the layout it was decoded in (a copy of a camera-sized picture is tens of
    // megabytes): RGB as it is, RGBA resized as RGBA and its alpha dropped once small.
    Ok(match picture {
        image::DynamicImage::ImageRgb8(rgb) => (rgb.into_raw(), PixelType::U8x3, w, h),
        image::DynamicImage::ImageRgba8(rgba) => (rgba.into_raw(), PixelType::U8x4, w, h),
        other => (other.into_rgb8().into_raw(), PixelType::U8x3, w, h),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let pixels: Vec<u8> = (0..usize::from(w) * usize::from(h) * 3)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 90)
            .encode(&pixels, w, h, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_image_data(&vec![128u8; (w * h * 3) as usize])
            .unwrap();
        drop(writer);
        out
    }

    /// A 1x1 PNG whose header (its CRC made right) declares `w` x `h`.
    pub fn png_declaring(w: u32, h: u32) -> Vec<u8> {
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&w.to_be_bytes());
        bomb[20..24].copy_from_slice(&h.to_be_bytes());
        let crc = crc32fast::hash(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        bomb
    }

    fn size_of(jpeg: &[u8]) -> (u32, u32) {
        let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(jpeg));
        decoder.read_info().unwrap();
        let info = decoder.info().unwrap();
        (info.width.into(), info.height.into())
    }

    #[test]
    fn thumbnails_keep_the_aspect_and_never_enlarge() {
        let photo = jpeg(640, 480);
        assert_eq!(
            size_of(&thumbnail(&photo, 256, Limits::default()).unwrap()),
            (256, 192)
        );
        assert_eq!(
            size_of(&thumbnail(&photo, 1024, Limits::default()).unwrap()),
            (640, 480)
        );
        let tall = png(90, 300);
        assert_eq!(
            size_of(&thumbnail(&tall, 64, Limits::default()).unwrap()),
            (64, 213)
        );
        assert_eq!(fit(3, 1000, 1), (1, 333));
        assert_eq!(fit(1000, 1, 64), (64, 1));
    }

    #[test]
    fn only_jpeg_and_png_by_their_bytes_are_images() {
        assert_eq!(Format::sniff(&jpeg(8, 8)), Some(Format::Jpeg));
        assert_eq!(Format::sniff(&png(8, 8)), Some(Format::Png));
        for other in [
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"[..],
            b"GIF89a",
            b"",
            b"\xFF\xD8",
        ] {
            assert_eq!(Format::sniff(other), None);
            assert_eq!(
                thumbnail(other, 64, Limits::default()),
                Err(ThumbnailError::NotAnImage)
            );
        }
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_it_is_decoded() {
        // A PNG declaring 60,000 x 60,000 pixels (10.8 GB decoded) in a few hundred bytes.
        let bomb = png_declaring(60_000, 60_000);
        let refused = thumbnail(&bomb, 64, Limits::default()).unwrap_err();
        assert_eq!(
            refused,
            ThumbnailError::TooLarge {
                width: 60_000,
                height: 60_000
            }
        );
        // Within the sides but past the allocation.
        let small = Limits {
            max_side: 12_000,
            max_alloc: 1024,
        };
        assert!(matches!(
            thumbnail(&png(100, 100), 64, small),
            Err(ThumbnailError::TooLarge { .. })
        ));
        assert!(matches!(
            thumbnail(&jpeg(600, 600), 600, small),
            Err(ThumbnailError::TooLarge { .. })
        ));
        // A JPEG cut short, and garbage after a JPEG's magic.
        let photo = jpeg(64, 64);
        assert!(thumbnail(&photo[..photo.len() / 3], 32, Limits::default()).is_err());
        assert!(thumbnail(b"\xFF\xD8\xFF\xE0garbage", 32, Limits::default()).is_err());
    }
}
