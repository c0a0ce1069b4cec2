// PNG through libpng's simplified API (png_image_*), which reports errors by return value rather than by
// longjmp, so a bad file is a thrown error, never a crash. Text chunks are spliced in after IHDR.
import CPNG
import Foundation

public enum PNGCodec {
    /// Encodes `image` as an 8-bit RGB PNG with the given text chunks (keyword → text), in order.
    /// Latin-1 text goes in tEXt, anything else in an uncompressed UTF-8 iTXt, as PIL's PngInfo does.
    public static func encode(_ image: RGBImage, text: [(String, String)] = []) throws -> Data {
        guard image.width > 0, image.height > 0 else {
            throw DiffusionError.imageIO(path: "<memory>", reason: "cannot encode an empty \(image.width)x\(image.height) image")
        }
        var control = png_image()
        control.version = UInt32(PNG_IMAGE_VERSION)
        control.width = UInt32(image.width)
        control.height = UInt32(image.height)
        control.format = UInt32(PNG_FORMAT_RGB)
        var size = 0
        let ok = image.pixels.withUnsafeBytes { px -> Bool in
            guard png_image_write_to_memory(&control, nil, &size, 0, px.baseAddress, Int32(image.width * 3), nil) != 0 else { return false }
            return true
        }
        guard ok, size > 0 else { throw DiffusionError.imageIO(path: "<memory>", reason: "libpng could not size the PNG: \(message(control))") }
        var data = Data(count: size)
        let written = data.withUnsafeMutableBytes { out in
            image.pixels.withUnsafeBytes { px in
                png_image_write_to_memory(&control, out.baseAddress, &size, 0, px.baseAddress, Int32(image.width * 3), nil)
            }
        }
        png_image_free(&control)
        guard written != 0 else { throw DiffusionError.imageIO(path: "<memory>", reason: "libpng failed: \(message(control))") }
        data = data.prefix(size)
        // 8-byte signature, then IHDR: 4 length + 4 type + 13 data + 4 CRC.
        let afterHeader = 8 + 25
        var chunks = Data()
        for (key, value) in text { chunks.append(textChunk(keyword: key, text: value)) }
        data.insert(contentsOf: chunks, at: afterHeader)
        return data
    }

    /// Decodes any PNG libpng reads (palette, grey, 16-bit, alpha composited on black) to 8-bit RGB.
    public static func decode(contentsOf url: URL) throws -> RGBImage {
        var control = png_image()
        control.version = UInt32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&control, url.path) != 0 else {
            throw DiffusionError.imageIO(path: url.path, reason: "not a readable PNG: \(message(control))")
        }
        let (w, h) = (Int(control.width), Int(control.height))
        guard w > 0, h > 0, w <= 16384, h <= 16384 else {
            png_image_free(&control)
            throw DiffusionError.imageIO(path: url.path, reason: "image size \(w)x\(h) is outside 1...16384")
        }
        control.format = UInt32(PNG_FORMAT_RGB)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        var background = png_color(red: 0, green: 0, blue: 0)
        let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&control, &background, $0.baseAddress, Int32(w * 3), nil) }
        guard ok != 0 else {
            png_image_free(&control)
            throw DiffusionError.imageIO(path: url.path, reason: "cannot decode: \(message(control))")
        }
        return RGBImage(width: w, height: h, pixels: pixels)
    }

    /// The text chunks of a PNG (tEXt and uncompressed iTXt), for tools and tests.
    public static func textChunks(_ data: Data) -> [String: String] {
        var result: [String: String] = [:]
        let bytes = [UInt8](data)
        var i = 8
        while i + 12 <= bytes.count {
            let length = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            guard length >= 0, i + 12 + length <= bytes.count else { break }
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            let body = Array(bytes[(i + 8)..<(i + 8 + length)])
            if let zero = body.firstIndex(of: 0) {
                let key = String(decoding: body[..<zero], as: UTF8.self)
                if type == "tEXt" {
                    result[key] = String(body[(zero + 1)...].map { Character(Unicode.Scalar($0)) })
                } else if type == "iTXt", zero + 2 < body.count, body[zero + 1] == 0 {
                    // keyword\0 flag method language\0 translated\0 text
                    var rest = Array(body[(zero + 3)...])
                    for _ in 0..<2 { if let z = rest.firstIndex(of: 0) { rest = Array(rest[(z + 1)...]) } }
                    result[key] = String(decoding: rest, as: UTF8.self)
                }
            }
            i += 12 + length
        }
        return result
    }

    static func message(_ control: png_image) -> String {
        var m = control.message
        return withUnsafeBytes(of: &m) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    static func textChunk(keyword: String, text: String) -> Data {
        let latin1 = text.unicodeScalars.allSatisfy { $0.value < 256 && $0.value != 0 }
        var body = Data(keyword.utf8.prefix(79))
        body.append(0)
        let type: String
        if latin1 {
            type = "tEXt"
            body.append(contentsOf: text.unicodeScalars.map { UInt8($0.value) })
        } else {
            type = "iTXt"
            body.append(contentsOf: [0, 0, 0, 0])   // uncompressed, method 0, no language, no translation
            body.append(contentsOf: text.utf8)
        }
        var chunk = Data()
        let n = UInt32(body.count)
        chunk.append(contentsOf: [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)])
        let typed = Data(type.utf8) + body
        chunk.append(typed)
        let c = crc32(typed)
        chunk.append(contentsOf: [UInt8(c >> 24), UInt8(c >> 16 & 0xFF), UInt8(c >> 8 & 0xFF), UInt8(c & 0xFF)])
        return chunk
    }

    /// CRC-32 (ISO 3309, reflected 0xEDB88320), the checksum every PNG chunk ends with.
    static func crc32(_ data: Data) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in data {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }
}

extension RGBImage {
    /// Writes a PNG at `url`, refusing to replace an existing file (O_EXCL), so a picture is never
    /// overwritten silently.
    public func writePNG(to url: URL, text: [(String, String)] = []) throws {
        let data = try PNGCodec.encode(self, text: text)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "already exists; not overwriting it" : String(cString: strerror(errno))
            throw DiffusionError.imageIO(path: url.path, reason: reason)
        }
        defer { close(fd) }
        let ok = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        guard ok else { throw DiffusionError.imageIO(path: url.path, reason: "write failed: \(String(cString: strerror(errno)))") }
    }
}
