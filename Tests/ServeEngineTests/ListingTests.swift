import Foundation
import ServeEngine
import Testing

/// Directory listings: escaping, links, sorting, JSON, dotfiles.
@Suite struct ListingTests {
    static let hostileNames = [
        "<script>alert(1)<script>.txt", "<img src=x onerror=alert(1)>", "a&b.txt", "100% #1?.txt", "space name.txt", "日本語.txt", "🎉 party.txt",
        "quote\"d'.txt",
    ]

    @Test func hostileNamesAreEscapedAndLinksEncoded() async throws {
        let tree = try TempTree()
        for name in Self.hostileNames { try tree.write(name, name) }
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let page = try client.get("/").bodyText
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<title>Directory listing for /</title>"))
        #expect(!page.contains("<script>") && !page.contains("<img"))
        #expect(page.contains("&lt;script&gt;alert(1)&lt;script&gt;.txt"))
        #expect(page.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(page.contains("href=\"%3Cscript%3Ealert%281%29%3Cscript%3E.txt\""))
        #expect(page.contains("href=\"100%25%20%231%3F.txt\""))
        #expect(page.contains(">a&amp;b.txt<"))
        #expect(page.contains("href=\"%E6%97%A5%E6%9C%AC%E8%AA%9E.txt\""))
        #expect(page.contains(">日本語.txt<"))
        #expect(page.contains("quote&quot;d&#x27;.txt"))
        // Every link really fetches its file.
        for name in Self.hostileNames {
            let href = SafePath.percentEncode(Array(name.utf8))
            #expect(try client.get("/" + href).bodyText == name, "\(name)")
        }
    }

