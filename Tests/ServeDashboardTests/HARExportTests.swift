import Foundation
import Testing

@testable import ServeDashboard
@testable import ServeEngine

/// `w`'s HAR file: valid JSON in HAR 1.2's shape, true to what the dashboard kept, and nothing more.
@Suite struct HARExportTests {
    static func records() -> [RequestRecord] {
        let form = Array("name=Ada&note=日本 \u{1B}[2J\n".utf8)
        let big = Array(repeating: UInt8(ascii: "x"), count: 2048)
        var events: [ServerEvent] = [
            EventScript.received(1, 1, "GET", "/docs/?sort=size&order=desc&flag", headers: [("Host", "h:8000"), ("User-Agent", "curl/8.0"), ("X-Two", "a")], at: 1.25),
            EventScript.started(1, 1, status: 200, length: 2130, at: 1.25),
            EventScript.finished(1, 1, "GET", "/docs/?sort=size&order=desc&flag", status: 200, bytes: 2130, ms: 2.5, at: 1.2525),
            EventScript.received(1, 2, "POST", "/cgi-bin/form.py", headers: [("Host", "h:8000"), ("Content-Type", "application/x-www-form-urlencoded")], at: 2),
            .requestBody(RequestBodyReceived(id: EventScript.id(1, 2), bytes: Int64(form.count), preview: form, complete: true, time: EventScript.time(2))),
            .responseBody(ResponseBodySent(id: EventScript.id(1, 2), bytes: 10, preview: Array("<p>日</p>".utf8), time: EventScript.time(2.128))),
            EventScript.finished(1, 2, "POST", "/cgi-bin/form.py", status: 200, bytes: 10, ms: 128, at: 2.128),
            EventScript.received(2, 1, "PUT", "http://other:81/x", headers: [("Host", "other:81")], at: 3),
            .requestBody(RequestBodyReceived(id: EventScript.id(2, 1), bytes: 5000, preview: big, complete: true, time: EventScript.time(3))),
            EventScript.finished(2, 1, "PUT", "http://other:81/x", status: 501, bytes: 369, ms: 0.2, at: 3),
        ]
        events += EventScript.unparsed(3, 1, bytes: Array("GARBAGE\r\n\r\n".utf8), at: 4)
        var model = DashboardModel(root: "/srv", listening: ["127.0.0.1:8000"], now: EventScript.time(0))
        model.apply(EventScript.batch(events))
        return model.requests.all
    }

    static func har(_ records: [RequestRecord]) throws -> [[String: Any]] {
        let text = HARExport.text(for: records, base: { "http://" + ($0.requestHeaders.first("host") ?? "127.0.0.1:8000") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let log = try #require(object["log"] as? [String: Any])
        #expect(log["version"] as? String == "1.2")
        return try #require(log["entries"] as? [[String: Any]])
    }

    @Test func entriesHoldWhatWasKeptInHARsShape() throws {
        let entries = try Self.har(Self.records())
        // The request that was not parsed has no method or URL: left out.
        #expect(entries.count == 3)
        let get = entries[0]
        #expect(get["startedDateTime"] as? String == "2026-11-29T06:00:01.250Z")
        #expect(get["time"] as? Double == 2.5)
        let request = try #require(get["request"] as? [String: Any])
        #expect(request["method"] as? String == "GET")
        #expect(request["url"] as? String == "http://h:8000/docs/?sort=size&order=desc&flag")
        #expect(request["httpVersion"] as? String == "HTTP/1.1")
        let headers = try #require(request["headers"] as? [[String: String]])
        #expect(headers.map { $0["name"]! } == ["Host", "User-Agent", "X-Two"])
        let query = try #require(request["queryString"] as? [[String: String]])
        #expect(query == [["name": "sort", "value": "size"], ["name": "order", "value": "desc"], ["name": "flag", "value": ""]])
        #expect(request["postData"] == nil)
        let response = try #require(get["response"] as? [String: Any])
        #expect(response["status"] as? Int == 200 && response["statusText"] as? String == "OK")
        #expect((response["content"] as? [String: Any])?["size"] as? Int == 2130)
        #expect((get["timings"] as? [String: Double]) == ["send": 0, "wait": 2.5, "receive": 0])

        // A whole text body is the post data, byte for byte once decoded; a cut one says so.
        let post = try #require((entries[1]["request"] as? [String: Any])?["postData"] as? [String: Any])
        #expect(post["mimeType"] as? String == "application/x-www-form-urlencoded")
        #expect(post["text"] as? String == "name=Ada&note=日本 \u{1B}[2J\n")
        // A response body kept whole is the content's text; otherwise the content says why not.
        #expect(((entries[1]["response"] as? [String: Any])?["content"] as? [String: Any])?["text"] as? String == "<p>日</p>")
        #expect(((entries[0]["response"] as? [String: Any])?["content"] as? [String: Any])?["text"] == nil)
        let put = try #require(entries[2]["request"] as? [String: Any])
        #expect(put["url"] as? String == "http://other:81/x")
        #expect(put["bodySize"] as? Int == 5000)
        #expect((put["postData"] as? [String: Any])?["comment"] as? String == "body of 5000 bytes not included: only its first 2048 bytes were kept")
    }

    @Test func theFileIsPrivateAndSaysWhatWasLeftOut() throws {
        let folder = try ReplayScriptTests.temporaryFolder()
        defer { _ = try? FileManager.default.removeItem(atPath: folder) }
        let records = Self.records()
        let saved = try HARExport.save(records, base: { _ in "http://h:8000" }, in: folder, now: EventScript.time(0))
        #expect(saved == HARExport.Saved(path: folder + "/requests-20261129-060000.har", count: 3, leftOut: 1))
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: saved.path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let data = try Data(contentsOf: URL(fileURLWithPath: saved.path))
        #expect(try JSONSerialization.jsonObject(with: data) is [String: Any])
    }
}
