/// Content types by file extension: a built-in table, never the operating system's, so every
/// machine serves the same types (python's `guess_type` reads `/etc/mime.types`).
public enum MIMETypes {
    /// The type for unknown extensions.
    public static let fallback = "application/octet-stream"

    private static let table: [String: String] = [
        "html": "text/html", "htm": "text/html", "css": "text/css",
        "js": "text/javascript", "mjs": "text/javascript", "json": "application/json",
        "map": "application/json", "wasm": "application/wasm", "svg": "image/svg+xml",
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
        "webp": "image/webp", "avif": "image/avif", "ico": "image/vnd.microsoft.icon", "bmp": "image/bmp",
        "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf",
        "txt": "text/plain", "text": "text/plain", "log": "text/plain", "md": "text/markdown",
        "markdown": "text/markdown", "csv": "text/csv", "tsv": "text/tab-separated-values",
        "xml": "application/xml", "pdf": "application/pdf", "zip": "application/zip",
        "gz": "application/gzip", "tgz": "application/gzip", "tar": "application/x-tar",
        "bz2": "application/x-bzip2", "xz": "application/x-xz", "7z": "application/x-7z-compressed",
        "mp3": "audio/mpeg", "ogg": "audio/ogg", "wav": "audio/wav", "flac": "audio/flac",
        "mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime",
        "yaml": "application/yaml", "yml": "application/yaml", "toml": "application/toml",
        "webmanifest": "application/manifest+json", "ics": "text/calendar", "rtf": "application/rtf",
        "sh": "text/x-shellscript", "py": "text/x-python", "swift": "text/x-swift", "c": "text/x-c",
        "h": "text/x-c", "rs": "text/x-rust", "go": "text/x-go", "ts": "text/plain",
    ]

    /// Types that are text but not `text/*`, and so also get a charset.
    private static let textual: Set<String> = [
        "application/json", "application/xml", "image/svg+xml", "application/yaml", "application/toml",
        "application/manifest+json",
    ]

    /// The `Content-Type` for `fileName`: text types carry `; charset=utf-8`.
    public static func contentType(forFileName fileName: Substring) -> String {
        guard let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex else { return Self.fallback }
        let ext = fileName[fileName.index(after: dot)...].lowercased()
        guard let type = Self.table[ext] else { return Self.fallback }
        return type.hasPrefix("text/") || Self.textual.contains(type) ? type + "; charset=utf-8" : type
    }
}
