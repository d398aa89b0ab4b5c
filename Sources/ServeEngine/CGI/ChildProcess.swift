#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import CProcessSpawn
import Dispatch
import NIOConcurrencyHelpers

/// A started script: its process (leader of its own process group) and our ends of its pipes.
struct SpawnedChild: Sendable {
    let pid: pid_t
    /// Write end of the script's stdin.
    let stdin: CInt
    /// Read ends of its stdout and stderr.
    let stdout: CInt
    let stderr: CInt
}

/// Starts programs with `posix_spawn`: no fork of a large multithreaded process, a clean signal
/// state, a process group of their own (so a timeout can kill whatever they started), and only
/// descriptors 0-2 open.
enum ChildSpawner {
    /// Signals the server ignores or handles that a script must see with their default action.
    static let defaultSignals: [CInt] = [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM]

    static func spawn(
        path: String,
        arguments: [String],
        environment: [String],
        workingDirectory: String
    ) -> Result<SpawnedChild, Errno> {
        // stdin, stdout, stderr: [read end, write end] each.
        var pipes: [[CInt]] = []
        func closeAll() { for fd in pipes.joined() { close(fd) } }
        for _ in 0..<3 {
            var fds: [CInt] = [-1, -1]
            guard csp_pipe_cloexec(&fds) == 0 else {
                let code = errno
                closeAll()
                return .failure(Errno(code))
            }
            pipes.append(fds)
        }
        let (stdinPipe, stdoutPipe, stderrPipe) = (pipes[0], pipes[1], pipes[2])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        csp_spawn_add_closefrom(&actions, 3)
        guard csp_spawn_add_chdir(&actions, workingDirectory) == 0 else {
            closeAll()
            return .failure(Errno(ENOSYS))
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in Self.defaultSignals { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = [path] + arguments
        var pid: pid_t = 0
        let result = Self.withCStrings(argv) { argvPointer in
            Self.withCStrings(environment) { envPointer in
                posix_spawn(&pid, path, &actions, &attributes, argvPointer, envPointer)
            }
        }
        // The child has its ends now (or failed to start); ours must not leak into later children.
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard result == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            close(stderrPipe[0])
            return .failure(Errno(result))
        }
        return .success(SpawnedChild(pid: pid, stdin: stdinPipe[1], stdout: stdoutPipe[0], stderr: stderrPipe[0]))
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Kills the process group led by `pid` (the script and whatever it started). Never the bare pid:
    /// once the group is gone that number may belong to someone else.
    static func killGroup(_ pid: pid_t) {
        kill(-pid, SIGKILL)
    }
}

/// How a child ended, from `waitpid`'s status.
public enum ChildExit: Equatable, Sendable, CustomStringConvertible {
    case exited(CInt)
    case signalled(CInt)

    init(waitStatus status: CInt) {
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
        if status & 0x7F == 0 {
            self = .exited((status >> 8) & 0xFF)
        } else {
            self = .signalled(status & 0x7F)
        }
    }

    public var succeeded: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signalled(let signal): "was killed by signal \(signal)"
        }
    }
}

/// Reaps the children the server starts, so none is ever left a zombie, without blocking a thread
/// per child: on `SIGCHLD` (and once a second as a safety net while any are running) it asks
/// `waitpid(pid, WNOHANG)` for each child it knows, and only for those, so other code's children are
/// left alone.
///
/// `@unchecked Sendable`: the mutable state is behind a lock, and dispatch sources are thread-safe.
final class ChildReaper: @unchecked Sendable {
    static let shared = ChildReaper()

    private struct State {
        var waiting: [pid_t: @Sendable (ChildExit) -> Void] = [:]
        var timer: DispatchSourceTimer?
    }

    private let state = NIOLockedValueBox(State())
    private let queue = DispatchQueue(label: "swift-serve-tui.child-reaper")
    private let signalSource: DispatchSourceSignal

    private init() {
        let source = DispatchSource.makeSignalSource(signal: SIGCHLD, queue: self.queue)
        self.signalSource = source
        source.setEventHandler { [weak self] in self?.reap() }
        source.resume()
    }

    /// Calls `onExit` (on the reaper's queue) once `pid` has ended and been reaped.
    func watch(_ pid: pid_t, onExit: @escaping @Sendable (ChildExit) -> Void) {
        self.state.withLockedValue { state in
            state.waiting[pid] = onExit
            if state.timer == nil {
                let timer = DispatchSource.makeTimerSource(queue: self.queue)
                timer.schedule(deadline: .now() + 1, repeating: 1)
                timer.setEventHandler { [weak self] in self?.reap() }
                timer.resume()
                state.timer = timer
            }
        }
        // It may have ended before it was registered.
        self.queue.async { self.reap() }
    }

    /// How many children are running or not yet reaped.
    var count: Int { self.state.withLockedValue { $0.waiting.count } }

    private func reap() {
        let pids = self.state.withLockedValue { Array($0.waiting.keys) }
        for pid in pids {
            var status: CInt = 0
            let result = waitpid(pid, &status, WNOHANG)
            let exit: ChildExit
            if result == pid {
                exit = ChildExit(waitStatus: status)
            } else if result < 0, errno == ECHILD {
                // Reaped by someone else (or SIGCHLD is ignored): it is gone either way.
                exit = .exited(-1)
            } else {
                continue
            }
            let callback = self.state.withLockedValue { state -> (@Sendable (ChildExit) -> Void)? in
                let callback = state.waiting.removeValue(forKey: pid)
                if state.waiting.isEmpty {
                    state.timer?.cancel()
                    state.timer = nil
                }
                return callback
            }
            callback?(exit)
        }
    }
}

/// What a responder (on its event loop) and the reaper (on its queue) share about one child.
/// The reaper records the exit here first, so the loop is only called back while it still cares
/// (not after its connection closed, when the loop may be shutting down) and a timeout never
/// signals a group that is already gone.
final class ChildWatch: Sendable {
    private struct State {
        var exit: ChildExit?
        var notify = true
        var killed = false
    }

    private let state = NIOLockedValueBox(State())

    var exit: ChildExit? { self.state.withLockedValue { $0.exit } }
    var killed: Bool { self.state.withLockedValue { $0.killed } }

    /// The responder no longer needs to hear about the exit.
    func stopNotifying() { self.state.withLockedValue { $0.notify = false } }

    /// Claims the right to kill the group: `true` once, and only while the script runs (or, when
    /// `evenAfterExit`, while something it started may still hold its output open).
    func claimKill(evenAfterExit: Bool) -> Bool {
        self.state.withLockedValue { state in
            guard !state.killed, state.exit == nil || evenAfterExit else { return false }
            state.killed = true
            return true
        }
    }

    /// Records the exit. Returns whether to notify the responder and whether the server killed it.
    func recordExit(_ exit: ChildExit) -> (notify: Bool, killed: Bool) {
        self.state.withLockedValue { state in
            state.exit = exit
            return (state.notify, state.killed)
        }
    }
}