    @Test func foldersFirstThenCaseInsensitiveNamesAndColumnSorts() async throws {
        let tree = try TempTree()
        try tree.write("beta.txt", String(repeating: "b", count: 300))
        try tree.write("Alpha.txt", String(repeating: "a", count: 10))
        try tree.write("gamma.txt", String(repeating: "g", count: 20))
        try tree.mkdir("Zoo")
        try tree.mkdir("apps")
        try tree.setModified("beta.txt", 1_000_000)
        try tree.setModified("Alpha.txt", 3_000_000)
        try tree.setModified("gamma.txt", 2_000_000)
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        func order(_ query: String) throws -> [String] {
            let json = try client.get("/?format=json&" + query).body
            let object = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any]
            return (object?["entries"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        #expect(try order("") == ["apps", "Zoo", "Alpha.txt", "beta.txt", "gamma.txt"])
        #expect(try order("sort=name&order=desc") == ["Zoo", "apps", "gamma.txt", "beta.txt", "Alpha.txt"])
        #expect(try order("sort=size&order=desc") == ["apps", "Zoo", "beta.txt", "gamma.txt", "Alpha.txt"])
        #expect(try order("sort=mtime") == ["apps", "Zoo", "beta.txt", "gamma.txt", "Alpha.txt"])
        let html = try client.get("/?sort=size&order=asc").bodyText
        #expect(html.contains("href=\"?sort=size&amp;order=desc\""), "the active column's header link flips the order")
    }

    @Test func jsonListingByQueryOrAccept() async throws {
        let tree = try TempTree()
        try tree.write("sub/file.txt", "12345")
        try tree.symlink("link", to: tree.root + "/sub")
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let response = try client.get("/", headers: ["Accept: application/json"])
        #expect(response.header("content-type") == "application/json; charset=utf-8")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        #expect(object["path"] as? String == "/")
        let entries = try #require(object["entries"] as? [[String: Any]])
        let link = try #require(entries.first { $0["name"] as? String == "link" })
        #expect(link["type"] as? String == "symlink")
        #expect(link["href"] as? String == "link/")
        let sub = try client.get("/sub/?format=json")
        let subObject = try #require(try JSONSerialization.jsonObject(with: Data(sub.body)) as? [String: Any])
        let file = try #require((subObject["entries"] as? [[String: Any]])?.first)
        #expect(file["size"] as? Int == 5)
        #expect(file["type"] as? String == "file")
        #expect(try client.get("/sub/").bodyText.contains("<a href=\"../\">../</a>"))
    }

    /// A link out of the served folder, or to nothing, is listed but not as a link (it would only get
    /// 403 or 404), and the size and date of what it points at are not shown. With
    /// `--follow-symlinks` the link out is served, and listed like any other.
    @Test func linksThatAreNotServedAreMarkedWithoutTheirTargetsDetails() async throws {
        let tree = try TempTree()
        try tree.write("secret.txt", String(repeating: "s", count: 4321), outside: true)
        try tree.setModified("../secret.txt", 86_400 * 365)
        try tree.write("inside.txt", "in")
        try tree.symlink("out", to: tree.base + "/secret.txt")
        try tree.symlink("in", to: tree.root + "/inside.txt")
        try tree.symlink("gone", to: tree.root + "/nowhere")
        // A link whose name is not UTF-8 is checked by its own bytes (its shown name is "caf\u{FFFD}").
        let rawName: [UInt8] = Array((tree.root + "/caf").utf8) + [0xE9, 0]
        let made = rawName.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { symlink(tree.root + "/inside.txt", $0.baseAddress!) } }
        #expect(made == 0)
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let html = try client.get("/").bodyText
        #expect(html.contains("<tr><td>out → <span class=\"note\">(leads outside the served folder; not served)</span></td><td class=\"size\">-</td><td class=\"date\">-</td></tr>"))
        #expect(html.contains("<tr><td>gone → <span class=\"note\">(broken link)</span></td>"))
        #expect(html.contains("<a href=\"in\">in →</a></td><td class=\"size\">2 B</td>"))
        #expect(html.contains("<a href=\"caf%E9\">caf\u{FFFD} →</a></td><td class=\"size\">2 B</td>"))
        #expect(!html.contains("4.2 KiB") && !html.contains("href=\"out\"") && !html.contains("1971-"))
        let json = try client.get("/?format=json").bodyText
        #expect(json.contains("{\"name\":\"out\",\"href\":\"out\",\"type\":\"symlink\",\"link\":\"outside\",\"isDirectory\":false,\"size\":0,"))
        #expect(json.contains("\"name\":\"in\",\"href\":\"in\",\"type\":\"symlink\",\"link\":\"served\""))
        #expect(json.contains("\"name\":\"gone\",\"href\":\"gone\",\"type\":\"symlink\",\"link\":\"broken\""))
        #expect(try client.get("/out").status == 403)

        let following = try await TestServer.start(handlers: [FileHandler()], directory: tree.root) { $0.followSymlinks = true }
        defer { Task { await following.shutdown() } }
        let followed = try following.client().get("/").bodyText
        #expect(followed.contains("<a href=\"out\">out →</a></td><td class=\"size\">4.2 KiB</td>"))
        #expect(followed.contains("gone → <span class=\"note\">(broken link)</span>"))
    }

    /// A folder bigger than one `getdents` buffer, names of every length up to 255 bytes: listed whole.
    /// Under `.ci/sanitizers address` this caught `readdir` entries being copied as whole `dirent`s,
    /// reading past the end of the buffer.
    @Test func aBigFolderIsListedWhole() async throws {
        let tree = try TempTree()
        var names = Set<String>()
        for i in 0..<1_500 {
            let name = String(format: "%05d-", i) + String(repeating: "x", count: (i * 37) % 249)
            names.insert(name)
            _ = FileManager.default.createFile(atPath: tree.root + "/" + name, contents: nil)
        }
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let response = try server.client(timeoutSeconds: 30).get("/?format=json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        let listed = try #require(object["entries"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        #expect(listed.count == names.count)
        #expect(Set(listed) == names)
    }

    @Test func dotfilesAreHiddenUnlessAskedButAlwaysServed() async throws {
        let tree = try TempTree()
        try tree.write(".env", "SECRET=1")
        try tree.write("visible.txt", "v")
        let plain = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        let page = try plain.client().get("/").bodyText
        #expect(!page.contains(".env"))
        #expect(page.contains("visible.txt"))
        #expect(try plain.client().get("/.env").bodyText == "SECRET=1")
        await plain.shutdown()
        let shown = try await TestServer.start(handlers: [FileHandler()], directory: tree.root) { $0.showHidden = true }
        #expect(try shown.client().get("/").bodyText.contains(".env"))
        await shown.shutdown()
    }

    /// Names sort by code point after lower-casing, as python's `sort(key=str.lower)`: a decomposed
    /// "Cafe\u{301}" and a composed "café" are distinct and ordered, not canonically equal.
    @Test func namesSortByCodePointLikePython() {
        let entries = ["café", "Cafe\u{301}", "Zebra", "apple", "Äpfel", "日本"].map {
            ListingEntry(name: $0, kind: .file, size: 1, modificationSeconds: 1)
        }
        let ascending = DirectoryListing.sorted(entries, by: ListingQuery()).map(\.name)
        #expect(ascending == ["apple", "Cafe\u{301}", "café", "Zebra", "Äpfel", "日本"])
        let descending = DirectoryListing.sorted(entries, by: ListingQuery(sort: .name, descending: true, json: false)).map(\.name)
        #expect(descending == ascending.reversed())
    }

    /// The listing's date column, written digit by digit, says what the ISO 8601 form says.
    @Test(arguments: [Int64(0), 951_782_400, 1_700_000_000, 1_764_050_400, 4_102_444_799, 253_402_300_799])
    func listingDatesMatchISO8601(seconds: Int64) {
        let iso = HTTPDate.iso8601(secondsSinceEpoch: seconds)
        #expect(DirectoryListing.formatDate(seconds) == String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(5)))
    }

    /// The sort against the obvious comparator over whole entries (what it replaced) on mixed
    /// names: ASCII and not, case twins, equal sizes and dates, folders among files; every key, both orders.
    @Test(arguments: [ListingQuery.Key.name, .size, .mtime], [false, true])
    func sortAgreesWithTheObviousComparator(key: ListingQuery.Key, descending: Bool) {
        let stems = ["report", "Report", "REPORT", "Ünïcode", "ünïcode", "日本語", "space name", "a", "A", "", "Zz", "café", "Cafe\u{301}", "ΣΟΦΊΑ", "İstanbul", "Straße", "ǅ"]
        var generator = SystemRandomNumberGenerator()
        let entries = (0..<400).map { i -> ListingEntry in
            let stem = stems[Int.random(in: 0..<stems.count, using: &generator)]
            let name = Bool.random(using: &generator) ? stem : "\(stem)-\(i % 7)"
            let folder = Int.random(in: 0..<5, using: &generator) == 0
            return ListingEntry(
                name: name, kind: folder ? .directory : .file, size: Int64.random(in: 0..<4, using: &generator),
                modificationSeconds: Int64.random(in: 0..<4, using: &generator))
        }
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
        func less(_ a: [UInt8], _ b: [UInt8]) -> Bool { a.lexicographicallyPrecedes(b) }
        let expected = entries.sorted { a, b in
            if a.isDirectory != b.isDirectory { return a.isDirectory }
            let (fa, fb) = (bytes(a.name.lowercased()), bytes(b.name.lowercased()))
            switch key {
            case .name:
                if fa != fb { return descending ? less(fb, fa) : less(fa, fb) }
                return less(bytes(a.name), bytes(b.name))
            case .size, .mtime:
                let (x, y) = key == .size ? (a.size, b.size) : (a.modificationSeconds, b.modificationSeconds)
                if x != y { return descending ? x > y : x < y }
                return less(fa, fb)
            }
        }
        let query = ListingQuery(sort: key, descending: descending, json: false)
        #expect(DirectoryListing.sorted(entries, by: query) == expected)
    }

    @Test func sortIsPureAndStable() {
        let entries = [
            ListingEntry(name: "b", kind: .file, size: 1, modificationSeconds: 5),
            ListingEntry(name: "B", kind: .file, size: 1, modificationSeconds: 5),
            ListingEntry(name: "a", kind: .directory, size: 0, modificationSeconds: 1),
        ]
        let sorted = DirectoryListing.sorted(entries, by: ListingQuery()).map(\.name)
        #expect(sorted == ["a", "B", "b"])
        #expect(ListingQuery.parse("sort=size&order=desc&format=json") == ListingQuery(sort: .size, descending: true, json: true))
        #expect(ListingQuery.parse("sort=bogus&order=sideways&x") == ListingQuery())
    }
}
