import Foundation
import Testing

/// The command line, run as the real binary: flags, one-line errors, exit codes, headless mode.
@Suite struct CLITests {
    /// The built `swift-serve-tui`, next to this test bundle.
    static var binary: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidate = bundle.appendingPathComponent("swift-serve-tui")
        while !FileManager.default.fileExists(atPath: candidate.path), bundle.pathComponents.count > 1 {
            candidate = candidate.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("swift-serve-tui")
            if candidate.pathComponents.count < 3 { break }
        }
        return candidate
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the binary to completion (with a 20 s safety limit); with `shell`, through `sh -c`
    /// running those commands first (`ulimit …`), then the binary.
    static func run(_ arguments: [String], shell: String? = nil) throws -> Run {
        let process = Process()
        if let shell {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", shell + "; exec \"$0\" \"$@\"", Self.binary.path] + arguments
        } else {
            process.executableURL = Self.binary
            process.arguments = arguments
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        )
    }

    /// A new folder under the temporary directory; the caller removes it.
    static func temporaryFolder(_ prefix: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// An executable `cgi-bin/<name>` in `directory`: `body` after a `#!/bin/sh` line.
    ///
    /// Written through a close-on-exec descriptor: tests run in parallel and spawn processes (tmux
    /// servers, the binary, bash); one that inherited a descriptor open for writing would make
    /// running the script fail with ETXTBSY ("Text file busy", a 502) for as long as it lives.
    static func script(in directory: URL, _ name: String, _ body: String) throws {
        let scripts = directory.appendingPathComponent("cgi-bin")
        try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
        let path = scripts.appendingPathComponent(name).path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(fd) }
        let bytes = Array("#!/bin/sh\n\(body)\n".utf8)
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else { throw CocoaError(.fileWriteUnknown) }
        fchmod(fd, 0o755)
    }

    /// Starts the binary headless on a free port of 127.0.0.1 and waits for its banner line.
    static func startHeadless(_ arguments: [String]) throws -> (Process, Pipe, Pipe, String) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["0", "--bind", "127.0.0.1", "--no-tui"] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        var banner = ""
        let deadline = Date().addingTimeInterval(15)
        while !banner.contains("\n"), Date() < deadline {
            banner += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        }
        return (process, out, err, banner)
    }

    @Test func helpListsEveryOptionWithExamples() throws {
        let result = try Self.run(["--help"])
        #expect(result.status == 0)
        for flag in ["--port", "--bind", "--directory", "--protocol", "--cgi", "--timeout", "--no-tui", "--follow-symlinks", "--hidden", "--cgi-dir", "--cgi-timeout", "--cgi-max-body", "--max-request-line", "--max-headers", "--max-header-bytes", "Examples:"] {
            #expect(result.stdout.contains(flag), "help lacks \(flag)")
        }
    }

    /// `--version` prints the version the `Server` header carries, and exits 0.
    @Test func versionPrintsWhatTheServerHeaderSays() throws {
        let result = try Self.run(["--version"])
        #expect(result.status == 0)
        let version = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!version.isEmpty && result.stdout == version + "\n")
        let directory = try Self.temporaryFolder("version")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (process, _, _, banner) = try Self.startHeadless(["-d", directory.path])
        defer { if process.isRunning { process.terminate() } }
        let port = try #require(Int(banner.split(separator: " ")[5]))
        let response = try HTTPGet.fetch(port: port, target: "/")
        #expect(response.contains("\r\nServer: swift-serve-tui/\(version)\r\n"), "\(response.prefix(300))")
    }

    @Test(arguments: [
        (["--nope"], "unknown option"),
        (["70000"], "out of range"),
        (["--port", "-5"], "--port"),
        (["--port", "abc"], "port"),
        (["8001", "--port", "8002"], "give the port once"),
        (["--directory", "/definitely/not/here"], "no such directory"),
        (["--directory", "/etc/hostname"], "not a directory"),
        (["--timeout", "0"], "--timeout"),
        (["--timeout", "1e10"], "--timeout must be a positive number of seconds, at most 604800"),
        (["--timeout", "nan"], "--timeout must be"),
        (["--protocol", "HTTP/2"], "protocol"),
        (["--cgi", "--cgi-max-body", "lots"], "--cgi-max-body"),
        (["--cgi", "--cgi-timeout", "0"], "--cgi-timeout"),
        (["--cgi", "--cgi-timeout", "1e300"], "--cgi-timeout must be a positive number of seconds, at most"),
        (["--cgi", "--cgi-dir", "/"], "--cgi-dir"),
        (["--cgi-dir", "/scripts"], "--cgi-dir needs --cgi"),
        (["--max-request-line", "10"], "--max-request-line"),
        (["--max-request-line", "huge"], "--max-request-line"),
        (["--max-headers", "0"], "--max-headers"),
        (["--max-header-bytes", "1G"], "--max-header-bytes"),
        (["--threads", "100000"], "--threads must be from 0"),
        (["--bind", "no-such-host.invalid"], "no address found for no-such-host.invalid"),
        (["--bind", "192.0.2.1"], "192.0.2.1 is not an address of this machine"),
    ])
    func badInputIsOneLineAndNonZero(arguments: [String], message: String) throws {
        let result = try Self.run(arguments + ["--no-tui"])
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.lowercased().contains(message.lowercased()), "stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// Too few descriptors for the event loops is a one-line error, not NIO stopping the process; a
    /// soft limit below the hard one is raised first, so the same loops then start.
    @Test func openFileLimitIsRaisedOrReportedInOneLine() throws {
        let refused = try Self.run(["--threads", "40", "-b", "127.0.0.1", "--port", "0", "--no-tui"], shell: "ulimit -n 64")
        #expect(refused.status == 1)
        #expect(refused.stderr.split(separator: "\n").count == 1, "stderr: \(refused.stderr)")
        #expect(refused.stderr.contains("40 event loops need at least 152 open files and this process may open 64"), "stderr: \(refused.stderr)")
        // Soft 64, hard 400: raised to 400, the loops start, and the run ends on the port in use.
        let blocker = try ListeningSocket()
        let raised = try Self.run(
            ["--threads", "40", "-b", "127.0.0.1", "--port", String(blocker.port), "--no-tui"],
            shell: "ulimit -S -n 64 && ulimit -H -n 400"
        )
        #expect(raised.status == 1)
        #expect(raised.stderr.contains("address already in use"), "stderr: \(raised.stderr)")
    }

    @Test func withoutATerminalItSaysSoOnceAndLogsInstead() throws {
        let blocker = try ListeningSocket()
        // Port in use makes the run end at once; the note comes first, on its own line.
        let result = try Self.run(["--bind", "127.0.0.1", "--port", String(blocker.port)])
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 2, "stderr: \(result.stderr)")
        #expect(lines.first?.contains("no terminal for the dashboard") == true)
        let quiet = try Self.run(["--bind", "127.0.0.1", "--port", String(blocker.port), "--no-tui"])
        #expect(!quiet.stderr.contains("no terminal"))
    }

    @Test func portInUseNamesTheAddressAndSuggestsPortZero() throws {
        let blocker = try ListeningSocket()
        let result = try Self.run(["--bind", "127.0.0.1", "--port", String(blocker.port), "--no-tui"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("127.0.0.1 port \(blocker.port)"))
        #expect(result.stderr.contains("--port 0"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func requestLimitsComeFromTheFlags() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("hello".utf8).write(to: directory.appendingPathComponent("hi.txt"))
        let (process, _, _, banner) = try Self.startHeadless(
            ["-d", directory.path, "--max-request-line", "1K", "--max-headers", "5", "--max-header-bytes", "512"]
        )
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let port = try #require(Int(banner.split(separator: " ")[5]))
        let filler = String(repeating: "a", count: 100)
        #expect(try HTTPGet.fetch(port: port, target: "/hi.txt", headers: ["X-A: \(filler)"]).contains(" 200 "))
        // Under the defaults (64 KiB, 100 fields, 256 KiB) each of these would be served: a long line,
        // seven fields (with Host and Connection), and five fields of 640 bytes together.
        #expect(try HTTPGet.fetch(port: port, target: "/hi.txt?" + String(repeating: "q", count: 1_100)).contains(" 414 "))
        #expect(try HTTPGet.fetch(port: port, target: "/hi.txt", headers: (1...5).map { "X-\($0): 1" }).contains(" 431 "))
        #expect(try HTTPGet.fetch(port: port, target: "/hi.txt", headers: (1...3).map { "X-\($0): \(filler)\(filler)" }).contains(" 431 "))
        // And the server goes on serving.
        #expect(try HTTPGet.fetch(port: port, target: "/hi.txt").contains(" 200 "))
    }

    @Test func headlessServesLogsEscapedAndStopsCleanlyOnSIGTERM() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("hello".utf8).write(to: directory.appendingPathComponent("hi.txt"))

        let (process, out, err, banner) = try Self.startHeadless(["-d", directory.path])
        defer { if process.isRunning { process.terminate() } }
        #expect(banner.hasPrefix("Serving HTTP on 127.0.0.1 port "))
        let port = try #require(Int(banner.split(separator: " ")[5]))
        #expect(port > 0)

        let ok = try HTTPGet.fetch(port: port, target: "/hi.txt")
        #expect(ok.contains("200 OK") && ok.hasSuffix("hello"))
        _ = try HTTPGet.fetch(port: port, target: "/%1B[31mred%1B[0m")
        // Raw control, C1 and bidi bytes in a target are refused by the parser (400) and never logged raw.
        #expect(try HTTPGet.fetch(port: port, target: "/\u{1B}]0;title\u{07}").contains(" 400 "))
        #expect(try HTTPGet.fetch(port: port, target: "/\u{9B}31m\u{202E}txt.exe").contains(" 400 "))

        // Wait for the log lines to be printed, then stop.
        usleep(300_000)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let stdout = banner + String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stdout.contains("Served 4 request(s) (1xx 0, 2xx 1, 3xx 0, 4xx 3, 5xx 0; 0 aborted)"))
        #expect(stderr.contains("\"GET /hi.txt HTTP/1.1\" 200 5"))
        #expect(stderr.contains("\"GET /%1B[31mred%1B[0m HTTP/1.1\" 404"))
        // python's log_error line comes right before an error's access line, and only for errors.
        let lines = stderr.split(separator: "\n")
        let code = lines.firstIndex { $0.hasSuffix("] code 404, message File not found") }
        let access = lines.firstIndex { $0.contains("\"GET /%1B[31mred%1B[0m HTTP/1.1\" 404") }
        #expect(code != nil && access != nil && code.map { $0 + 1 } == access, "\(stderr)")
        #expect(!lines.contains { $0.contains("code 200") })
        #expect(!stderr.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B || $0.value == 0x202E })
    }

    @Test func cgiScriptsRunAndAStopLeavesNoProcessBehind() throws {
        let directory = try Self.temporaryFolder("cli-cgi")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pidFile = directory.appendingPathComponent("hang.pid").path
        try Self.script(in: directory, "hello.sh", "echo 'warn \\033[31m' >&2\nprintf 'Status: 418 Teapot\\nContent-Type: text/plain\\n\\nhi from cgi'")
        try Self.script(in: directory, "hang.sh", "echo $$ > '\(pidFile)'\nexec sleep 60")

        let (process, _, err, banner) = try Self.startHeadless(["-d", directory.path, "--cgi"])
        defer { if process.isRunning { process.terminate() } }
        let port = try #require(Int(banner.split(separator: " ")[5]))

        let response = try HTTPGet.fetch(port: port, target: "/cgi-bin/hello.sh")
        #expect(response.hasPrefix("HTTP/1.1 418 Teapot"))
        #expect(response.contains("\r\n\r\nb\r\nhi from cgi\r\n0\r\n\r\n"))

        // A script still running when the server is told to stop is killed and reaped.
        let thread = Thread { _ = try? HTTPGet.fetch(port: port, target: "/cgi-bin/hang.sh") }
        thread.start()
        let pid = { (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        _ = eventually { pid() != nil }
        let scriptPID = try #require(pid())
        #expect(kill(scriptPID, 0) == 0)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(eventually { kill(scriptPID, 0) != 0 })
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr.contains("\"GET /cgi-bin/hello.sh HTTP/1.1\" 418 11"))
        #expect(stderr.contains("/cgi-bin/hello.sh: warn \\x1b[31m"), "stderr: \(stderr)")
        #expect(!stderr.unicodeScalars.contains { $0.value == 0x1B })
        // The script's exit after the stop reaches no event loop that is gone.
        #expect(!stderr.contains("EventLoop"), "stderr: \(stderr)")
    }

    /// A response that finishes during the stop's grace period is logged like any other.
    @Test func aResponseFinishingDuringTheStopIsLogged() throws {
        let directory = try Self.temporaryFolder("cli-grace")
        defer { try? FileManager.default.removeItem(at: directory) }
        let started = directory.appendingPathComponent("started").path
        try Self.script(in: directory, "slow.sh", "touch '\(started)'\nsleep 1\nprintf 'Content-Type: text/plain\\n\\ndone'")

        let (process, _, err, banner) = try Self.startHeadless(["-d", directory.path, "--cgi"])
        defer { if process.isRunning { process.terminate() } }
        let port = try #require(Int(banner.split(separator: " ")[5]))
        let answer = Answer()
        let thread = Thread { answer.set((try? HTTPGet.fetch(port: port, target: "/cgi-bin/slow.sh")) ?? "") }
        thread.start()
        #expect(eventually { FileManager.default.fileExists(atPath: started) })
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(eventually { answer.get().contains("\r\n\r\n4\r\ndone\r\n0\r\n\r\n") }, "answer: \(answer.get())")
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr.contains("\"GET /cgi-bin/slow.sh HTTP/1.1\" 200 4"), "stderr: \(stderr)")
    }

    @Test func runningOutOfDescriptorsNeitherSpinsNorFloodsTheLogAndRecovers() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-fd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("ok".utf8).write(to: directory.appendingPathComponent("ok.txt"))
        let log = directory.appendingPathComponent("stderr.txt").path
        let blocker = try ListeningSocket()
        let port = blocker.port
        blocker.release()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -n 64 && exec '\(Self.binary.path)' \(port) --bind 127.0.0.1 -d '\(directory.path)' --no-tui 2> '\(log)'"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let serves = { (try? HTTPGet.fetch(port: port, target: "/ok.txt"))?.hasSuffix("ok") == true }
        let stderr = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(eventually(serves))

        // More connections than descriptors: the kernel queues them, the server cannot accept them all.
        var held: [Int32] = []
        for _ in 0..<150 { if let fd = HTTPGet.connect(port: port) { held.append(fd) } }
        _ = eventually { stderr().contains("too many open files") }
        #expect(stderr().contains("cannot accept new connections: too many open files (limit 64)"))
        // Over one second with the limit hit, the process barely uses the CPU.
        let before = cpuSeconds(process.processIdentifier)
        usleep(1_000_000)
        let used = cpuSeconds(process.processIdentifier) - before
        #expect(used < 0.3, "used \(used) s of CPU in 1 s while out of descriptors")
        for fd in held { close(fd) }
        // It serves again once connections close.
        #expect(eventually(serves))
        // Recovery is announced once it has lasted a second.
        _ = eventually { stderr().contains("accepting connections again") }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let final = stderr()
        #expect(final.components(separatedBy: "cannot accept new connections").count - 1 == 1, "stderr: \(final)")
        #expect(final.contains("accepting connections again"))
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; returns whether it held.
/// A string one thread sets and another reads.
final class Answer: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    func set(_ text: String) { self.lock.withLock { self.value = text } }
    func get() -> String { self.lock.withLock { self.value } }
}

