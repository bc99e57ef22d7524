#if canImport(Glibc)
import Glibc
#endif
import JALMCore

extension CgroupManager {
    /// v2: `<own>/jalm-<name>` with memory.max, memory.swap.max=0, memory.oom.group=1, pids.max, cpu.max.
    func prepareV2(name: String, limits: ResourceLimits) throws(RunnerError) -> CgroupLeaf {
        guard let own = ownDirectory(controller: ""), ownPath(controller: "") != "/" else {
            // The root cgroup holds every process of the host: it is never the daemon's to reorganise.
            throw RunnerError(.sandboxViolation, "this process is in the root cgroup or none; run it under "
                + "systemd with Delegate=yes")
        }
        try delegateOnce(own)
        let leaf = own + "/jalm-" + name
        try makeDirectory(leaf, beneath: own)
        try write(leaf + "/memory.max", String(limits.memoryBytes), beneath: own)
        if SysFile.exists(leaf + "/memory.swap.max") { try write(leaf + "/memory.swap.max", "0", beneath: own) }
        // oom.group: an OOM kill takes the whole leaf, never leaves half a layer running.
        try write(leaf + "/memory.oom.group", "1", beneath: own)
        try write(leaf + "/pids.max", String(limits.pids), beneath: own)
        try write(leaf + "/cpu.max", "\(limits.cpuQuotaMicroseconds) 100000", beneath: own)
        return CgroupLeaf(mode: .v2, name: name, directories: [leaf], memoryDirectory: leaf, pidsDirectory: leaf)
    }

    /// On first use: move the daemon's processes into `<own>/supervisor` and enable memory, pids and cpu
    /// for the children. cgroup v2's "no internal processes" rule makes the move necessary: a cgroup with
    /// processes cannot hand controllers to children (cgroup-v2.rst, "No Internal Process Constraint").
    func delegateOnce(_ own: String) throws(RunnerError) {
        try delegated.withLock { (done: inout Bool) throws(RunnerError) in
            guard !done else { return }
            let supervisor = own + "/supervisor"
            try makeDirectory(supervisor, beneath: own)
            let pids = (SysFile.read(own + "/cgroup.procs") ?? "").split(separator: "\n")
            for pid in pids {
                try check(supervisor + "/cgroup.procs", beneath: own)
                let e = SysFile.write(supervisor + "/cgroup.procs", String(pid), create: true)
                // ESRCH: the process ended between the read and the write.
                if e != 0 && e != ESRCH {
                    throw RunnerError(.sandboxViolation, "moving pid \(pid) into \(supervisor): \(SysFile.errnoText(e))")
                }
            }
            try write(own + "/cgroup.subtree_control", "+memory +pids +cpu", beneath: own)
            done = true
        }
    }
}
