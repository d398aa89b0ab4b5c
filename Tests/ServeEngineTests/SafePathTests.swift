import NIOHTTP1
@testable import ServeEngine
import Testing

/// `SafePath` from a table of hostile inputs and from random input.
@Suite struct SafePathTests {
    @Test(arguments: [
        ("/", [String](), true),
        ("/a/b.txt", ["a", "b.txt"], false),
        ("/a/b/", ["a", "b"], true),
        ("/a/./b", ["a", "b"], false),
        ("/a//b", ["a", "b"], false),
        ("/a/../b", ["b"], false),
        ("/../../etc/passwd", ["etc", "passwd"], false),
        ("/%2e%2e/%2E%2E/etc/passwd", ["etc", "passwd"], false),
        ("/..%2f..%2fetc/passwd", ["etc", "passwd"], false),
        ("/..%5c..%5csecret", ["secret"], false),
        ("/..\\secret", ["secret"], false),
        ("/.%2e/secret", ["secret"], false),
        ("/%252e%252e/secret", ["%2e%2e", "secret"], false),
        ("/....//secret", ["....", "secret"], false),
        ("/space%20name.txt", ["space name.txt"], false),
        ("/%E6%97%A5%E6%9C%AC", ["日本"], false),
        ("/a+b", ["a+b"], false),
        // A combining mark after `/` is one Character with it, but the kernel still splits there.
        ("/a/%CC%81b", ["a", "\u{301}b"], false),
        ("/x/../%CC%81", ["\u{301}"], false),
        ("/..%2F%CC%81/..%2F%CC%81etc", ["\u{301}etc"], false),
    ])
    func resolves(raw: String, components: [String], trailingSlash: Bool) throws {
        let resolved = try SafePath.resolve(raw[...])
        #expect(resolved.components == components)
        #expect(resolved.hasTrailingSlash == trailingSlash)
    }

    @Test(arguments: ["/a%00b", "/%00", "/x/%00/../y"])
    func nulIsRefused(raw: String) {
        #expect(throws: SafePath.Failure.nulByte) { try SafePath.resolve(raw[...]) }
    }

    @Test(arguments: ["/%", "/%2", "/%zz", "/a%f", "/%g0"])
    func badEncodingIsRefused(raw: String) {
        #expect(throws: SafePath.Failure.badEncoding) { try SafePath.resolve(raw[...]) }
    }

    /// Names need not be UTF-8 (a Latin-1 system's `café`): their bytes name the file, and nothing
    /// but `.`, `..`, `/`, `\` means anything, so an overlong `.` (`%c0%ae`) is a name, not a step up.
    @Test(arguments: [
        ("/caf%E9.txt", [[0x63, 0x61, 0x66, 0xE9, 0x2E, 0x74, 0x78, 0x74]], ["caf\u{FFFD}.txt"], "/srv/caf\u{FFFD}.txt"),
        ("/%ff/", [[0xFF]], ["\u{FFFD}"], "/srv/\u{FFFD}"),
        ("/a/%c0%ae%c0%ae/secret", [[0x61], [0xC0, 0xAE, 0xC0, 0xAE], Array("secret".utf8)], ["a", "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}", "secret"], nil),
        ("/%FE/../%FF%2f..%2f..%2fx", [[0x78]], ["x"], nil),
    ] as [(String, [[UInt8]], [String], String?)])
    func bytesThatAreNotUTF8NameFilesAsTheyAre(raw: String, bytes: [[UInt8]], shown: [String], lossy: String?) throws {
        let resolved = try SafePath.resolve(raw[...])
        #expect(resolved.components == shown)
        let exactAgain = bytes.allSatisfy { String(validating: $0, as: UTF8.self) != nil }
        #expect(resolved.isExact == exactAgain)
        #expect(resolved.rawComponents == (exactAgain ? nil : bytes))
        #expect(resolved.fileSystemPath(under: "/srv").bytes == Array("/srv".utf8) + bytes.flatMap { [0x2F] + $0 })
        if let lossy { #expect(resolved.fileSystemPath(under: "/srv") != FileSystemPath(lossy)) }
    }

    @Test func randomInputNeverYieldsAnEscapingComponent() {
        let alphabet: [String] = [
            "/", "\\", ".", "..", "%2e", "%2E", "%2f", "%5c", "%25", "a", "b", "%00", "%", "~", "%c3%a9", "%CC%81", "%ff", "%c0%ae", "%c3",
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20_000 {
            var raw = "/"
            for _ in 0..<Int(state % 12) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                raw += alphabet[Int(state >> 33) % alphabet.count]
            }
            state = state &* 6_364_136_223_846_793_005 &+ 1
            guard let resolved = try? SafePath.resolve(raw[...]) else { continue }
            for component in resolved.components {
                #expect(!component.isEmpty && component != "." && component != "..", "\(raw) gave \(resolved.components)")
                // Bytes: `contains("/")` on a String would miss a `/` that a combining mark joins.
                let separatorOrNul = component.utf8.contains { (byte: UInt8) -> Bool in byte == 0x2F || byte == 0x5C || byte == 0 }
                #expect(!separatorOrNul, "\(raw) gave \(resolved.components)")
            }
            // What is opened: the root, then names that are neither empty, `.` nor `..`.
            let path = resolved.fileSystemPath(under: "/srv").bytes
            #expect(path.starts(with: Array("/srv".utf8)))
            for name in path.dropFirst(4).split(separator: 0x2F, omittingEmptySubsequences: false).dropFirst() {
                #expect(!name.isEmpty && !name.elementsEqual([0x2E]) && !name.elementsEqual([0x2E, 0x2E]) && !name.contains(0) && !name.contains(0x5C), "\(raw)")
            }
            #expect(path.dropFirst(4).split(separator: 0x2F).count == resolved.components.count, "\(raw)")
        }
    }

    @Test(arguments: [
        ("/a/b.txt", "a/b.txt"),
        ("/index.html", "index.html"),
        ("/.../a..b/.x/x.", ".../a..b/.x/x."),
        ("/A-Z_0~9", "A-Z_0~9"),
    ])
    func plainPathsSkipTheFullResolution(raw: String, expected: String) throws {
        #expect(SafePath.plainPath(raw[...]) == expected[...])
        #expect(try SafePath.resolve(raw[...]).relativePath == expected)
        #expect(try SafePath.resolve(raw[...]).fileSystemPath(under: "/srv") == FileSystemPath("/srv/" + expected))
    }

    @Test(arguments: [
        "/", "", "a/b", "/a/", "/a//b", "/./a", "/a/.", "/a/..", "/../a", "/a/../b", "/%61", "/a b", "/a\\b",
        "/caf\u{E9}", "/a+b", "/a?b", "/a;b", "/..", "/.",
    ])
    func pathsNeedingDecodingOrNormalisingAreNotPlain(raw: String) {
        #expect(SafePath.plainPath(raw[...]) == nil)
    }

    @Test func plainPathAgreesWithResolveOnRandomInput() {
        let alphabet: [String] = ["/", ".", "..", "a", "b", "-", "_", "~", "%2e", "%61", "\\", " ", "é"]
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        var plainSeen = 0
        for _ in 0..<20_000 {
            var raw = "/"
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            for _ in 0..<Int(state >> 60) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                raw += alphabet[Int(state >> 33) % alphabet.count]
            }
            guard let plain = SafePath.plainPath(raw[...]) else { continue }
            plainSeen += 1
            let resolved = try? SafePath.resolve(raw[...])
            #expect(resolved?.relativePath == String(plain), "\(raw)")
            #expect(resolved?.hasTrailingSlash == false && resolved?.components.isEmpty == false, "\(raw)")
        }
        #expect(plainSeen > 1_000)
    }

