#if canImport(Glibc)
import Glibc
#endif
import Logging

/// Logs to journald with structured fields (the native protocol, systemd.journal-fields(7)), used when
/// stderr is the journal (`$JOURNAL_STREAM`). Each metadata key becomes a field: `layer.name` →
/// `LAYER_NAME`, so `journalctl -u jalmd LAYER_NAME=io-http` selects one layer's lines.
struct JournalLogHandler: LogHandler {
    static let socketPath = "/run/systemd/journal/socket"
    let label: String
    let fd: Int32
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// sd_journal_stream_fd(3): `JOURNAL_STREAM` is `device:inode` of the stream systemd connected stderr to;
    /// when stderr is still that stream, the journal is where this process's output goes.
    static func stderrIsJournal(_ environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":").compactMap { UInt64($0) }
        var st = stat()
        guard parts.count == 2, fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == parts[0] && UInt64(st.st_ino) == parts[1]
    }

    /// A datagram socket for the journal, or nil.
    static func openSocket() -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        return fd >= 0 ? fd : nil
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        var fields: [(String, String)] = [
            ("MESSAGE", rendered.isEmpty ? "\(event.message)" : "\(event.message) (\(rendered))"),
            ("PRIORITY", String(Self.priority(event.level))),
            ("SYSLOG_IDENTIFIER", "jalmd"),
            ("JALM_LEVEL", event.level.rawValue),
            ("JALM_SOURCE", event.source),
            ("CODE_FILE", event.file), ("CODE_LINE", String(event.line)), ("CODE_FUNC", event.function),
        ]
        for (key, value) in all.sorted(by: { $0.key < $1.key }) {
            if let name = Self.fieldName(key) { fields.append((name, "\(value)")) }
        }
        send(Self.encode(fields))
    }

    func send(_ datagram: [UInt8]) {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in Self.socketPath.utf8.enumerated() { raw[i] = b }
        }
        let sent = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                datagram.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa,
                                                  socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
        // A line the journal did not take (too big, socket gone) still goes to stderr, i.e. to the journal
        // through the stream, without fields.
        if sent < 0 {
            let line = "\(String(decoding: datagram.prefix(4096), as: UTF8.self))\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
        }
    }

    /// `KEY=value\n` per field; a value with a newline uses the binary form `KEY\n<u64 le length>value\n`.
    static func encode(_ fields: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (key, value) in fields {
            out += Array(key.utf8)
            let bytes = Array(value.utf8)
            if bytes.contains(UInt8(ascii: "\n")) {
                out.append(UInt8(ascii: "\n"))
                withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { out += $0 }
            } else {
                out.append(UInt8(ascii: "="))
            }
            out += bytes
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// `layer.name` → `LAYER_NAME`: A–Z, 0–9 and `_`, not starting with `_` or a digit, at most 64 bytes.
    static func fieldName(_ key: String) -> String? {
        let mapped = String(key.uppercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "_" })
        guard let first = mapped.first, first.isLetter, mapped.utf8.count <= 64 else { return nil }
        return ["MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER"].contains(mapped) ? "JALM_" + mapped : mapped
    }

    /// swift-log levels onto syslog priorities (0 emerg … 7 debug).
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }
}
