import JALMClient
import Glibc
import JALMWire

/// How the CLI writes numbers, times and tables for people.
enum Format {
    /// `850ms`, `1.3s`, `42s`, `2m05s`, `3h12m`; `-` when unknown.
    static func duration(ms: Int64?) -> String {
        guard let ms, ms >= 0 else { return "-" }
        if ms < 1000 { return "\(ms)ms" }
        if ms < 10_000 { return "\(ms / 1000).\((ms % 1000) / 100)s" }
        let s = ms / 1000
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(twoDigits(s % 60))s" }
        if s < 86400 { return "\(s / 3600)h\(twoDigits((s % 3600) / 60))m" }
        return "\(s / 86400)d\(twoDigits((s % 86400) / 3600))h"
    }

    static func seconds(_ s: Double) -> String { duration(ms: Int64(s * 1000)) }

    /// `3s ago`, `5m ago` for the last week; an ISO 8601 UTC time before that; `-` when unknown.
    static func relative(ms epochMs: Int64?, now: Int64 = nowMs()) -> String {
        guard let epochMs else { return "-" }
        let age = now - epochMs
        if age < 0 || age >= 7 * 86_400_000 { return iso(ms: epochMs) }
        if age < 1000 { return "just now" }
        let s = age / 1000
        if s < 60 { return "\(s)s ago" }
        if s < 3600 { return "\(s / 60)m ago" }
        if s < 86400 { return "\(s / 3600)h ago" }
        return "\(s / 86400)d ago"
    }

    /// `2025-06-01T12:30:05Z`.
    static func iso(ms epochMs: Int64) -> String {
        var seconds = time_t(epochMs / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return "\(parts.tm_year + 1900)-\(twoDigits(Int64(parts.tm_mon + 1)))-\(twoDigits(Int64(parts.tm_mday)))"
            + "T\(twoDigits(Int64(parts.tm_hour))):\(twoDigits(Int64(parts.tm_min))):\(twoDigits(Int64(parts.tm_sec)))Z"
    }

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    private static func twoDigits(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Columns padded to their widest cell; the last column is not padded.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ").trimmedTrailingSpaces
        }.joined(separator: "\n")
    }

    /// At most `width` characters on one line, ending in `…` when cut.
    static func truncate(_ text: String, to width: Int) -> String {
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "⏎")
        guard line.count > width, width > 1 else { return line }
        return String(line.prefix(width - 1)) + "…"
    }

    /// A value on one line: strings bare, anything else as compact JSON.
    static func inline(_ value: JSONValue) -> String {
        if case .string(let s) = value { return s }
        return JSONWriter.string(value, sortedKeys: true)
    }

    /// The width to truncate to: the terminal's, `$COLUMNS`, or 160 when stdout is not a terminal.
    static let terminalWidth: Int = {
        var size = winsize()
        if isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 {
            return Int(size.ws_col)
        }
        if let columns = environment("COLUMNS").flatMap({ Int($0) }), columns > 20 { return columns }
        return 160
    }()
}

extension String {
    fileprivate var trimmedTrailingSpaces: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// Writes one line to stderr.
func printError(_ text: String) {
    // write(2) on the fd: Glibc's `stderr` is a mutable global that Swift 6 refuses to touch.
    let bytes = Array((text + "\n").utf8)
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress! + written, $0.count - written) }
        if n <= 0 { if errno == EINTR { continue } else { return } }
        written += n
    }
}
