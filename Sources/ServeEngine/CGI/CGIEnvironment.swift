import NIOHTTP1

/// The RFC 3875 §4.1 meta-variables for one script run, built without any I/O.
struct CGIEnvironment {
    /// What the environment is built from.
    struct Input {
        var method: String
        /// The script's URL path, such as `/cgi-bin/env.py`.
        var scriptName: String
        /// Decoded extra path after the script (`/extra/path`), or empty.
        var pathInfo: String
        /// The query without `?`, still encoded.
        var query: String
        var requestURI: String
        var documentRoot: String
        /// The script's absolute file name.
        var scriptFilename: String
        var serverSoftware: String
        var serverName: String
        var serverPort: Int
        var serverProtocol: String
        var remoteAddress: String
        var remotePort: Int?
        var headers: HTTPHeaders
        /// The body length handed to the script, or `nil` when there is no body.
        var contentLength: Int64?
    }

    /// Variables passed on from the server's own environment: enough for a script to find its
    /// interpreter and speak the user's locale, and nothing else (no tokens, no keys).
    static let inheritedNames = ["PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "TMPDIR"]
    static let defaultPath = "/usr/local/bin:/usr/bin:/bin"

    /// Headers that never become `HTTP_*`: the body's own (they are `CONTENT_*`), credentials (they are
    /// `AUTH_TYPE`/`REMOTE_USER`), and `Proxy`, which would become `HTTP_PROXY` (httpoxy, CVE-2016-5385).
    static let excludedHeaders: Set<String> = ["content-type", "content-length", "authorization", "proxy", "proxy-authorization"]

    static func build(_ input: Input, inherited: [String: String]) -> [String: String] {
        var env: [String: String] = [:]
        for name in Self.inheritedNames {
            if let value = inherited[name] { env[name] = value }
        }
        if env["PATH"] == nil { env["PATH"] = Self.defaultPath }

        env["GATEWAY_INTERFACE"] = "CGI/1.1"
        env["SERVER_SOFTWARE"] = input.serverSoftware
        env["SERVER_NAME"] = input.serverName
        env["SERVER_PORT"] = String(input.serverPort)
        env["SERVER_PROTOCOL"] = input.serverProtocol
        env["REQUEST_METHOD"] = input.method
        env["SCRIPT_NAME"] = input.scriptName
        env["PATH_INFO"] = input.pathInfo
        if !input.pathInfo.isEmpty {
            env["PATH_TRANSLATED"] = (input.documentRoot == "/" ? "" : input.documentRoot) + input.pathInfo
        }
        env["QUERY_STRING"] = input.query
        env["REQUEST_URI"] = input.requestURI
        env["DOCUMENT_ROOT"] = input.documentRoot
        env["SCRIPT_FILENAME"] = input.scriptFilename
        env["REMOTE_ADDR"] = input.remoteAddress
        if let port = input.remotePort { env["REMOTE_PORT"] = String(port) }
        if let length = input.contentLength {
            env["CONTENT_LENGTH"] = String(length)
            if let type = input.headers.first(name: "content-type") { env["CONTENT_TYPE"] = type }
        }
        if let authorization = input.headers.first(name: "authorization") {
            let (scheme, user) = Self.credentials(authorization)
            env["AUTH_TYPE"] = scheme
            if let user { env["REMOTE_USER"] = user }
        }

        var seen: [String: String] = [:]
        var order: [String] = []
        for (name, value) in input.headers {
            let lower = name.lowercased()
            // `X_Foo` and `X-Foo` would both be HTTP_X_FOO: refuse the underscore spelling (as nginx does),
            // so a client cannot shadow a header a proxy in front of us set.
            guard !Self.excludedHeaders.contains(lower), !lower.contains("_"), !lower.isEmpty else { continue }
            let key = "HTTP_" + String(lower.uppercased().map { $0 == "-" ? "_" : $0 })
            if let existing = seen[key] {
                seen[key] = existing + (lower == "cookie" ? "; " : ", ") + value
            } else {
                seen[key] = value
                order.append(key)
            }
        }
        for key in order { env[key] = seen[key] }
        return env
    }

    /// The scheme of an `Authorization` header and, for Basic, the user name (RFC 7617).
    static func credentials(_ header: String) -> (scheme: String, user: String?) {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard let scheme = parts.first else { return ("", nil) }
        guard scheme.lowercased() == "basic", parts.count == 2,
            let decoded = Base64.decode(parts[1].trimmingCharacters(" ")),
            let text = String(validating: decoded, as: UTF8.self),
            let colon = text.firstIndex(of: ":")
        else { return (String(scheme), nil) }
        return ("Basic", String(text[..<colon]))
    }

    /// The command-line arguments of RFC 3875 §4.4: a query without `=` is a search string whose
    /// `+`-separated words become arguments; any other query gives none.
    static func arguments(query: String) -> [String] {
        guard !query.isEmpty, !query.contains("=") else { return [] }
        return query.split(separator: "+", omittingEmptySubsequences: true).compactMap { word in
            guard let bytes = try? SafePath.percentDecode(word), !bytes.contains(0) else { return nil }
            return String(validating: bytes, as: UTF8.self)
        }
    }

    /// `KEY=value` strings, sorted, ready for `execve`. Pairs containing NUL are dropped.
    static func flatten(_ env: [String: String]) -> [String] {
        env.sorted { $0.key < $1.key }.compactMap { key, value in
            let line = key + "=" + value
            return line.utf8.contains(0) ? nil : line
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(_ character: Character) -> Substring {
        var text = self
        while text.first == character { text.removeFirst() }
        while text.last == character { text.removeLast() }
        return text
    }
}

/// Standard base64 (RFC 4648 §4), for Basic credentials. Padding optional; anything else invalid.
enum Base64 {
    static func decode(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for byte in text.utf8 {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            default: return nil
            }
            guard padding == 0 else { return nil }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        guard padding <= 2 else { return nil }
        return out
    }
}
