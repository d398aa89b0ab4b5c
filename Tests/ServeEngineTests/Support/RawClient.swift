import Foundation
import ServeEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed HTTP response as a test sees it.
struct RawResponse {
    var version: String
    var status: Int
    var reason: String
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
    var bodyText: String { String(decoding: self.body, as: UTF8.self) }
}

enum RawClientError: Error, CustomStringConvertible {
    case connectFailed(Int32)
    case timedOut
    case closedEarly(received: Int)
    case malformed(String)

    var description: String {
        switch self {
        case .connectFailed(let code): "connect failed: errno \(code)"
        case .timedOut: "timed out"
        case .closedEarly(let received): "connection closed after \(received) bytes"
        case .malformed(let text): "malformed response: \(text)"
        }
    }
}

/// A blocking TCP client over POSIX sockets: bytes in, bytes out, nothing hidden.
///
/// Every read has a timeout (default 10 s) so a broken server fails a test instead of hanging it.
/// `@unchecked Sendable` so a test can hand it to `offCooperativePool`; one thread uses it at a time.
final class RawClient: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []

    /// `receiveBuffer` (bytes, set before connecting) makes a slow reader whose window stays small.
    init(port: Int, host: String = "127.0.0.1", timeoutSeconds: Int = 10, receiveBuffer: Int32? = nil) throws {
        let isV6 = host.contains(":")
        self.fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer {
            setsockopt(self.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(self.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var result: Int32
        if isV6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &addr.sin6_addr)
            result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &addr.sin_addr)
            result = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if result != 0 {
            // No close here: every stored property is set, so `deinit` runs and closes the socket.
            // Closing twice would close whatever descriptor another thread opened in between.
            throw RawClientError.connectFailed(errno)
        }
    }

    deinit { close(self.fd) }

    func send(_ text: String) throws { try self.send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw RawClientError.closedEarly(received: offset) }
            offset += n
        }
    }

    /// Half-closes the sending side, as `nc -N` does.
    func shutdownWrite() { shutdown(self.fd, Int32(SHUT_WR)) }

    /// Reads more bytes into the buffer; returns false at EOF.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { throw RawClientError.timedOut }
            return false  // ECONNRESET and friends: treat as EOF
        }
        if n == 0 { return false }
        self.buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// Reads what arrives into the buffer (kept for the next `readResponse`) until `count` bytes
    /// came or none for `quietMilliseconds`; returns how many came.
    @discardableResult
    func receive(upTo count: Int, quietMilliseconds: Int32 = 500) throws -> Int {
        var received = 0
        while received < count {
            var poller = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, quietMilliseconds) > 0 else { break }
            let before = self.buffer.count
            guard try self.fill() else { break }
            received += self.buffer.count - before
        }
        return received
    }

    /// Reads until EOF and returns everything not consumed yet.
    func readToEOF() throws -> [UInt8] {
        while try self.fill() {}
        defer { self.buffer.removeAll() }
        return self.buffer
    }

    /// Whether the server closed the connection (EOF within the socket timeout, no more bytes).
    func isClosedByPeer() throws -> Bool {
        if !self.buffer.isEmpty { return false }
        return try !self.fill()
    }

    /// Reads `count` bytes of a body (for tests that stop reading part-way).
    func readBytes(_ count: Int) throws -> [UInt8] { try self.readExactly(count) }

    private func readLine() throws -> String {
        while true {
            if let newline = self.buffer.firstIndex(of: 0x0A) {
                let line = self.buffer[..<newline]
                let text = String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
                self.buffer.removeFirst(newline + 1)
                return text
            }
            guard try self.fill() else { throw RawClientError.closedEarly(received: self.buffer.count) }
        }
    }

    private func readExactly(_ count: Int) throws -> [UInt8] {
        while self.buffer.count < count {
            guard try self.fill() else { throw RawClientError.closedEarly(received: self.buffer.count) }
        }
        let out = Array(self.buffer[..<count])
        self.buffer.removeFirst(count)
        return out
    }

    /// Reads the status line and headers only.
    func readResponseHead() throws -> RawResponse {
        let statusLine = try self.readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let status = Int(parts[1]) else { throw RawClientError.malformed(statusLine) }
        var headers: [(String, String)] = []
        while true {
            let line = try self.readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw RawClientError.malformed(line) }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingSpaces))
        }
        return RawResponse(
            version: String(parts[0]),
            status: status,
            reason: parts.count > 2 ? String(parts[2]) : "",
            headers: headers,
            body: []
        )
    }

    /// Reads one response. `head` says the request was HEAD (no body follows).
    func readResponse(head: Bool = false) throws -> RawResponse {
        var response = try self.readResponseHead()
        let status = response.status
        if head || status / 100 == 1 || status == 204 || status == 304 { return response }
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            while true {
                let sizeLine = try self.readLine()
                guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) else {
                    throw RawClientError.malformed(sizeLine)
                }
                if size == 0 {
                    while try !self.readLine().isEmpty {}
                    break
                }
                response.body += try self.readExactly(size)
                _ = try self.readLine()
            }
        } else if let length = response.header("content-length").flatMap({ Int($0) }) {
            response.body = try self.readExactly(length)
        } else {
            response.body = try self.readToEOF()
        }
        return response
    }

    /// Reads one chunk of a chunked body; `nil` for the last (empty) chunk.
    func readChunk() throws -> [UInt8]? {
        let sizeLine = try self.readLine()
        guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) else {
            throw RawClientError.malformed(sizeLine)
        }
        if size == 0 {
            while try !self.readLine().isEmpty {}
            return nil
        }
        let data = try self.readExactly(size)
        _ = try self.readLine()
        return data
    }

    /// The client's own port (what the server sees as the peer's).
    var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(self.fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Sends a simple request and reads its response.
    func get(
        _ target: String,
        version: String = "HTTP/1.1",
        headers: [String] = [],
        method: String = "GET"
    ) throws -> RawResponse {
        let extra = headers.map { $0 + "\r\n" }.joined()
        try self.send("\(method) \(target) \(version)\r\nHost: test\r\n\(extra)\r\n")
        return try self.readResponse(head: method == "HEAD")
    }
}

extension Substring {
    var trimmingSpaces: String {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass. For waits on real events only.
func waitUntil(seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = monotonicNow() + Int64(seconds * 1e9)
    while monotonicNow() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}

func monotonicNow() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Runs blocking socket work on its own thread, so the test does not hold one of the few cooperative
/// threads that the server's async API (here `stopListening`) needs to make progress.
func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}