func eventually(seconds: Double = 15, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// User plus system CPU seconds a process has used (`/proc/PID/stat`).
func cpuSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// A socket bound to a free port on 127.0.0.1, to make "address in use" happen.
final class ListeningSocket {
    private(set) var fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw CocoaError(.fileWriteUnknown) }
        self.port = Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Closes the socket now, leaving its port free (for a test that needs a free port number).
    func release() {
        if self.fd >= 0 { close(self.fd) }
        self.fd = -1
    }

    deinit { self.release() }
}

/// One raw HTTP/1.1 GET with `Connection: close`, returning the whole response as text.
enum HTTPGet {
    /// A connected socket to 127.0.0.1:`port`, or `nil`.
    static func connect(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    static func fetch(
        port: Int,
        target: String,
        host: String = "x",
        headers: [String] = [],
        method: String = "GET",
        body: [UInt8]? = nil
    ) throws -> String {
        let extra = (headers + (body.map { ["Content-Length: \($0.count)"] } ?? [])).map { $0 + "\r\n" }.joined()
        let request = Array("\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\(extra)\r\n".utf8) + (body ?? [])
        return try Self.exchange(port: port, request)
    }

    /// Sends `request` as it is and reads until the server closes.
    static func exchange(port: Int, _ request: [UInt8]) throws -> String {
        guard let fd = Self.connect(port: port) else { throw CocoaError(.fileReadUnknown) }
        defer { close(fd) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += chunk[0..<n]
        }
        return String(decoding: response, as: UTF8.self)
    }
}
