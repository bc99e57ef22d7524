import Foundation

// jalm-bench dispatch|spawn|script|expr|render|e2e|iofile|iodb|iohttp — prints figures (lines starting with RESULT are machine-readable).
// bench/run.sh builds it in release mode and runs it beside the C floor (../shared/bench/pingpong.c).
let args = CommandLine.arguments
let mode = args.count > 1 ? args[1] : "all"
let binDir = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    .map { ($0 as NSString).deletingLastPathComponent } ?? "."
let shareDir = ProcessInfo.processInfo.environment["JALM_SHARE"] ?? FileManager.default.currentDirectoryPath
let dataDir = NSTemporaryDirectory() + "jalm-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dataDir) }

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
if mode == "e2e" || mode == "all" {
    try EndToEndBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/e2e", seconds: 5, clients: 64)
}
if mode == "iofile" || mode == "all" {
    try IOFileBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/iofile", seconds: 5, clients: 16)
}
if mode == "iodb" {
    // Not in "all": bench/io-db.sh runs it next to its floors (sqlite3 CLI, pgbench) and a PostgreSQL.
    try IODBBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/iodb", seconds: 5)
}
if mode == "iohttp" {
    // Not in "all": bench/io-http.sh runs it next to its floors (wrk, curl) against an nginx it starts.
    let seconds = ProcessInfo.processInfo.environment["JALM_BENCH_SECONDS"].flatMap(Double.init) ?? 5
    try await IOHTTPBench.run(binDir: binDir, shareDir: shareDir, dataDir: dataDir + "/iohttp", seconds: seconds)
}
