#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory. Weight files are gigabytes: mapping lets the kernel
/// page in only what is touched and share the pages between processes, and nothing is copied.
///
/// Every read is bounds-checked against the file's size and throws `WeightIOError.malformed` naming
/// the file, so a parser built on `bytes(at:count:)` and `load(at:)` cannot read past the end of a
/// truncated or hostile file. The mapping lives as long as this object; tensors and weight
/// matrices that point into it hold it as their `owner`.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// Size of the file in bytes.
    public let count: Int
    /// Start of the mapping; nil for an empty file (mmap cannot map zero bytes).
    public let base: UnsafeRawPointer?

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw WeightIOError.cannotOpen(file: path, reason: MappedFile.errnoText()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw WeightIOError.cannotOpen(file: path, reason: MappedFile.errnoText()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw WeightIOError.cannotOpen(file: path, reason: "not a regular file")
        }
        guard info.st_size >= 0, let size = Int(exactly: info.st_size) else {
            throw WeightIOError.cannotOpen(file: path, reason: "file size \(info.st_size) is not representable")
        }
        count = size
        if size == 0 {
            base = nil
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw WeightIOError.cannotOpen(file: path, reason: "mmap of \(size) bytes failed: \(MappedFile.errnoText())")
        }
        base = UnsafeRawPointer(address)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// True when `count` bytes starting at `offset` lie inside the file (no overflow possible).
    public func contains(offset: Int, count length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= count && length <= count - offset
    }

    /// The `length` bytes at `offset`, or a thrown error saying how far past the end they reach.
    public func bytes(at offset: Int, count length: Int) throws -> UnsafeRawBufferPointer {
        guard contains(offset: offset, count: length) else {
            throw WeightIOError.malformed(
                file: path, reason: "truncated or corrupt: needs \(length) bytes at offset \(offset), but the file has \(count) bytes")
        }
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + offset, count: length)
    }

    /// A value of type T read from `offset`, which need not be aligned. Little-endian, as both
    /// GGUF and safetensors store numbers and as every platform Easel runs on is.
    public func load<T: BitwiseCopyable>(at offset: Int, as type: T.Type = T.self) throws -> T {
        let raw = try bytes(at: offset, count: MemoryLayout<T>.size)
        return raw.loadUnaligned(as: T.self)
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
