import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Parse ourselves so that a usage error is one line, not ArgumentParser's usage block.
do {
    var command = try ServeCommand.parseAsRoot()
    try command.run()
} catch {
    let code = ServeCommand.exitCode(for: error)
    if code == .success {
        Console.out(ServeCommand.fullMessage(for: error))
    } else if !(error is ExitCode) {
        let message = ServeCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        Console.error("swift-serve-tui: \(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message) (see --help)")
    }
    exit(code.rawValue)
}
