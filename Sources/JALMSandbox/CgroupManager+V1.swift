import JALMCore

extension CgroupManager {
    /// v1: `<root>/<ctrl><own>/jalm/<name>` in each of memory, pids and cpu.
    func prepareV1(name: String, limits: ResourceLimits) throws(RunnerError) -> CgroupLeaf {
        var dirs: [String: String] = [:]
        for c in CgroupMode.controllers {
            guard let own = ownDirectory(controller: c) else {
                throw RunnerError(.sandboxViolation, "this process is in no \(c) cgroup (/proc/self/cgroup)")
            }
            try makeDirectory(own + "/jalm", beneath: own)
            try makeDirectory(own + "/jalm/" + name, beneath: own)
            dirs[c] = own + "/jalm/" + name
        }
        let memory = dirs["memory"]!, pids = dirs["pids"]!, cpu = dirs["cpu"]!
        try setMemoryV1(memory, bytes: limits.memoryBytes, beneath: ownDirectory(controller: "memory")!)
        // memory.oom_control is left enabled (oom_kill_disable 0): an OOM kill, not a hang, ends a bomb.
        try write(pids + "/pids.max", String(limits.pids), beneath: ownDirectory(controller: "pids")!)
        let cpuOwn = ownDirectory(controller: "cpu")!
        try write(cpu + "/cpu.cfs_period_us", "100000", beneath: cpuOwn)
        try write(cpu + "/cpu.cfs_quota_us", String(limits.cpuQuotaMicroseconds), beneath: cpuOwn)
        return CgroupLeaf(mode: .v1, name: name, directories: [memory, pids, cpu], memoryDirectory: memory, pidsDirectory: pids)
    }

    /// memory.limit_in_bytes, and memory.memsw.limit_in_bytes to the same value where swap accounting
    /// exists, so the layer cannot swap. memsw must stay >= the memory limit at every step, so it is
    /// written before (raising) and after (lowering) the memory limit; the first write may fail.
    func setMemoryV1(_ dir: String, bytes: Int64, beneath own: String) throws(RunnerError) {
        let memsw = dir + "/memory.memsw.limit_in_bytes"
        let hasMemsw = SysFile.exists(memsw)
        if hasMemsw { try? write(memsw, String(bytes), beneath: own) }
        try write(dir + "/memory.limit_in_bytes", String(bytes), beneath: own)
        if hasMemsw { try write(memsw, String(bytes), beneath: own) }
    }
}
