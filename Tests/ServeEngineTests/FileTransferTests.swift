import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import ServeEngine

/// How a file body goes out and how its bytes are counted, without sockets.
@Suite struct FileTransferTests {
    @Test func aSocketThatTakesEverythingGetsDirectWritesAndTheEnd() {
        var transfer = FileTransfer(from: 100, to: 1_100)
        #expect(transfer.resume() == .send(offset: 100, count: 1_000))
        #expect(transfer.record(.sent(1_000), requested: 1_000) == .end)
        #expect(transfer.sent == 1_000)
        #expect(transfer.remaining == 0)
    }

    @Test func aBigBodyIsAskedForInChunksAndYieldsAfterAFewPerTurn() {
        let size = Int64(FileTransfer.directChunk) * Int64(FileTransfer.directCallsPerTurn + 2)
        var transfer = FileTransfer(from: 0, to: size)
        var step = transfer.resume()
        var calls = 0
        while case .send(let offset, let count) = step {
            #expect(offset == transfer.offset)
            #expect(count == FileTransfer.directChunk)
            calls += 1
            step = transfer.record(.sent(count), requested: count)
        }
        #expect(step == .yield)
        #expect(calls == FileTransfer.directCallsPerTurn)
        #expect(transfer.sent == Int64(calls * FileTransfer.directChunk))
        // The next turn carries on where the last one stopped.
        #expect(transfer.resume() == .send(offset: transfer.offset, count: FileTransfer.directChunk))
    }

    @Test func aShortWriteWaitsForRoomWithOneByteThroughTheChannel() {
        var transfer = FileTransfer(from: 0, to: 10_000)
        _ = transfer.resume()
        #expect(transfer.record(.sent(4_000), requested: 10_000) == .writeThroughChannel(offset: 4_000, count: 1))
        #expect(transfer.sent == 4_000)
        #expect(transfer.channelWriteSucceeded(count: 1) == .send(offset: 4_001, count: 5_999))
        #expect(transfer.sent == 4_001)
    }

    @Test(arguments: [DirectSendResult.wouldBlock, .queued])
    func aFullSocketOrBytesQueuedAheadWaitWithOneByte(result: DirectSendResult) {
        var transfer = FileTransfer(from: 50, to: 5_000)
        _ = transfer.resume()
        #expect(transfer.record(result, requested: 4_950) == .writeThroughChannel(offset: 50, count: 1))
        #expect(transfer.sent == 0)
    }

    @Test func withoutASocketTheBodyGoesThroughTheChannelInPieces() {
        let size = Int64(FileTransfer.channelChunk) + 10
        var transfer = FileTransfer(from: 0, to: size)
        _ = transfer.resume()
        #expect(transfer.record(.noTransport, requested: Int(size)) == .writeThroughChannel(offset: 0, count: FileTransfer.channelChunk))
        _ = transfer.channelWriteSucceeded(count: FileTransfer.channelChunk)
        #expect(transfer.record(.noTransport, requested: 10) == .writeThroughChannel(offset: Int64(FileTransfer.channelChunk), count: 10))
        #expect(transfer.channelWriteSucceeded(count: 10) == .end)
        #expect(transfer.sent == size)
    }

    @Test func aFailedWriteStopsAndKeepsTheCountOfWhatWentOut() {
        var transfer = FileTransfer(from: 0, to: 1_000_000)
        _ = transfer.resume()
        _ = transfer.record(.sent(300_000), requested: 1_000_000)
        _ = transfer.channelWriteSucceeded(count: 1)
        #expect(transfer.record(.failed(ECONNRESET), requested: 699_999) == .stop(errno: ECONNRESET))
        #expect(transfer.sent == 300_001)
    }

    @Test func aFileThatEndsEarlyStops() {
        var transfer = FileTransfer(from: 0, to: 1_000)
        _ = transfer.resume()
        #expect(transfer.record(.sent(0), requested: 1_000) == .stop(errno: 0))
        #expect(transfer.sent == 0)
    }

