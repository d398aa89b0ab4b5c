/// Character classes of HTTP syntax, tested on bytes (no `Character` decoding on the request path).
enum ByteClass {
    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            false
        }
    }

    /// RFC 9110 §5.6.2 token characters (methods, header names).
    static func isToken(_ byte: UInt8) -> Bool {
        Self.isAlphanumeric(byte) || "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }

    /// Characters of `uri-host [":" port]` (RFC 3986 §3.2.2): a reg-name (unreserved, sub-delims,
    /// percent-encoded), an IPv4 address, or an `[IP-literal]`.
    static func isHost(_ byte: UInt8) -> Bool {
        Self.isAlphanumeric(byte) || "-._~!$&'()*+,;=%:[]".utf8.contains(byte)
    }
}
