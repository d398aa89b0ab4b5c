// CGI response-header parsing: whatever a script prints, what is sent on is a valid header block
// (no control characters, token names, no field the server owns) and incremental parsing agrees.
import FuzzCheck
@testable import ServeEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCGIHeaders(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var reader = FuzzReader(fuzzBytes(data, count))
    let ended = reader.byte() & 1 == 1
    let output = reader.rest()

    switch CGIResponseParser.parse(output, ended: ended) {
    case .complete(let head, let bodyOffset):
        require(bodyOffset > 0 && bodyOffset <= output.count, "body offset \(bodyOffset) of \(output.count)")
        require((200...599).contains(head.status.code), "status \(head.status.code)")
        // RFC 9112 §4: reason-phrase = *( HTAB / SP / VCHAR / obs-text ).
        require(!head.status.reasonPhrase.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }), "control byte in the reason")
        for (name, value) in head.headers {
            require(!name.isEmpty && name.utf8.allSatisfy(ByteClass.isToken), "header name \(name.debugDescription)")
            require(!CGIResponseParser.droppedFields.contains(name.lowercased()), "server-owned \(name) sent on")
            require(!value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }), "control byte in \(name)")
        }
        if let length = head.contentLength { require(length >= 0, "negative Content-Length") }
        // The same bytes one byte short of the blank line are not complete yet; more output after
        // the blank line changes nothing.
        require(CGIResponseParser.parse(output[..<(bodyOffset - 1)], ended: false) == .needMore || bodyOffset - 1 > CGIResponseParser.maxHeaderBytes,
                "complete before the blank line")
        require(CGIResponseParser.parse(output[..<bodyOffset], ended: ended) == .complete(head, bodyOffset: bodyOffset), "prefix parses differently")
    case .needMore:
        require(!ended, "needs more after the script ended")
    case .malformed(let reason):
        require(!reason.isEmpty, "malformed without a reason")
    }

    switch CGIResponseParser.nphStatus(output, ended: ended) {
    case .status(let status):
        require((200...599).contains(status.code), "nph status \(status.code)")
    case .needMore:
        require(!ended && !output.contains(0x0A), "nph needs more with a full line")
    case .malformed:
        break
    }
    return 0
}
