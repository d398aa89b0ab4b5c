import NIOHTTP1

/// An error response: a status and what to tell the client, rendered like python's `send_error`.
public struct HTTPError: Error, Sendable, Equatable {
    public let status: HTTPResponseStatus
    /// Short message; defaults to the status's reason phrase.
    public let message: String
    /// A sentence explaining the status (python's `responses[code][1]`).
    public let explanation: String
    /// Extra response headers (for example `Allow` on 405, `Content-Range` on 416).
    public let headers: [(String, String)]

    public init(
        _ status: HTTPResponseStatus,
        message: String? = nil,
        explanation: String? = nil,
        headers: [(String, String)] = []
    ) {
        self.status = status
        self.message = message ?? status.reasonPhrase
        self.explanation = explanation ?? Self.explanation(for: status)
        self.headers = headers
    }

    public static func == (lhs: HTTPError, rhs: HTTPError) -> Bool {
        lhs.status == rhs.status && lhs.message == rhs.message && lhs.explanation == rhs.explanation
            && lhs.headers.elementsEqual(rhs.headers, by: { $0 == $1 })
    }

    /// 403 for a symlink whose target lies outside the served folder (found by the `realpath` check,
    /// or by the kernel while opening, `FileSystemProbe.openInside`).
    static let leadsOutside = HTTPError(.forbidden, message: "Symbolic link leads outside the served folder")

    /// The log line python's `send_error` writes before the response (`log_error`).
    var logLine: String { "code \(self.status.code), message \(self.message)" }

    /// Whether this status may carry a body (RFC 9110 §15: not 1xx, 204, 205 or 304).
    var allowsBody: Bool {
        let code = self.status.code
        return code >= 200 && code != 204 && code != 205 && code != 304
    }

    /// The HTML body, python's `DEFAULT_ERROR_MESSAGE` with every field HTML-escaped.
    public var page: String {
        """
        <!DOCTYPE HTML>
        <html lang="en">
            <head>
                <meta charset="utf-8">
                <title>Error response</title>
            </head>
            <body>
                <h1>Error response</h1>
                <p>Error code: \(self.status.code)</p>
                <p>Message: \(HTML.escape(self.message)).</p>
                <p>Error code explanation: \(self.status.code) - \(HTML.escape(self.explanation)).</p>
            </body>
        </html>

        """
    }

    /// The explanations from python's `http.HTTPStatus`.
    static func explanation(for status: HTTPResponseStatus) -> String {
        switch status.code {
        case 400: "Bad request syntax or unsupported method"
        case 403: "Request forbidden -- authorization will not help"
        case 404: "Nothing matches the given URI"
        case 405: "Specified method is invalid for this resource"
        case 408: "Request timed out; try again later"
        case 411: "Client must specify Content-Length"
        case 412: "Precondition in headers is false"
        case 413: "Content is too large"
        case 414: "URI is too long"
        case 416: "Cannot satisfy request range"
        case 417: "Expect condition could not be satisfied"
        case 431: "The server is unwilling to process the request because its header fields are too large"
        case 500: "Server got itself in trouble"
        case 501: "Server does not support this operation"
        case 502: "Invalid responses from another server/proxy"
        case 503: "The server cannot process the request due to a high load"
        case 504: "The gateway server did not receive a timely response"
        case 505: "Cannot fulfill request"
        default: status.reasonPhrase
        }
    }
}

/// HTML text escaping.
public enum HTML {
    /// Escapes `&`, `<`, `>`, `"` and `'` (python's `html.escape(quote=True)`).
    public static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else {
            return text
        }
        var out = String()
        out.reserveCapacity(text.utf8.count + 16)
        for ch in text.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#x27;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
