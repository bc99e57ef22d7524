#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Idle memory (and idle CPU): a daemon started on a fresh data folder, healthy, then left alone for `idle` seconds (the
/// layers and compute-script's zygotes are up by then). Sums VmRSS (/proc/PID/status) and Pss
/// (/proc/PID/smaps_rollup) over jalmd and every process below it. RSS counts a shared library once per
/// process that maps it; PSS splits shared pages among their users, so it is what the tree costs the machine.
enum IdleBench {
    static func run(binDir: String, shareDir: String, dataDir: String, idle: Double) throws {
        let socket = dataDir + "/bench.sock"
        let daemon = try BenchDaemon(binDir: binDir, shareDir: shareDir, dataDir: dataDir, socket: socket)
        defer { daemon.stop() }
        // The CPU a daemon spends with nothing to do (timers, polls) is part of every per-capsule CPU figure,
        // the more so the fewer capsules a second: it is measured over the second half of the idle wait.
        usleep(useconds_t(idle / 2 * 1e6))
        let start = ProcessTree(root: daemon.pid)
        usleep(useconds_t(idle / 2 * 1e6))
        let tree = ProcessTree(root: daemon.pid)
        let cpu = CPUUse(before: start, after: tree)
        let idleCPU = Double(cpu.totalTicks) / ProcessTree.ticksPerSecond * 1e3 / (idle / 2)
        var rssKiB = 0, pssKiB = 0, unreadable: [String] = []
        var byName: [String: (count: Int, rss: Int, pss: Int)] = [:]
        print("idle daemon after \(fmt(idle)) s: \(tree.processes.count) processes")
        for p in tree.processes {
            // A process we may not read (another user, or gone) is named, never counted as zero in silence.
            guard let rss = ProcessTree.kilobytes("VmRSS", in: "/proc/\(p.pid)/status"),
                  let pss = ProcessTree.kilobytes("Pss", in: "/proc/\(p.pid)/smaps_rollup")
            else { unreadable.append("\(p.comm)[\(p.pid)]"); continue }
            rssKiB += rss
            pssKiB += pss
            byName[p.comm, default: (0, 0, 0)].count += 1
            byName[p.comm]!.rss += rss
            byName[p.comm]!.pss += pss
            print("  \(p.pid) (parent \(p.ppid)) \(p.comm): RSS \(fmt(Double(rss) / 1024)) MiB, PSS \(fmt(Double(pss) / 1024)) MiB")
        }
        for (name, v) in byName.sorted(by: { $0.value.rss > $1.value.rss }) {
            print("  \(name) ×\(v.count): RSS \(fmt(Double(v.rss) / 1024)) MiB, PSS \(fmt(Double(v.pss) / 1024)) MiB")
        }
        if !unreadable.isEmpty { throw BenchError("cannot read the memory of \(unreadable.joined(separator: ", "))") }
        print("idle total: RSS \(fmt(Double(rssKiB) / 1024)) MiB (\(fmt(Double(rssKiB) * 1024 / 1e6)) MB), PSS \(fmt(Double(pssKiB) / 1024)) MiB in \(tree.processes.count) processes")
        print("idle CPU over the last \(fmt(idle / 2)) s: \(fmt(idleCPU)) ms per second (jalmd \(cpu.jalmdTicks) ticks, all \(cpu.totalTicks))")
        print("RESULT idle_cpu_ms_per_s \(fmt(idleCPU))")
        print("RESULT idle_rss_mib \(fmt(Double(rssKiB) / 1024))")
        print("RESULT idle_pss_mib \(fmt(Double(pssKiB) / 1024))")
        print("RESULT idle_processes \(tree.processes.count)")
    }
}
