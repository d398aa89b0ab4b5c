#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import NIOCore

/// The names of a loop's connection addresses, remembered: a loop's connections mostly come from the
/// same client address and all arrive on the same local one, and formatting an address (`inet_ntop`
/// and string building) for both ends cost ~1 % of a `Connection: close` request (bench scenario b).
///
/// Used on one event loop only. The names are exactly `HTTPConnectionHandler.describe`'s.
final class AddressNames {
    private var lastPeer: (key: Key, name: String)?
    private var lastLocal: (key: Key, name: String)?

    /// The client's address as python shows it (`127.0.0.1`, `::1`), without the port.
    func peer(_ address: SocketAddress?) -> String {
        Self.name(of: address, withPort: false, last: &self.lastPeer)
    }

    /// The local address with its port (`127.0.0.1:8000`, `[::1]:8000`).
    func local(_ address: SocketAddress?) -> String {
        Self.name(of: address, withPort: true, last: &self.lastLocal)
    }

    private static func name(of address: SocketAddress?, withPort: Bool, last: inout (key: Key, name: String)?) -> String {
        guard let address, let key = Key(address, withPort: withPort) else {
            return HTTPConnectionHandler.describe(address, withPort: withPort)
        }
        if let last, last.key == key { return last.name }
        let name = HTTPConnectionHandler.describe(address, withPort: withPort)
        last = (key, name)
        return name
    }

    /// An IP address (and port) as plain numbers, compared instead of formatted.
    struct Key: Equatable {
        var family: UInt8
        var high: UInt64
        var low: UInt64
        var port: UInt16

        init?(_ address: SocketAddress, withPort: Bool) {
            switch address {
            case .v4(let v4):
                self.family = 4
                self.high = 0
                self.low = UInt64(v4.address.sin_addr.s_addr)
                self.port = withPort ? v4.address.sin_port : 0
            case .v6(let v6):
                var bytes = v6.address.sin6_addr
                let (high, low) = withUnsafeBytes(of: &bytes) { raw in
                    (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                }
                self.family = 6
                self.high = high
                self.low = low
                self.port = withPort ? v6.address.sin6_port : 0
            case .unixDomainSocket:
                return nil
            }
        }
    }
}
