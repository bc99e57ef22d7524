#if canImport(Glibc)
import Glibc
#endif

/// A window onto a CSV file that slides forward: it reads with pread from an absolute position, a chunk
/// at a time, and hands out complete records (`CSV.scan`), keeping in memory only the bytes of the record
/// not yet complete. So a page of rows is read in memory bounded by the page, never by the file, and a
/// record split across chunks parses as in one read. No byte at or past `budgetEnd` is ever read.
struct CSVWindow {
    /// Bytes read at a time when no record is pending (64 KiB); `IOFileHandler.readCSV` takes another for tests.
    static let chunkBytes = 64 * 1024

    /// Why the window stopped.
    enum Stop: Error {
        case malformed(CSV.Malformed)
        /// The records asked for do not end before `budgetEnd`.
        case overBudget
        case failed(Errno.Code)
    }

    private let fd: Int32
    private let budgetEnd: Int
    private let fileSize: Int
    private let chunkBytes: Int
    /// File bytes from `base` on; `cursor` indexes the next unread record (a record boundary).
    private var bytes: [UInt8] = []
    private var base: Int
    private var cursor = 0
    /// The line number at `cursor`, counting the line at the window's start as 1.
    private(set) var line = 1
    /// The file's end was reached.
    private(set) var atEnd = false

    /// A window on `fd` (a regular file of `fileSize` bytes) from byte `position`, reading nothing at or
    /// past `budgetEnd`.
    init(fd: Int32, at position: Int, budgetEnd: Int, fileSize: Int, chunkBytes: Int = Self.chunkBytes) {
        self.fd = fd
        self.base = position
        self.budgetEnd = budgetEnd
        self.fileSize = fileSize
        self.chunkBytes = max(chunkBytes, 1)
    }

    /// The absolute byte position of the next record.
    var position: Int { base + cursor }

    /// Skips a UTF-8 byte-order mark at the window's start (one that does not fit the budget is not skipped:
    /// nothing after it would fit either).
    mutating func skipByteOrderMark() throws(Stop) {
        while bytes.count - cursor < CSV.byteOrderMark.count && !atEnd {
            do { try fill() } catch .overBudget { return } catch { throw error }
        }
        if bytes[cursor...].starts(with: CSV.byteOrderMark) { cursor += CSV.byteOrderMark.count }
    }

    /// Up to `count` records from `position` on: fewer only at the file's end.
    mutating func records(_ count: Int, delimiter: UInt8) throws(Stop) -> [[String]] {
        var out: [[String]] = []
        while true {
            switch CSV.scan(bytes, from: cursor, line: line, delimiter: delimiter, maxRecords: count - out.count, final: atEnd) {
            case .failure(let m): throw .malformed(m)
            case .success(let scan):
                out += scan.records
                cursor = scan.end
                line = scan.line
            }
            if out.count >= count || atEnd { return out }
            try fill()
        }
    }

    /// Whether a data row follows `position`: skips blank lines (CR and LF) up to the first other byte,
    /// which begins a record. True also when the budget ends first, as the file then goes on.
    mutating func skipBlankLines() throws(Stop) -> Bool {
        while true {
            while cursor < bytes.count {
                guard bytes[cursor] == 10 || bytes[cursor] == 13 else { return true }
                cursor += 1
            }
            if atEnd { return false }
            do { try fill() } catch .overBudget { return true } catch { throw error }
        }
    }

    /// Drops the bytes before `cursor` and reads more after the rest: a chunk, or as many bytes as are
    /// pending when that is more (a record longer than a chunk doubles the read, so scanning it again
    /// stays linear). Sets `atEnd` at the file's end; throws `overBudget` when `budgetEnd` is reached first.
    private mutating func fill() throws(Stop) {
        if cursor > 0 {
            bytes.removeFirst(cursor)
            base += cursor
            cursor = 0
        }
        let held = bytes.count
        let room = budgetEnd - (base + held)
        guard room > 0 else {
            if base + held >= fileSize { atEnd = true; return }
            throw .overBudget
        }
        let want = min(max(chunkBytes, held), room)
        bytes.append(contentsOf: repeatElement(0, count: want))
        let result = bytes.withUnsafeMutableBytes { all in
            FileIO.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: all[held...]), at: base + held)
        }
        switch result {
        case .success(let n):
            bytes.removeLast(want - n)
            if n == 0 { atEnd = true }
        case .failure(let e):
            throw .failed(e)
        }
    }
}