    /// Whatever the socket does, the count is the sum of what it took, no request reaches past the
    /// end, and the transfer ends exactly when every byte is out.
    @Test func randomSocketBehaviourKeepsTheCountExact() {
        var random = SplitMix(seed: 7)
        for _ in 0..<200 {
            let start = Int64(random.next(below: 1_000))
            let size = Int64(random.next(below: 20_000_000)) + 1
            var transfer = FileTransfer(from: start, to: start + size)
            var accepted: Int64 = 0
            var step = transfer.resume()
            var steps = 0
            loop: while steps < 100_000 {
                steps += 1
                switch step {
                case .send(let offset, let count):
                    #expect(offset == start + accepted)
                    #expect(count > 0 && Int64(count) <= size - accepted)
                    let result: DirectSendResult
                    switch random.next(below: 4) {
                    case 0: result = .wouldBlock
                    case 1: result = .queued
                    default:
                        let taken = 1 + random.next(below: count)
                        result = .sent(taken)
                        accepted += Int64(taken)
                    }
                    step = transfer.record(result, requested: count)
                case .writeThroughChannel(let offset, let count):
                    #expect(offset == start + accepted)
                    accepted += Int64(count)
                    step = transfer.channelWriteSucceeded(count: count)
                case .yield:
                    step = transfer.resume()
                case .end:
                    break loop
                case .stop:
                    Issue.record("stopped without a failure")
                    break loop
                }
                #expect(transfer.sent == accepted)
            }
            #expect(step == .end)
            #expect(accepted == size)
        }
    }
}

/// A small deterministic generator for the property test.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next(below bound: Int) -> Int {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}

/// How much unsent data a connection may hold, from how fast its client drains it; without sockets.
@Suite struct SendBufferPolicyTests {
    private let thresholds = SendBufferPolicy.Thresholds()
    private var fast: Int64 { self.thresholds.fastWait }
    private var slow: Int64 { self.thresholds.slowWait + 1 }
    private var toGrow: Int { self.thresholds.fastWaitsToGrow }

    @Test func startsSmallAndGrowsOnlyAfterEnoughFastWaitsInARow() {
        var policy = SendBufferPolicy()
        #expect(policy.limit == SendBufferPolicy.small)
        for _ in 1..<self.toGrow {
            #expect(policy.waited(nanoseconds: self.fast) == nil)
        }
        #expect(policy.limit == SendBufferPolicy.small)
        #expect(policy.waited(nanoseconds: 0) == SendBufferPolicy.large)
        #expect(policy.limit == SendBufferPolicy.large)
        // Already large: fast waits change nothing and ask for no new setsockopt.
        #expect(policy.waited(nanoseconds: 0) == nil)
    }

    @Test func oneSlowerWaitStartsTheCountAgain() {
        var policy = SendBufferPolicy()
        for _ in 1..<self.toGrow { _ = policy.waited(nanoseconds: self.fast) }
        #expect(policy.waited(nanoseconds: self.fast + 1) == nil)
        for _ in 1..<self.toGrow {
            #expect(policy.waited(nanoseconds: self.fast) == nil)
        }
        #expect(policy.limit == SendBufferPolicy.small)
        #expect(policy.waited(nanoseconds: self.fast) == SendBufferPolicy.large)
    }

    @Test func aLongWaitWhileLargeShrinksItAndTheClientMustProveFastAgain() {
        var policy = SendBufferPolicy()
        for _ in 1...self.toGrow { _ = policy.waited(nanoseconds: 0) }
        #expect(policy.limit == SendBufferPolicy.large)
        // Waits up to the slow bound keep it large (a fast client's socket refills in bursts).
        #expect(policy.waited(nanoseconds: self.thresholds.slowWait) == nil)
        #expect(policy.waited(nanoseconds: self.slow) == SendBufferPolicy.small)
        #expect(policy.limit == SendBufferPolicy.small)
        // Slow waits while small change nothing.
        #expect(policy.waited(nanoseconds: self.slow) == nil)
        for _ in 1..<self.toGrow { _ = policy.waited(nanoseconds: 0) }
        #expect(policy.limit == SendBufferPolicy.small)
        #expect(policy.waited(nanoseconds: 0) == SendBufferPolicy.large)
    }

    @Test func thresholdsCanBeLoosened() {
        var policy = SendBufferPolicy(.init(fastWait: 40_000_000, fastWaitsToGrow: 2, slowWait: 200_000_000))
        #expect(policy.waited(nanoseconds: 30_000_000) == nil)
        #expect(policy.waited(nanoseconds: 40_000_000) == SendBufferPolicy.large)
        #expect(policy.waited(nanoseconds: 200_000_000) == nil)
        #expect(policy.waited(nanoseconds: 200_000_001) == SendBufferPolicy.small)
    }
}
