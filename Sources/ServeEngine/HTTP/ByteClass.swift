/// Character classes of HTTP syntax, tested on bytes (no `Character` decoding on the request path).
///
/// Written as switches over byte values: the compiler turns them into range checks and a jump
/// table. (Searching a string literal's bytes instead cost ~1,900 instructions per request when
/// every request's `Host` was checked.)
public enum ByteClass {
    /// RFC 9110 §5.6.2 token characters (methods, header names): alphanumerics and ``!#$%&'*+-.^_`|~``.
    public static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Characters of `uri-host [":" port]` (RFC 3986 §3.2.2): a reg-name (unreserved, sub-delims,
    /// percent-encoded), an IPv4 address, or an `[IP-literal]`: alphanumerics and `-._~!$&'()*+,;=%:[]`.
    static func isHost(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "!"), UInt8(ascii: "$"),
            UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: "%"), UInt8(ascii: ":"), UInt8(ascii: "["),
            UInt8(ascii: "]"):
            true
        default:
            false
        }
    }

    /// Whether `bytes` is `uri-host [":" port]` (RFC 9112 §3.2, RFC 3986 §3.2.2): an `[IP-literal]`
    /// or a name without brackets or colons, then at most a `:` and digits. Empty is allowed.
    static func isHostValue<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        var index = bytes.startIndex
        if index != bytes.endIndex, bytes[index] == UInt8(ascii: "[") {
            index = bytes.index(after: index)
            while true {
                guard index != bytes.endIndex else { return false }
                let byte = bytes[index]
                index = bytes.index(after: index)
                if byte == UInt8(ascii: "]") { break }
                guard Self.isHost(byte), byte != UInt8(ascii: "[") else { return false }
            }
        } else {
            while index != bytes.endIndex, bytes[index] != UInt8(ascii: ":") {
                let byte = bytes[index]
                guard Self.isHost(byte), byte != UInt8(ascii: "["), byte != UInt8(ascii: "]") else { return false }
                index = bytes.index(after: index)
            }
        }
        guard index != bytes.endIndex else { return true }
        guard bytes[index] == UInt8(ascii: ":") else { return false }
        return bytes[bytes.index(after: index)...].allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
