import Foundation

// jalm-bench dispatch|spawn|script|expr|render|e2e|idle|journal|engine|iofile|iodb|iohttp|foreach|migrate [--bin DIR] — prints
// figures (lines starting with RESULT are machine-readable). bench/run.sh builds it in release mode and runs
// it beside the C floors (../shared/bench/pingpong.c, bench/fsync-floor.c).
//
// `--bin DIR` (or JALM_BENCH_BIN) drives the jalmd and layers of another build, with JALM_SHARE naming that
// checkout, so that one jalm-bench measures an old and a new daemon in the same run. JALM_BENCH_DATA is the
// folder the data folders go under (default $TMPDIR or /tmp), the one bench/fsync-floor.c measures.
let env = ProcessInfo.processInfo.environment
var args = CommandLine.arguments
var binFlag: String?
if let i = args.firstIndex(of: "--bin"), i + 1 < args.count {
    binFlag = args[i + 1]
    args.removeSubrange(i...(i + 1))
}
let mode = args.count > 1 ? args[1] : "all"
let ownDir = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    .map { ($0 as NSString).deletingLastPathComponent } ?? "."
let binDir = binFlag ?? env["JALM_BENCH_BIN"] ?? ownDir
let shareDir = env["JALM_SHARE"] ?? FileManager.default.currentDirectoryPath
let dataRoot = env["JALM_BENCH_DATA"] ?? NSTemporaryDirectory()
let dataDir = (dataRoot as NSString).appendingPathComponent("jalm-bench-\(getpid())")
try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dataDir) }
print("jalm-bench \(mode): daemon and layers from \(binDir), share \(shareDir), data under \(dataRoot)")

/// A number from the environment, so that the test suite can run the benchmark briefly.
func setting(_ name: String, _ fallback: Double) -> Double {
    ProcessInfo.processInfo.environment[name].flatMap(Double.init) ?? fallback
}
let engine = mode == "engine"

if mode == "dispatch" || mode == "all" {
    try await DispatchBench.run(binDir: binDir, dataDir: dataDir, calls: Int(args.dropFirst(2).first ?? "") ?? 200_000)
}
if mode == "spawn" || mode == "all" {
    try await SpawnBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir, rounds: 10)
}
if mode == "script" || mode == "all" {
    try ScriptBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/script", runs: Int(args.dropFirst(2).first ?? "") ?? 300)
}
if mode == "expr" || mode == "all" {
    try await ExprBench.run(binDir: binDir, dataDir: dataDir, seconds: 2)
}
if mode == "render" || mode == "all" {
    try await RenderBench.run(binDir: binDir, dataDir: dataDir + "/render", seconds: 3)
}
if mode == "e2e" || mode == "all" || engine {
    try EndToEndBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/e2e",
                          seconds: setting("JALM_BENCH_SECONDS", 5), warmup: setting("JALM_BENCH_WARMUP_SECS", 1), clients: 64)
}
if mode == "idle" || mode == "all" || engine {
    try IdleBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/idle", idle: setting("JALM_BENCH_IDLE_SECS", 3))
}
if mode == "journal" || mode == "all" || engine {
    try JournalBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/journal",
                         capsules: Int(setting("JALM_BENCH_JOURNAL_N", 2000)), clients: 8)
}
if mode == "iofile" || mode == "all" {
    try IOFileBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/iofile", seconds: 5, clients: 16)
}
if mode == "iodb" {
    // Not in "all": bench/io-db.sh runs it next to its floors (sqlite3 CLI, pgbench) and a PostgreSQL.
    try IODBBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/iodb", seconds: 5)
}
if mode == "foreach" {
    // Not in "all": issue 14's loop figure, a few minutes long.
    try ForeachBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/foreach",
                         items: Int(setting("JALM_BENCH_ITEMS", 10_000)), rounds: Int(setting("JALM_BENCH_ROUNDS", 3)))
}
if mode == "migrate" {
    // Not in "all": issue 14's migration figure (1,000,000 rows by default), a few minutes long.
    try MigrateBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/migrate",
                         rows: Int(setting("JALM_BENCH_ROWS", 1_000_000)), page: Int(setting("JALM_BENCH_PAGE", 1000)),
                         concurrency: Int(setting("JALM_BENCH_CONCURRENCY", 4)))
}
if mode == "iohttp" {
    // Not in "all": bench/io-http.sh runs it next to its floors (wrk, curl) against an nginx it starts.
    try await IOHTTPBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/iohttp", seconds: setting("JALM_BENCH_SECONDS", 5))
}
