#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One process of a daemon's tree as /proc shows it at one instant.
struct ProcessSample {
    var pid: Int32
    var ppid: Int32
    var comm: String
    /// utime + stime of the process (all its threads), in clock ticks.
    var ticks: Int
    /// cutime + cstime: children it has reaped (a layer that exited, a zygote's finished run).
    var childTicks: Int
}

/// jalmd and every process below it (layers are its children; compute-script's zygotes are grandchildren),
/// found by walking /proc/*/stat by ppid. The benchmark's own threads are not in it, so what it sums is
/// the daemon's cost alone.
struct ProcessTree {
    var root: Int32
    var processes: [ProcessSample]

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    init(root: Int32) {
        self.root = root
        var all: [Int32: ProcessSample] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name), let s = Self.stat(pid) else { continue }
            all[pid] = s
        }
        var children: [Int32: [Int32]] = [:]
        for s in all.values { children[s.ppid, default: []].append(s.pid) }
        var found: [ProcessSample] = []
        var queue = [root]
        while let pid = queue.popLast() {
            guard let s = all[pid] else { continue }
            found.append(s)
            queue += children[pid] ?? []
        }
        processes = found
    }

    /// Every tick the tree has spent: each live process's own, plus what the live ones have reaped. A
    /// process that exits between two samples moves from its own figure into its parent's cutime, so the
    /// difference of two totals counts each tick once.
    var totalTicks: Int { processes.reduce(0) { $0 + $1.ticks + $1.childTicks } }
    /// jalmd's own threads only.
    var rootTicks: Int { processes.first { $0.pid == root }?.ticks ?? 0 }

    /// Parses /proc/PID/stat. The name (field 2) is in parentheses and may hold spaces, so fields are
    /// counted from the last ')': field 3 (state) is the first after it, so field N is at index N - 3.
    static func stat(_ pid: Int32) -> ProcessSample? {
        guard let text = readProcFile("/proc/\(pid)/stat"),
              let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let comm = String(text[text.index(after: open)..<close])
        let f = text[text.index(after: close)...].split(separator: " ")
        guard f.count > 14, let ppid = Int32(f[1]), let ut = Int(f[11]), let st = Int(f[12]),
              let cut = Int(f[13]), let cst = Int(f[14]) else { return nil }
        return ProcessSample(pid: pid, ppid: ppid, comm: comm, ticks: ut + st, childTicks: cut + cst)
    }

    /// A `kB` field of /proc/PID/status (VmRSS) or /proc/PID/smaps_rollup (Pss), in KiB; nil when the
    /// file cannot be read (gone, or not ours to read).
    static func kilobytes(_ field: String, in file: String) -> Int? {
        guard let text = readProcFile(file) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            // "VmRSS:\t   11964 kB": a tab, then spaces.
            return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    /// /proc files report a size of 0, so they are read until EOF rather than by their size.
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            if n < 0 { return nil }
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The daemon's CPU over one phase: two samples of the tree, taken right before and right after the load.
struct CPUUse {
    var jalmdTicks: Int
    var totalTicks: Int
    /// Per process name (comm), what the processes alive at both samples spent; reaped children are under
    /// "(exited children)".
    var byName: [String: Int]

    init(before: ProcessTree, after: ProcessTree) {
        jalmdTicks = after.rootTicks - before.rootTicks
        totalTicks = after.totalTicks - before.totalTicks
        let old = Dictionary(before.processes.map { ($0.pid, $0) }, uniquingKeysWith: { a, _ in a })
        var names: [String: Int] = [:]
        for p in after.processes {
            let was = old[p.pid]
            names[p.comm, default: 0] += p.ticks - (was?.ticks ?? 0)
            let reaped = p.childTicks - (was?.childTicks ?? 0)
            if reaped != 0 { names["(exited children)", default: 0] += reaped }
        }
        // A process alive before and gone after is now inside its parent's cutime for its whole life; what
        // it had spent before the phase is not the phase's.
        for pid in Set(old.keys).subtracting(after.processes.map(\.pid)) {
            names["(exited children)", default: 0] -= old[pid]!.ticks + old[pid]!.childTicks
        }
        byName = names
    }

    /// Microseconds of CPU per capsule.
    func perCapsule(_ ticks: Int, _ capsules: Int) -> Double {
        Double(ticks) / ProcessTree.ticksPerSecond * 1e6 / Double(max(capsules, 1))
    }
}