    @Test(arguments: [
        ("/docs", "", "/docs/"),
        ("/docs", "a=1&b=2", "/docs/?a=1&b=2"),
        ("//example.com", "", "/example.com/"),
        ("///example.com/x", "", "/example.com/x/"),
        ("/%2f%2fexample.com", "", "/example.com/"),
        ("/\\\\example.com", "", "/example.com/"),
        // Found by Fuzz/fuzz-safe-path: an empty target, and a tab browsers would drop.
        ("", "", "/"),
        ("/\t/example.com", "", "/%09/example.com/"),
        ("/a b", "x=\r\nSet-Cookie:1", "/a%20b/?x=%0D%0ASet-Cookie:1"),
        // `/` and a combining mark are one Character; the slash must still go.
        ("//\u{34B}example.com", "", "/\u{34B}example.com/"),
        ("/%2F\u{301}example.com", "", "/\u{301}example.com/"),
    ])
    func directoryRedirectNeverStartsWithTwoSlashes(raw: String, query: String, location: String) {
        let result = SafePath.directoryRedirect(rawPath: raw[...], query: query[...])
        #expect(result == location)
        #expect(!result.hasPrefix("//") && !result.hasPrefix("/\\"))
    }

    @Test func percentEncodeKeepsOnlyUnreserved() {
        #expect(SafePath.percentEncode(Array("a b#?%&<>'\"日🎉.~_-".utf8))
            == "a%20b%23%3F%25%26%3C%3E%27%22%E6%97%A5%F0%9F%8E%89.~_-")
    }

    /// The path and query handlers see, for each target form (RFC 9112 §3.2), without sockets.
    @Test(arguments: [
        ("/a/b.txt?x=1#f", "/a/b.txt", "x=1"),
        ("/a?", "/a", ""),
        ("http://host/a/b.txt?x=1", "/a/b.txt", "x=1"),
        ("HtTpS://host:8000/a%20b", "/a%20b", ""),
        ("http://host", "/", ""),
        ("http://host?q=/x", "/", "q=/x"),
        ("http://host#frag", "/", ""),
        ("http://user@host//x", "//x", ""),
    ])
    func requestPathAndQueryOfEachTargetForm(target: String, path: String, query: String) {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target)
        let request = Request(id: RequestID(connection: ConnectionID(1), index: 1), head: head, peer: nil, local: nil)
        #expect(request.rawPath == path[...])
        #expect(request.query == query[...])
    }
}
